"""Expected values: what every check must produce on every case.

The float64 NumPy reference gives the value.  The same computation is run in
float32, in NumPy (and for Part B in PyTorch too), and an element is compared only where both
float32 runs stay `float32_margin` times inside the check's tolerance: a
correct float32 submission can never fail on an element the arithmetic itself
cannot pin down (ReLU runs that cross a kink, CrossEntropyLoss running off to
-inf).  Once a loss curve leaves that region, the rest of it is not compared
either: the trajectories have parted.  Where both the float64 and the float32
runs are non-finite, a non-finite answer is expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import network
from reference.cases import Case, CaseBook
from reference.spec import Check, Spec
from reference.tolerance import agrees


@dataclass(frozen=True)
class Expected:
    check_id: str
    case: Case
    value: np.ndarray  # float64; may hold inf / nan where the variant diverges
    comparable: np.ndarray  # bool, same shape: the elements that are graded

    def to_dict(self) -> dict:
        return {
            "check": self.check_id,
            "case": self.case.to_dict(),
            "value": [_json_number(v) for v in self.value.tolist()],
            "compared": self.comparable.tolist(),
        }

    @classmethod
    def from_dict(cls, record: dict) -> Expected:
        """The inverse of `to_dict` (non-finite values come back from their names)."""
        case = record["case"]
        value = np.array([float(v) for v in record["value"]], dtype=np.float64)
        return cls(record["check"], Case(case["id"], tuple(case["x"]), tuple(case["y"]), tuple(case["w"]), case["hidden"]), value, np.array(record["compared"], dtype=bool))


def _json_number(value: float):
    return value if np.isfinite(value) else str(value)


def call_key(check: Check, case: Case) -> tuple:
    """Checks that share an entry point, arguments and case share one call."""
    return (check.entry, tuple(sorted(check.args.items())), case.id, case.x, case.y, case.w)


def reference_quantities(check: Check, case: Case, dtype=np.float64, engine: str = "numpy") -> dict:
    """Every quantity the check's entry point yields, computed by one reference."""
    if engine == "numpy":
        impl = network
    else:  # imported here: a grader whose answer key is cached never loads torch itself
        from reference import autograd as impl
    args = check.args
    act, loss = args.get("act", "sigmoid"), args.get("loss", "mse")
    kind = check.entry.split("_", 1)[1]
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "forward":
            if engine == "numpy":
                f = network.forward(case.x, case.w, act, dtype)
                return {"h": f.h, "o": f.o}
            x, _, w = impl.as_tensors(case.x, case.y, case.w, dtype)
            h, o = impl.forward(x, w, act)
            return {"h": h.numpy(), "o": o.numpy()}
        if kind == "backward":
            return {"gradients": impl.gradients(case.x, case.y, case.w, act, loss, dtype)}
        w, losses = impl.train(case.x, case.y, case.w, args["lr"], args["epochs"], act, loss, dtype)
        return {"final_weights": w, "loss_curve": losses, "loss": losses[:1]}


def reference_runs(check: Check, case: Case) -> tuple[dict, ...]:
    """The float64 reference, and the float32 runs that bound what float32 can pin
    down: NumPy's for every check, and PyTorch's too for Part B."""
    runs = [reference_quantities(check, case), reference_quantities(check, case, np.float32, "numpy")]
    if check.part == "torch":
        runs.append(reference_quantities(check, case, np.float32, "torch"))
    return tuple(runs)


def expected_from_runs(check: Check, case: Case, runs: tuple[dict, ...], float32_margin: float) -> Expected:
    exact, *float32_runs = (np.atleast_1d(np.asarray(r[check.quantity], dtype=np.float64)) for r in runs)
    allowed = check.tolerance.allowed(np.nan_to_num(exact)) / float32_margin
    comparable = np.ones(exact.shape, dtype=bool)
    for run in float32_runs:
        comparable &= agrees(run, exact, allowed)
    if check.quantity == "loss_curve":
        comparable = np.logical_and.accumulate(comparable)  # the trajectories have parted
    return Expected(check.id, case, exact, comparable)


def expected_values(spec: Spec, book: CaseBook) -> list[Expected]:
    """Every (check, case) of the spec, each reference run done once."""
    runs: dict[tuple, tuple[dict, ...]] = {}
    result = []
    for check in spec.checks:
        for case in book.for_check(check):
            key = call_key(check, case)
            if key not in runs:
                runs[key] = reference_runs(check, case)
            result.append(expected_from_runs(check, case, runs[key], spec.float32_margin))
    return result

"""Expected values: what every check must produce on every case.

The assignment's reference gives, for a check on a case, its runs
(`reference_runs`): the float64 value first, then float32 runs of the same
computation (NumPy's, and for a torch part PyTorch's too).  An element is
compared only where every float32 run stays `float32_margin` times inside the
check's tolerance: a correct float32 submission can never fail on an element
the arithmetic itself cannot pin down (a ReLU unit's kink, a
divergent run off to -inf).  Once a curve leaves that region, the rest of it is not
compared either: the trajectories have parted.  Where both the float64 and the
float32 runs are non-finite, a non-finite answer is expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.core.cases import Case, CaseBook
from grader.core.spec import Check, Spec, SpecError
from grader.core.tolerance import agrees


@dataclass(frozen=True)
class Expected:
    check_id: str
    case: Case
    value: np.ndarray  # float64, flat; may hold inf / nan where the variant diverges
    comparable: np.ndarray  # bool, flat: the elements that are graded
    shape: tuple[int, ...] = ()  # the value's shape as the entry point returns it

    def to_dict(self) -> dict:
        return {
            "check": self.check_id,
            "case": self.case.to_dict(),
            "value": [_json_number(v) for v in self.value.tolist()],
            "compared": self.comparable.tolist(),
            "shape": list(self.shape),
        }

    @classmethod
    def from_dict(cls, record: dict) -> Expected:
        """The inverse of `to_dict` (non-finite values come back from their names)."""
        value = np.array([float(v) for v in record["value"]], dtype=np.float64)
        return cls(
            record["check"],
            Case.from_dict(record["case"]),
            value,
            np.array(record["compared"], dtype=bool),
            tuple(record["shape"]),
        )


def _json_number(value: float):
    return value if np.isfinite(value) else str(value)


def call_key(check: Check, case: Case) -> tuple:
    """Checks that share an entry point, arguments and case share one call."""
    return (check.entry, tuple(sorted(check.args.items())), case.id, case.key)


def expected_from_runs(
    check: Check, case: Case, runs: tuple[dict, ...], float32_margin: float
) -> Expected:
    exact, *float32_runs = (
        np.atleast_1d(np.asarray(r[check.quantity], dtype=np.float64)) for r in runs
    )
    shape = exact.shape
    exact = exact.reshape(-1)
    allowed = check.tolerance.allowed(np.nan_to_num(exact)) / float32_margin
    comparable = np.ones(exact.shape, dtype=bool)
    for run in float32_runs:
        comparable &= agrees(run.reshape(-1), exact, allowed)
    if check.measure.curve:
        comparable = np.logical_and.accumulate(comparable)  # the trajectories have parted
    return Expected(check.id, case, exact, comparable, shape)


def expected_values(spec: Spec, book: CaseBook) -> list[Expected]:
    """Every (check, case) of the spec, each reference run done once."""
    runs: dict[tuple, tuple[dict, ...]] = {}
    result = []
    for check in spec.checks:
        for case in book.for_check(check):
            key = call_key(check, case)
            if key not in runs:
                runs[key] = spec.reference.reference_runs(check, case)
                missing = [
                    n
                    for n in spec.contract.entry_points[check.entry].quantities
                    if any(n not in run for run in runs[key])
                ]
                if missing:
                    raise SpecError(
                        f"{spec.reference.source}: reference_runs: {check.entry} yields no "
                        f"{', '.join(missing)} (check {check.id!r})"
                    )
            result.append(expected_from_runs(check, case, runs[key], spec.float32_margin))
    return result

"""The reference's value of every quantity of an entry point on a case.

The float64 NumPy network gives the value; the same computation in float32,
in NumPy (and for Part B in PyTorch too), bounds what a correct float32
submission can pin down (grader/core/expected.py turns the runs into the elements
that are compared).
"""

from __future__ import annotations

import numpy as np

from grader.core.cases import Case
from grader.core.spec import Check
from reference.backprop import network
from reference.backprop.cases import xyw


def reference_quantities(check: Check, case: Case, dtype=np.float64, engine: str = "numpy") -> dict:
    """Every quantity the check's entry point yields, computed by one reference."""
    if engine == "numpy":
        impl = network
    else:  # imported here: a grader whose answer key is cached never loads torch itself
        from reference.backprop import autograd as impl
    args = check.args
    act, loss = args["act"], args.get("loss", "mse")
    kind = check.entry.split("_", 1)[1]
    x, y, w = xyw(case)
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "forward":
            if engine == "numpy":
                f = network.forward(x, w, act, dtype)
                return {"h": f.h, "o": f.o}
            tx, _, tw = impl.as_tensors(x, y, w, dtype)
            h, o = impl.forward(tx, tw, act)
            return {"h": h.numpy(), "o": o.numpy()}
        if kind == "backward":
            return {"gradients": impl.gradients(x, y, w, act, loss, dtype)}
        final, losses = impl.train(x, y, w, args["lr"], args["epochs"], act, loss, dtype)
        return {"final_weights": final, "loss_curve": losses, "loss": losses[:1]}


def reference_runs(check: Check, case: Case) -> tuple[dict, ...]:
    """The float64 reference, and the float32 runs that bound what float32 can pin
    down: NumPy's for every check, and PyTorch's too for Part B."""
    runs = [
        reference_quantities(check, case),
        reference_quantities(check, case, np.float32, "numpy"),
    ]
    if check.part == "torch":
        runs.append(reference_quantities(check, case, np.float32, "torch"))
    return tuple(runs)

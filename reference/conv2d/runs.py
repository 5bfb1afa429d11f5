"""The reference value of a check on a case: NumPy in float64, then the float32 runs.

Part B's checks get a third run, PyTorch's own conv2d and autograd in float32,
so an element is graded only where both ways of computing it in float32 agree
with the float64 value (grader/core/expected.py).
"""

from __future__ import annotations

import numpy as np

from reference.conv2d.contract import is_forward
from reference.conv2d.variations import Variation, arrays, quantities

CASE_INPUTS = ("x", "weight", "bias", "dy")
EXACT = Variation()


def torch_quantities(entry: str, args: dict, values: dict, dtype: str) -> dict:
    """The same quantities from torch.nn.functional.conv2d and autograd, in `dtype` ("float64", "float32")."""
    import torch

    tensors = {
        name: torch.tensor(value, dtype=getattr(torch, dtype)) for name, value in values.items()
    }
    x, weight, bias = (tensors[name].requires_grad_() for name in ("x", "weight", "bias"))
    y = torch.nn.functional.conv2d(x, weight, bias, stride=args["stride"], padding=args["padding"])
    if is_forward(entry):
        return {"y": y.detach().numpy()}
    y.backward(tensors["dy"])
    return {"dx": x.grad.numpy(), "dweight": weight.grad.numpy(), "dbias": bias.grad.numpy()}


def reference_runs(check, case) -> tuple[dict, ...]:
    """({quantity: float64 array}, the same in float32 NumPy[, in float32 PyTorch for part torch])."""
    exact = quantities(EXACT, check.entry, check.args, arrays(case, CASE_INPUTS))
    single = quantities(EXACT, check.entry, check.args, arrays(case, CASE_INPUTS, np.float32))
    runs = [exact, single]
    if check.part == "torch":
        runs.append(torch_quantities(check.entry, check.args, arrays(case, CASE_INPUTS), "float32"))
    return tuple({name: np.asarray(value) for name, value in run.items()} for run in runs)

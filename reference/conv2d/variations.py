"""The convolution computed with one mistake built in: the engine of the catalogue.

`Variation()` is the reference itself (a test holds it to `convolution.py` and
to PyTorch); each field is one way a hand-in gets the layer wrong, named by what
the student did.  A forward-pass mistake (a flipped kernel, one input channel,
one-sided padding, an output a row short) keeps a backward pass that is the
exact derivative of that wrong forward pass: what autograd computes, and what a
careful student derives by hand for the layer they believe in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.conv2d import convolution
from reference.conv2d.contract import is_forward


@dataclass(frozen=True)
class Variation:
    """One mistake; every default is what the reference does."""

    # forward pass (the backward pass is its exact derivative)
    flip_kernel: bool = False  # true convolution: the kernel turned by 180 degrees
    pad_where: str = "both"  # "after" / "before": all 2*padding zeros on one side of each axis
    channel: str = "all"  # "last" / "first": only one input channel reaches y (= where += belongs)
    out_shrink: int = 0  # output rows and columns fewer than (H + 2p - kH) // s + 1
    # backward pass by hand
    backward_stride: int | None = (
        None  # the windows of the backward pass stepped by this, not the stride
    )
    bias_sum: str = "all"  # "per-sample" / "per-position" / "first-sample": dbias not summed over all of n, i, j
    weight_sample: str = (
        "all"  # "first" / "last": dweight from one sample, not summed over the batch
    )
    dx_kernel_flipped: bool = False  # dy spread back through the kernel turned by 180 degrees
    dy_ones: bool = False  # the upstream gradient dy ignored (the gradient of y.sum())


def _flip(weight):
    return weight[:, :, ::-1, ::-1]


def _effective_weight(v: Variation, weight):
    """The kernel the variation's forward pass really uses, as a function of the weight given."""
    if v.flip_kernel:
        weight = _flip(weight)
    if v.channel != "all":
        kept = np.zeros(weight.shape[1], dtype=bool)
        kept[-1 if v.channel == "last" else 0] = True
        weight = weight * kept[None, :, None, None]
    return weight


def _back_to_weight(v: Variation, dweight_effective):
    """d/dweight through `_effective_weight` (a flip is its own inverse; a mask masks)."""
    if v.channel != "all":
        kept = np.zeros(dweight_effective.shape[1], dtype=bool)
        kept[-1 if v.channel == "last" else 0] = True
        dweight_effective = dweight_effective * kept[None, :, None, None]
    return _flip(dweight_effective) if v.flip_kernel else dweight_effective


def forward(v: Variation, x, weight, bias, stride: int, padding: int) -> np.ndarray:
    return convolution.forward(
        x,
        _effective_weight(v, weight),
        bias,
        stride,
        padding,
        pad_where=v.pad_where,
        out_shrink=v.out_shrink,
    )


def backward(
    v: Variation, x, weight, dy, stride: int, padding: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if v.dy_ones:
        dy = np.ones_like(dy)
    if v.out_shrink:  # the loops run over the positions the wrong output size has
        dy = dy[:, :, : dy.shape[2] - v.out_shrink, : dy.shape[3] - v.out_shrink]
    effective = _effective_weight(v, weight)
    spread = _flip(effective) if v.dx_kernel_flipped else None
    dx, dweight, dbias = convolution.backward(
        x,
        effective,
        dy,
        stride,
        padding,
        pad_where=v.pad_where,
        backward_stride=v.backward_stride,
        dx_weight=spread,
    )
    if v.weight_sample != "all":
        n = 0 if v.weight_sample == "first" else x.shape[0] - 1
        _, dweight, _ = convolution.backward(
            x[n : n + 1],
            effective,
            dy[n : n + 1],
            stride,
            padding,
            pad_where=v.pad_where,
            backward_stride=v.backward_stride,
        )
    dbias = {
        "all": lambda: dbias,
        "per-sample": lambda: dy.sum(axis=(2, 3)),
        "per-position": lambda: dy.sum(axis=0),
        "first-sample": lambda: dy[0].sum(axis=(1, 2)),
    }[v.bias_sum]()
    return dx, _back_to_weight(v, dweight), dbias


def arrays(case, names, dtype=np.float64) -> dict:
    """The case's named inputs as arrays of `dtype`."""
    return {name: np.asarray(case.inputs[name], dtype=dtype) for name in names}


def quantities(v: Variation, entry: str, args: dict, values: dict) -> dict:
    """Every quantity `entry` yields, with the variation built in."""
    stride, padding = args["stride"], args["padding"]
    if is_forward(entry):
        return {"y": forward(v, values["x"], values["weight"], values["bias"], stride, padding)}
    dx, dweight, dbias = backward(v, values["x"], values["weight"], values["dy"], stride, padding)
    return {"dx": dx, "dweight": dweight, "dbias": dbias}


def predict(variation: Variation, check, case, book) -> dict:
    """What the check's entry point returns on `case` with the mistake `variation` built in."""
    return quantities(
        variation, check.entry, check.args, arrays(case, ("x", "weight", "bias", "dy"))
    )

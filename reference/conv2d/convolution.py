"""The reference: 2-D convolution as deep-learning libraries define it (a cross-correlation).

    y[n, o, i, j] = bias[o] + sum_{c, k, l} weight[o, c, k, l] * xp[n, c, i*stride + k, j*stride + l]

where xp is x with `padding` zeros on every side of its last two axes, x of shape
(N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,), and y of shape
(N, C_out, H_out, W_out), H_out = (H + 2*padding - kH) // stride + 1.

The backward pass is the chain rule of that sum for an upstream gradient dy of y's shape:

    dbias[o]             = sum_{n, i, j} dy[n, o, i, j]
    dweight[o, c, k, l]  = sum_{n, i, j} dy[n, o, i, j] * xp[n, c, i*stride + k, j*stride + l]
    dxp[n, c, i*stride + k, j*stride + l] += sum_o dy[n, o, i, j] * weight[o, c, k, l]

and dx is dxp without its padding.  The code runs in the dtype of its inputs
(float64 for the expected value, float32 for the runs that say which elements
the arithmetic pins down).  The catalogue's mistakes are arguments here
(`reference.conv2d.variations`); every default is the right computation.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def pad(x: np.ndarray, padding: int, where: str = "both") -> np.ndarray:
    """x with zeros around its last two axes: `padding` on each side, or all 2*padding on one."""
    before, after = {
        "both": (padding, padding),
        "after": (0, 2 * padding),
        "before": (2 * padding, 0),
    }[where]
    return np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)))


def windows(
    xp: np.ndarray, kernel: tuple[int, int], stride: int, out: tuple[int, int]
) -> np.ndarray:
    """(N, C, H_out, W_out, kH, kW): the patch of xp each output position reads."""
    view = sliding_window_view(xp, kernel, axis=(2, 3))
    return view[:, :, positions(0, stride, out[0]), positions(0, stride, out[1])]


def positions(start: int, stride: int, count: int) -> slice:
    """start, start + stride, ... (`count` of them; none for a count of 0, not a slice running to the end)."""
    return slice(start, start + stride * (count - 1) + 1 if count > 0 else start, stride)


def forward(
    x,
    weight,
    bias,
    stride: int = 1,
    padding: int = 0,
    *,
    pad_where: str = "both",
    out_shrink: int = 0,
) -> np.ndarray:
    """y; `out_shrink` output rows and columns fewer than the formula gives (a mistake's)."""
    kernel = weight.shape[2:]
    out = tuple(
        output_size(s, k, stride, padding) - out_shrink for s, k in zip(x.shape[2:], kernel)
    )
    patches = windows(pad(x, padding, pad_where), kernel, stride, out)
    return np.einsum("ncijkl,ockl->noij", patches, weight) + bias[None, :, None, None]


def backward(
    x,
    weight,
    dy,
    stride: int = 1,
    padding: int = 0,
    *,
    pad_where: str = "both",
    backward_stride: int | None = None,
    dx_weight=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dweight, dbias) for the upstream gradient dy.

    `backward_stride` steps the windows differently from the forward pass's stride and
    `dx_weight` is the kernel dx is spread back through (both a mistake's)."""
    step = stride if backward_stride is None else backward_stride
    kernel = weight.shape[2:]
    out = dy.shape[2:]
    xp = pad(x, padding, pad_where)
    dweight = np.einsum("ncijkl,noij->ockl", windows(xp, kernel, step, out), dy)
    dbias = dy.sum(axis=(0, 2, 3))
    spread = weight if dx_weight is None else dx_weight
    dxp = np.zeros_like(xp)
    for row, col in np.ndindex(*kernel):
        # every output position (i, j) read xp[i*step + row, j*step + col] with weight[:, :, row, col]
        dxp[:, :, positions(row, step, out[0]), positions(col, step, out[1])] += np.einsum(
            "noij,oc->ncij", dy, spread[:, :, row, col]
        )
    before = {"both": padding, "after": 0, "before": 2 * padding}[pad_where]
    dx = dxp[:, :, before : before + x.shape[2], before : before + x.shape[3]]
    return dx, dweight, dbias

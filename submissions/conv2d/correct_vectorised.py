"""A correct hand-in, vectorised: im2col with NumPy's stride tricks and einsum, in float32.

Part A cuts every window out of the padded input at once (sliding_window_view),
contracts it with the kernel by einsum, and spreads dy back with one np.add.at;
Part B unfolds the input with torch and lets autograd differentiate the product.
Everything is computed in float32, which the tolerances accept.

Expected verdict: every check passes, full marks.
Expected diagnosis: none.
"""

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view


def _patches(x, kernel, stride, padding):
    """(N, C, H_out, W_out, kH, kW) windows of the padded input, and the padded input."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::stride, ::stride], xp


def conv2d_forward(x, weight, bias, stride=1, padding=0):
    x, weight, bias = (np.asarray(a, dtype=np.float32) for a in (x, weight, bias))
    patches, _ = _patches(x, weight.shape[2:], stride, padding)
    return np.einsum("ncijkl,ockl->noij", patches, weight) + bias[:, None, None]


def conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    x, weight, dy = (np.asarray(a, dtype=np.float32) for a in (x, weight, dy))
    kh, kw = weight.shape[2:]
    h_out, w_out = dy.shape[2:]
    patches, xp = _patches(x, (kh, kw), stride, padding)
    patches = patches[:, :, :h_out, :w_out]
    dweight = np.einsum("ncijkl,noij->ockl", patches, dy)
    dbias = dy.sum(axis=(0, 2, 3))
    # the row and column of xp that output (i, j) reads with kernel element (k, l)
    rows = (np.arange(h_out) * stride)[:, None] + np.arange(kh)[None, :]
    cols = (np.arange(w_out) * stride)[:, None] + np.arange(kw)[None, :]
    contributions = np.einsum("noij,ockl->ncijkl", dy, weight)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :]), contributions)
    h, w = x.shape[2:]
    return dxp[:, :, padding : padding + h, padding : padding + w], dweight, dbias


def torch_conv2d_forward(x, weight, bias, stride=1, padding=0):
    x, weight, bias = x.float(), weight.float(), bias.float()
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    columns = torch.nn.functional.unfold(x, (kh, kw), padding=padding, stride=stride)
    y = weight.reshape(c_out, -1) @ columns + bias[:, None]
    return y.reshape(n, c_out, (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1)


def torch_conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    x, weight, bias = (t.float().requires_grad_() for t in (x, weight, bias))
    torch_conv2d_forward(x, weight, bias, stride, padding).backward(dy.float())
    return x.grad, weight.grad, bias.grad

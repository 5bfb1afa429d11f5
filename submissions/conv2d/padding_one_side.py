"""All the padding on one side: x sits in the top-left corner of the padded array,
with 2*padding zero rows below it and 2*padding zero columns to its right.

The output keeps its shape, but every window reads the input shifted by
`padding`; with padding 0 nothing changes.

Expected verdict: the checks with padding 1 fail (np-forward-padded,
np-backward-padded-dx, np-backward-padded-dweight, np-backward-strided-padded-dweight,
np-backward-strided-padded-dx); the others pass, dbias too.
Expected diagnosis: padding-one-side.
Expected root cause: forward (the gradients are the derivative of that wrong forward pass).
"""

import numpy as np
import torch


def _pad(x, padding):
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    xp[:, :, :h, :w] = x
    return xp


def conv2d_forward(x, weight, bias, stride=1, padding=0):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    xp = _pad(x, padding)
    y = np.zeros((n, c_out, h_out, w_out))
    for b in range(n):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    total = bias[o]
                    for c in range(c_in):
                        window = xp[b, c, i * stride : i * stride + kh, j * stride : j * stride + kw]
                        total += np.sum(window * weight[o, c])
                    y[b, o, i, j] = total
    return y


def conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    _, _, h_out, w_out = dy.shape
    xp = _pad(x, padding)
    dxp = np.zeros_like(xp)
    dweight = np.zeros_like(weight)
    dbias = np.zeros_like(bias)
    for b in range(n):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    g = dy[b, o, i, j]
                    dbias[o] += g
                    for c in range(c_in):
                        rows = slice(i * stride, i * stride + kh)
                        cols = slice(j * stride, j * stride + kw)
                        dweight[o, c] += g * xp[b, c, rows, cols]
                        dxp[b, c, rows, cols] += g * weight[o, c]
    dx = dxp[:, :, :h, :w]
    return dx, dweight, dbias


def torch_conv2d_forward(x, weight, bias, stride=1, padding=0):
    return torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)


def torch_conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    x, weight, bias = (t.clone().requires_grad_() for t in (x, weight, bias))
    y = torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)
    y.backward(dy)
    return x.grad, weight.grad, bias.grad

"""dx through the kernel the wrong way round: dy is spread back through the kernel
turned by 180 degrees, as if dx were the full correlation of dy with the kernel
as it is (the rot180 of the textbook formula dx = dy * rot180(w) forgotten).

Expected verdict: the Part A dx checks fail (np-backward-dx, np-backward-padded-dx,
np-backward-strided-dx, np-backward-strided-padded-dx); everything else passes.
Expected diagnosis: dx-kernel-not-flipped.
Expected root cause: backward (the forward pass is right; the gradients are not its derivative).
"""

import numpy as np
import torch


def _pad(x, padding):
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    xp[:, :, padding : padding + h, padding : padding + w] = x
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
                        dxp[b, c, rows, cols] += g * weight[o, c, ::-1, ::-1]
    dx = dxp[:, :, padding : padding + h, padding : padding + w]
    return dx, dweight, dbias


def torch_conv2d_forward(x, weight, bias, stride=1, padding=0):
    return torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)


def torch_conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    x, weight, bias = (t.clone().requires_grad_() for t in (x, weight, bias))
    y = torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)
    y.backward(dy)
    return x.grad, weight.grad, bias.grad

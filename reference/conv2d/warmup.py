"""The operations this homework's code uses, run once by the warm worker before it forks.

PyTorch sets up each operator and autograd node on first use; run here, every
fork inherits it instead of paying for it inside a student's timed call.  The
file is loaded by path, on its own: it imports only NumPy and torch.  This is a
list of the operators Part B's answers use (conv2d forward and backward with
and without stride and padding, unfold, einsum, pad), not the reference.
"""

from __future__ import annotations


def warm_up() -> None:
    import numpy
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)  # with one thread it starts no pool
    for dtype in (torch.float64, torch.float32):
        x = torch.tensor(
            numpy.random.default_rng(0).uniform(-1, 1, (2, 3, 6, 7)),
            dtype=dtype,
            requires_grad=True,
        )
        weight = torch.rand(2, 3, 3, 2, dtype=dtype, requires_grad=True)
        bias = torch.rand(2, dtype=dtype, requires_grad=True)
        for stride, padding in ((1, 0), (2, 1)):
            y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
            y.backward(torch.ones_like(y))
            # the hand-written forms of the same layer: padding, patches, a contraction
            xp = F.pad(x, (padding, padding, padding, padding))
            patches = F.unfold(xp, (3, 2), stride=stride)
            out = (
                torch.einsum("okc,nkp->nop", weight.reshape(2, -1, 1), patches)
                + bias[None, :, None]
            )
            out.sum().backward()
            torch.autograd.grad(
                F.conv2d(x, weight, bias, stride=stride, padding=padding).sum(), (x, weight, bias)
            )
            windows = xp.unfold(2, 3, stride).unfold(3, 2, stride)
            torch.einsum("ncijkl,ockl->noij", windows, weight).sum().backward()
        x.grad = weight.grad = bias.grad = None
        with torch.no_grad():
            F.conv2d(x, weight, bias).detach().numpy().tolist()
    a = numpy.pad(numpy.ones((1, 1, 3, 3)), ((0, 0), (0, 0), (1, 1), (1, 1)))
    numpy.einsum(
        "ncijkl,ockl->noij",
        numpy.lib.stride_tricks.sliding_window_view(a, (3, 3), axis=(2, 3)),
        numpy.ones((1, 1, 3, 3)),
    )

"""The operations this homework's code uses, run once by the warm worker before it forks.

PyTorch sets up each operator, autograd node and optimizer on first use, which
costs about two seconds in all; run here, every fork inherits it instead of
paying it inside a student's timed call.  The file is loaded by path, on its own:
it imports only NumPy and torch, so no module of the reference is left in the
processes forked for submissions.  This is a list of operations, not the
network: the reference computes that (network.py, autograd.py).
"""

from __future__ import annotations


def warm_up() -> None:
    import numpy
    import torch

    torch.set_num_threads(1)  # with one thread it starts no pool
    for dtype in (torch.float64, torch.float32):
        w = torch.rand(8, dtype=dtype, requires_grad=True)
        x = torch.tensor(numpy.array([0.5, 0.3]), dtype=dtype)
        for act in (
            torch.sigmoid,
            torch.relu,
            lambda z: 1 / (1 + torch.exp(-z)),
            torch.nn.functional.relu,
        ):
            # indexing, products, sums and stacking, as a hand-written layer does them
            a = act(torch.stack([w[0] * x[0] + w[1] * x[1], w[2] * x[0] + w[3] * x[1]]))
            b = act(torch.stack([w[4] * a[0] + w[5] * a[1], w[6] * a[0] + w[7] * a[1]]))
            mse = torch.nn.MSELoss()
            for loss in (
                0.5 * ((b - x) ** 2).sum(),
                mse(b[0], x[0]) + mse(b[1], x[1]),
                torch.nn.CrossEntropyLoss()(b.reshape(1, 2), x.reshape(1, 2)),
                torch.nn.functional.mse_loss(b, x, reduction="sum"),
            ):
                loss.backward(retain_graph=True)
        optimizer = torch.optim.SGD([w], lr=0.1)
        optimizer.step()
        optimizer.zero_grad()
        with torch.no_grad():
            w -= 0.1 * w.grad if w.grad is not None else 0.1 * w
        w.detach().numpy().tolist()
    numpy.exp(numpy.zeros(2)) @ numpy.ones((2, 2))

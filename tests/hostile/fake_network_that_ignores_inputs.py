"""Games the credit for a consistent backward pass: its "network" is o = (w5, w6),
which reads neither x nor w1..w4, w7, w8, and its backward pass is the exact
derivative of the loss of that "network" (by hand in NumPy, by autograd in PyTorch).

Expected verdict: every backward check fails and earns nothing, even where the spec
gives a share of the points for a backward pass consistent with its forward pass; the
check's diagnosis note says why: the forward pass does not depend on w1, w2, w3, w4,
w7, w8, x1, x2.  The forward checks fail as well.
"""

import numpy as np
import torch


def np_forward(x, w, act="sigmoid"):
    w = np.asarray(w, dtype=float)
    return np.array([w[0], w[1]]), np.array([w[4], w[5]])


def np_backward(x, y, w, act="sigmoid"):
    _, o = np_forward(x, w, act)
    g = np.zeros(8)
    g[4], g[5] = o - np.asarray(y, dtype=float)  # d/dw5, d/dw6 of 1/2 * sum (o - y)^2
    return g


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = np.array(w, dtype=float)
    losses = []
    for _ in range(epochs):
        _, o = np_forward(x, w, act)
        losses.append(0.5 * float(np.sum((o - y) ** 2)))
        w = w - lr * np_backward(x, y, w, act)
    return w, losses


def torch_forward(x, w, act="sigmoid"):
    return torch.stack([w[0], w[1]]), torch.stack([w[4], w[5]])


def torch_loss(o, y, loss):
    if loss == "MSELoss":
        return torch.nn.MSELoss()(o[0], y[0]) + torch.nn.MSELoss()(o[1], y[1])
    if loss == "CrossEntropyLoss":
        return torch.nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))
    return 0.5 * ((o[0] - y[0]) ** 2 + (o[1] - y[1]) ** 2)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    w = w.clone().requires_grad_(True)
    _, o = torch_forward(x, w, act)
    torch_loss(o, y, loss).backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    w = w.clone().requires_grad_(True)
    losses = []
    for _ in range(epochs):
        _, o = torch_forward(x, w, act)
        E = torch_loss(o, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
    return w.detach(), losses

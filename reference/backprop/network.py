"""The 2-2-2 network and its back-propagation, by hand, in NumPy.

The course's numbering (keep it exactly):

    h1 = f(w1*x1 + w3*x2)        h2 = f(w2*x1 + w4*x2)
    o1 = f(w5*h1 + w7*h2)        o2 = f(w6*h1 + w8*h2)

`w` is ordered w1..w8, so w[0] is w1.  Every function takes a `dtype` so the
same code can run in float64 (the reference) and in float32 (to measure how
far a correct float32 submission may drift, see `reference.expected`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("sigmoid", "torch.sigmoid", "relu")
LOSSES = ("mse", "MSELoss", "CrossEntropyLoss")


@dataclass(frozen=True)
class Forward:
    """Pre-activations and activations of one forward pass."""

    z_hidden: np.ndarray
    h: np.ndarray
    z_output: np.ndarray
    o: np.ndarray


def check_variant(act: str, loss: str = "mse") -> None:
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; expected one of {ACTIVATIONS}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")


def activate(z: np.ndarray, act: str) -> np.ndarray:
    if act == "relu":
        return np.maximum(z, 0)
    # "sigmoid" and "torch.sigmoid" are the same function.
    return 1 / (1 + np.exp(-z))


def activation_slope(z: np.ndarray, a: np.ndarray, act: str) -> np.ndarray:
    """f'(z), given z and a = f(z).

    ReLU's kink: the derivative at z <= 0 is 0, as in ASSIGNMENT.md and as
    PyTorch's autograd computes it, so the two references agree even at z == 0.
    """
    if act == "relu":
        return (z > 0).astype(z.dtype)
    return a * (1 - a)  # sigmoid' = f(z) * (1 - f(z))


def forward(x, w, act: str = "sigmoid", dtype=np.float64) -> Forward:
    x = np.asarray(x, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    w1, w2, w3, w4, w5, w6, w7, w8 = w
    z_hidden = np.array([w1 * x[0] + w3 * x[1], w2 * x[0] + w4 * x[1]], dtype=dtype)
    h = activate(z_hidden, act)
    z_output = np.array([w5 * h[0] + w7 * h[1], w6 * h[0] + w8 * h[1]], dtype=dtype)
    o = activate(z_output, act)
    return Forward(z_hidden, h, z_output, o)


def loss_value(o, y, loss: str = "mse", dtype=np.float64):
    o = np.asarray(o, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    if loss == "mse":
        return 0.5 * np.sum((o - y) ** 2)  # E = 1/2 * sum (o - y)^2
    if loss == "MSELoss":
        return np.sum((o - y) ** 2)  # mean over one element per output, no 1/2
    # CrossEntropyLoss with soft labels: -sum_k y_k * log softmax(o)_k
    log_softmax = o - (np.max(o) + np.log(np.sum(np.exp(o - np.max(o)))))
    return -np.sum(y * log_softmax)


def loss_slope(o, y, loss: str = "mse", dtype=np.float64) -> np.ndarray:
    """dE/do for each output."""
    o = np.asarray(o, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    if loss == "mse":
        return o - y
    if loss == "MSELoss":
        return 2 * (o - y)
    softmax = np.exp(o - np.max(o))
    softmax = softmax / np.sum(softmax)
    # d/do_k of -sum_j y_j log softmax_j = softmax_k * sum_j y_j - y_k
    return softmax * np.sum(y) - y


def gradients(x, y, w, act: str = "sigmoid", loss: str = "mse", dtype=np.float64) -> np.ndarray:
    """dE/dw1 .. dE/dw8 from one forward pass."""
    check_variant(act, loss)
    x = np.asarray(x, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    w1, w2, w3, w4, w5, w6, w7, w8 = w
    f = forward(x, w, act, dtype)
    h1, h2 = f.h
    # output deltas: delta_o = dE/do * f'(z_o)
    delta_o1, delta_o2 = loss_slope(f.o, y, loss, dtype) * activation_slope(f.z_output, f.o, act)
    # hidden deltas: each hidden unit feeds both outputs (h1 through w5, w6; h2 through w7, w8)
    slope_h1, slope_h2 = activation_slope(f.z_hidden, f.h, act)
    delta_h1 = (delta_o1 * w5 + delta_o2 * w6) * slope_h1
    delta_h2 = (delta_o1 * w7 + delta_o2 * w8) * slope_h2
    return np.array(
        [
            delta_h1 * x[0],  # w1: x1 -> h1
            delta_h2 * x[0],  # w2: x1 -> h2
            delta_h1 * x[1],  # w3: x2 -> h1
            delta_h2 * x[1],  # w4: x2 -> h2
            delta_o1 * h1,  # w5: h1 -> o1
            delta_o2 * h1,  # w6: h1 -> o2
            delta_o1 * h2,  # w7: h2 -> o1
            delta_o2 * h2,  # w8: h2 -> o2
        ],
        dtype=dtype,
    )


def train(x, y, w, lr: float, epochs: int, act: str = "sigmoid", loss: str = "mse", dtype=np.float64):
    """Plain gradient descent; returns (final weights, loss before each update)."""
    check_variant(act, loss)
    w = np.array(w, dtype=dtype)  # a copy: the caller's weights stay as they were
    losses = np.empty(epochs, dtype=dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            losses[epoch] = loss_value(forward(x, w, act, dtype).o, y, loss, dtype)
            w = w - dtype(lr) * gradients(x, y, w, act, loss, dtype)
    return w, losses

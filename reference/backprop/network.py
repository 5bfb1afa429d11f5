"""The 2-2-2 network and its back-propagation, by hand, in NumPy.

The course's numbering (keep it exactly):

    h1 = f(w1*x1 + w3*x2)        h2 = f(w2*x1 + w4*x2)
    o1 = f(w5*h1 + w7*h2)        o2 = f(w6*h1 + w8*h2)

`w` is ordered w1..w8, so w[0] is w1.  Every function takes a `dtype` so the
same code can run in float64 (the reference) and in float32 (to measure how
far a correct float32 submission may drift, see grader/expected.py).

This module holds the units (activations, their slopes, the losses); the
network itself, its forward pass, chain rule and training loop, is written
once, in variations.py, where each catalogued mistake is a switch that is off
for the reference.  autograd.py computes the same with PyTorch and
finite_differences.py numerically: the tests hold the three together.
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
    """The forward pass (variations.py writes it, once, for the reference and the catalogue)."""
    from reference.backprop import variations  # imported here: it builds on this module's units

    return variations.forward(variations.CORRECT, x, w, act, dtype)[0]


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
    """dE/dw1 .. dE/dw8 from one forward pass, by the chain rule."""
    from reference.backprop import variations

    check_variant(act, loss)
    return variations.gradients(variations.CORRECT, x, y, w, act, loss, dtype=dtype)


def train(x, y, w, lr: float, epochs: int, act: str = "sigmoid", loss: str = "mse", dtype=np.float64):
    """Plain gradient descent; returns (final weights, loss before each update)."""
    from reference.backprop import variations

    check_variant(act, loss)
    return variations.train(variations.CORRECT, x, y, w, lr, epochs, act, loss, dtype)

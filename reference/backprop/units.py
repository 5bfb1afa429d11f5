"""The units of the 2-2-2 network: its activations, their slopes and the losses.

network.py and variations.py build on them (the network itself is written once, in
variations.py); they import nothing of the network's.
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

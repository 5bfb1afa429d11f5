"""The third reference: central finite differences of the loss.

dE/dw_i ~ (E(w + eps*e_i) - E(w - eps*e_i)) / (2*eps), in float64.  Only
meaningful where the loss is smooth: not within eps of ReLU's kink.
"""

from __future__ import annotations

import numpy as np

from reference.backprop import network


def loss_at(x, y, w, act: str, loss: str) -> float:
    return float(network.loss_value(network.forward(x, w, act).o, y, loss))


def gradients(x, y, w, act: str = "sigmoid", loss: str = "mse", eps: float = 1e-6) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)
    result = np.empty(8)
    for i in range(8):
        step = np.zeros(8)
        step[i] = eps
        result[i] = (loss_at(x, y, w + step, act, loss) - loss_at(x, y, w - step, act, loss)) / (
            2 * eps
        )
    return result


def near_kink(x, w, act: str, eps: float = 1e-6) -> bool:
    """True where a perturbation of eps could move a ReLU unit across z = 0."""
    if act != "relu":
        return False
    f = network.forward(x, w, act)
    return bool(np.any(np.abs(np.concatenate([f.z_hidden, f.z_output])) < 1e3 * eps))

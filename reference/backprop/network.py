"""The 2-2-2 network and its back-propagation, by hand, in NumPy.

The course's numbering (keep it exactly):

    h1 = f(w1*x1 + w3*x2)        h2 = f(w2*x1 + w4*x2)
    o1 = f(w5*h1 + w7*h2)        o2 = f(w6*h1 + w8*h2)

`w` is ordered w1..w8, so w[0] is w1.  Every function takes a `dtype` so the
same code can run in float64 (the reference) and in float32 (to measure how
far a correct float32 submission may drift, see grader/core/expected.py).

The units (activations, their slopes, the losses) are units.py's, by their
names here too; the network itself, its forward pass, chain rule and training loop, is written
once, in variations.py, where each catalogued mistake is a switch that is off
for the reference.  autograd.py computes the same with PyTorch and
finite_differences.py numerically: the tests hold the three together.
"""

from __future__ import annotations

import numpy as np

from reference.backprop import variations  # it builds on the units

# the units, by their names here too (re-exported: `X as X`)
from reference.backprop.units import ACTIVATIONS as ACTIVATIONS
from reference.backprop.units import LOSSES as LOSSES
from reference.backprop.units import Forward, check_variant
from reference.backprop.units import activate as activate
from reference.backprop.units import activation_slope as activation_slope
from reference.backprop.units import loss_slope as loss_slope
from reference.backprop.units import loss_value as loss_value


def forward(x, w, act: str = "sigmoid", dtype=np.float64) -> Forward:
    """The forward pass (variations.py writes it, once, for the reference and the catalogue)."""
    return variations.forward(variations.CORRECT, x, w, act, dtype)[0]


def gradients(x, y, w, act: str = "sigmoid", loss: str = "mse", dtype=np.float64) -> np.ndarray:
    """dE/dw1 .. dE/dw8 from one forward pass, by the chain rule."""
    check_variant(act, loss)
    return variations.gradients(variations.CORRECT, x, y, w, act, loss, dtype=dtype)


def train(
    x, y, w, lr: float, epochs: int, act: str = "sigmoid", loss: str = "mse", dtype=np.float64
):
    """Plain gradient descent; returns (final weights, loss before each update)."""
    check_variant(act, loss)
    return variations.train(variations.CORRECT, x, y, w, lr, epochs, act, loss, dtype)

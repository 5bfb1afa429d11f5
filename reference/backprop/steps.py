"""The intermediate values of a forward pass, a backward pass and one update, in the order the
computation needs them.

What a traced call of the student's backward function is matched against
(grader/engine/steps.py): the pre-activations and activations of the forward pass, the
loss, dE/do, the slopes, the output deltas, the output-layer gradients, the error reaching
each hidden unit, the hidden deltas and the hidden-layer gradients.  The milestones are
those every correct derivation holds in some local (a product may be written inline).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from grader.engine.steps import Step
from reference.backprop import units, variations


def _step(symbol, words, values, milestone=True, needs=()) -> Step:
    return Step(symbol, words, tuple(float(v) for v in np.ravel(values)), milestone, needs)


def forward_steps(x, w, act: str) -> list[Step]:
    """The forward pass: what a traced call of the forward function is matched against."""
    f, _ = variations.forward(variations.CORRECT, x, w, act)
    return [
        _step("z_h", "the hidden pre-activations", f.z_hidden, False),
        _step("h", "the hidden values", f.h),
        _step("z_o", "the output pre-activations", f.z_output, False, ("h",)),
        _step("o", "the outputs", f.o, needs=("h",)),
    ]


def backward_steps(x, y, w, act: str, loss: str = "mse") -> list[Step]:
    x, y, w = (np.asarray(v, dtype=np.float64) for v in (x, y, w))
    f, _ = variations.forward(variations.CORRECT, x, w, act)
    error = units.loss_slope(f.o, y, loss)
    slope_o = units.activation_slope(f.z_output, f.o, act)
    delta_o = error * slope_o
    slope_h = units.activation_slope(f.z_hidden, f.h, act)
    w5, w6, w7, w8 = w[4:]
    reaching = np.array([delta_o[0] * w5 + delta_o[1] * w6, delta_o[0] * w7 + delta_o[1] * w8])
    delta_h = reaching * slope_h
    g = variations.gradients(variations.CORRECT, x, y, w, act, loss)
    return [
        *forward_steps(x, w, act),
        _step("E", "the loss", [units.loss_value(f.o, y, loss)], False, ("o",)),
        _step("dE/do", "the output errors", error, False, ("o",)),
        _step("f'(z_o)", "the output slopes", slope_o, False, ("o",)),
        _step("delta_o", "the output deltas dE/dz_o", delta_o, needs=("o",)),
        _step("dE/dw5..w8", "the output-layer gradients", g[4:], needs=("delta_o", "h")),
        _step("f'(z_h)", "the hidden slopes", slope_h, False, ("h",)),
        _step("delta_o·w", "the error reaching each hidden unit", reaching, False, ("delta_o",)),
        _step("delta_h", "the hidden deltas dE/dz_h", delta_h, needs=("delta_o", "h")),
        _step("dE/dw1..w4", "the hidden-layer gradients", g[:4], needs=("delta_h",)),
    ]


def known_values(x, y, w, *more: float) -> tuple[float, ...]:
    """What a local may hold without departing: the inputs (a step size, an epoch count), and the
    constants of the formulas."""
    inputs = np.concatenate([np.ravel(x), np.ravel(y), np.ravel(w)])
    return tuple(float(v) for v in inputs) + tuple(float(m) for m in more) + (0.0, 1.0, 0.5, 2.0)


def update_steps(x, y, w, lr: float, act: str, loss: str = "mse") -> list[Step]:
    """One step of gradient descent: the loss before it, the backward pass, the new weights.  A
    training loop records the loss and returns the weights; its gradients may stay inline."""
    x, y, w = (np.asarray(v, dtype=np.float64) for v in (x, y, w))
    g = variations.gradients(variations.CORRECT, x, y, w, act, loss)
    kept = {"E": (True, True), "dE/dw5..w8": (False, False), "dE/dw1..w4": (False, False)}
    steps = [
        replace(s, milestone=kept[s.symbol][0], returned=kept[s.symbol][1])
        if s.symbol in kept
        else s
        for s in backward_steps(x, y, w, act, loss)
    ]
    after = tuple(float(v) for v in w - lr * g)
    update = Step("w - lr·dE/dw", "the weights after the update", after, True, ("delta_h",), True)
    return [*steps, update]

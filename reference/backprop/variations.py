"""The network, written once: the reference, and every catalogued mistake as a switch.

`Variation()` is the reference itself: `reference.backprop.network`'s forward
pass, gradients and training loop are this module's with no switch on, in
float64 or float32.  Each field of a `Variation` is one way a hand-in gets the
network wrong, named by what the student did; the catalogue
(misconceptions.py) runs them in float64.  The activations and losses are
`units`'s.

A forward-pass mistake (numbering, an activation, what the output layer reads)
keeps a backward pass that is the exact derivative of that wrong forward pass:
what autograd computes, and what a careful student derives by hand for the
network they believe in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.backprop import units
from reference.backprop.units import Forward

# Textbook numbering h1 = f(w1*x1 + w2*x2), o1 = f(w5*h1 + w6*h2) is the course's
# numbering with w2 <-> w3 and w6 <-> w7 swapped (its own inverse).
TEXTBOOK_ORDER = np.array([0, 2, 1, 3, 4, 6, 5, 7])


@dataclass(frozen=True)
class Variation:
    """One mistake; every default is what the reference does."""

    # forward pass
    numbering: str = "course"  # "textbook": the weights read row by row
    hidden_act: str | None = None  # None: the activation asked for
    output_act: str | None = None  # "identity": no activation at the output
    output_reads: str = "h"  # "x": the output layer is fed the inputs
    decimals: int | None = None  # h and o rounded to this many decimals before use
    # loss
    loss: str | None = None  # the loss used instead of the one asked for
    softmax_first: bool = False  # CrossEntropyLoss applied to softmax(o), not to o
    # backward pass by hand
    slope: str = "exact"  # "sigmoid-form": f'(z) taken as a*(1-a) whatever f is
    output_delta: str = "chain"  # "raw": delta_o = dE/do, without f'(z_o)
    hidden_delta: str = "chain"  # "weight-grads" | "raw-error" | "hidden-slope" | "o1-hidden-slope"
    # training
    # w5..w8 updated before the hidden gradients are computed: "carried" (the new w5..w8 carry
    # this forward pass's deltas back) | "recomputed" (the hidden gradients of a second backward
    # pass at the partly updated weights)
    sequential: str = ""
    accumulate: bool = False  # gradients summed over the epochs, never zeroed
    ascent: bool = False  # w <- w + lr * dE/dw
    learning_rate: float | None = None  # a step size used whatever was asked
    extra_epochs: int = 0  # updates made beyond (or short of) the epochs asked
    loss_after_update: bool = False  # losses[i] recorded after update i
    given_inputs: tuple[str, ...] = ()  # of x, y, w: the given case's used, whatever was passed


CORRECT = Variation()  # no mistake: the reference


def _activate(z, act: str):
    return z if act == "identity" else units.activate(z, act)


def _slope(v: Variation, z, a, act: str):
    if v.slope == "sigmoid-form":
        return a * (1 - a)
    return np.ones_like(z) if act == "identity" else units.activation_slope(z, a, act)


def _round(v: Variation, values):
    return values if v.decimals is None else np.round(values, v.decimals)


def _acts(v: Variation, act: str) -> tuple[str, str]:
    return v.hidden_act or act, v.output_act or act


def forward(v: Variation, x, w, act: str, dtype=np.float64) -> tuple[Forward, np.ndarray]:
    """The forward pass and what the output layer reads (h, or x), in the course's numbering:
    h1 = f(w1*x1 + w3*x2), h2 = f(w2*x1 + w4*x2), o1 = f(w5*h1 + w7*h2), o2 = f(w6*h1 + w8*h2)."""
    hidden_act, output_act = _acts(v, act)
    x, w = np.asarray(x, dtype=dtype), np.asarray(w, dtype=dtype)
    w1, w2, w3, w4, w5, w6, w7, w8 = w
    z_hidden = np.array([w1 * x[0] + w3 * x[1], w2 * x[0] + w4 * x[1]], dtype=dtype)
    h = _round(v, _activate(z_hidden, hidden_act))
    reads = h if v.output_reads == "h" else x
    z_output = np.array([w5 * reads[0] + w7 * reads[1], w6 * reads[0] + w8 * reads[1]], dtype=dtype)
    o = _round(v, _activate(z_output, output_act))
    return Forward(z_hidden, h, z_output, o), reads


def _softmax(o):
    e = np.exp(o - np.max(o))
    return e / np.sum(e)


def loss_value(v: Variation, o, y, loss: str, dtype=np.float64):
    loss = v.loss or loss
    if v.softmax_first and loss == "CrossEntropyLoss":
        o = _softmax(o)
    return units.loss_value(o, y, loss, dtype)


def loss_slope(v: Variation, o, y, loss: str, dtype=np.float64):
    """dE/do, through the softmax where one comes first."""
    loss = v.loss or loss
    if not (v.softmax_first and loss == "CrossEntropyLoss"):
        return units.loss_slope(o, y, loss, dtype)
    p = _softmax(o)
    outer = units.loss_slope(p, y, loss)
    return p * (outer - np.dot(p, outer))  # softmax Jacobian: dp_j/do_k = p_j (delta_jk - p_k)


def gradients(
    v: Variation, x, y, w, act: str, loss: str, hidden_reads_weights=None, dtype=np.float64
) -> np.ndarray:
    """dE/dw1..dE/dw8 as this variation computes them, from one forward pass: the output
    deltas delta_o = dE/do * f'(z_o), carried back through the weights (h1 reaches o1
    through w5 and o2 through w6; h2 through w7, w8) to the hidden deltas.

    `hidden_reads_weights` are the w5..w8 the hidden deltas use: the forward
    pass's own, unless the output weights were already updated (sequential)."""
    hidden_act, output_act = _acts(v, act)
    x, w = np.asarray(x, dtype=dtype), np.asarray(w, dtype=dtype)
    f, reads = forward(v, x, w, act, dtype)
    error = loss_slope(v, f.o, y, loss, dtype)  # dE/do
    delta_o = error if v.output_delta == "raw" else error * _slope(v, f.z_output, f.o, output_act)
    slope_h = _slope(v, f.z_hidden, f.h, hidden_act)
    w5, w6, w7, w8 = w[4:] if hidden_reads_weights is None else hidden_reads_weights
    if v.hidden_delta == "weight-grads":  # (dE/dw5 + dE/dw6) for h1, (dE/dw7 + dE/dw8) for h2
        back = np.sum(delta_o) * reads
    else:
        carried = delta_o if v.hidden_delta == "chain" else error
        back = np.array([carried[0] * w5 + carried[1] * w6, carried[0] * w7 + carried[1] * w8])
        if v.hidden_delta == "hidden-slope":  # h*(1-h) where o*(1-o) belongs
            back = back * slope_h
        if v.hidden_delta == "o1-hidden-slope":  # the same, on o1's path alone
            through_o1 = error[0] * slope_h
            back = np.array(
                [through_o1[0] * w5 + delta_o[1] * w6, through_o1[1] * w7 + delta_o[1] * w8]
            )
    delta_h = (
        back * slope_h if v.output_reads == "h" else np.zeros(2, dtype=dtype)
    )  # x-fed: h reaches nothing
    return np.array(
        [
            # w1..w4: x1, x2 -> h
            delta_h[0] * x[0], delta_h[1] * x[0], delta_h[0] * x[1], delta_h[1] * x[1],
            # w5..w8: h -> o
            delta_o[0] * reads[0], delta_o[1] * reads[0],
            delta_o[0] * reads[1], delta_o[1] * reads[1],
        ],
        dtype=dtype,
    )  # fmt: skip


def train(v: Variation, x, y, w, lr: float, epochs: int, act: str, loss: str, dtype=np.float64):
    """(final weights, losses) of plain gradient descent with this variation's mistake;
    losses[i] is the loss before update i."""
    lr = v.learning_rate if v.learning_rate is not None else lr
    lr = dtype(-lr if v.ascent else lr)
    w = np.array(w, dtype=dtype)  # a copy: the caller's weights stay as they were
    losses, total = [], np.zeros(8, dtype=dtype)

    def current_loss():
        return loss_value(v, forward(v, x, w, act, dtype)[0].o, y, loss, dtype)

    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max(epochs + v.extra_epochs, 0)):
            if not v.loss_after_update:
                losses.append(current_loss())
            g = gradients(v, x, y, w, act, loss, dtype=dtype)
            if v.sequential == "carried":
                g = gradients(
                    v, x, y, w, act, loss, hidden_reads_weights=w[4:] - lr * g[4:], dtype=dtype
                )
            elif v.sequential == "recomputed":
                moved = np.concatenate([w[:4], w[4:] - lr * g[4:]])
                g = np.concatenate([gradients(v, x, y, moved, act, loss, dtype=dtype)[:4], g[4:]])
            total = total + g if v.accumulate else g
            w = w - lr * total
            if v.loss_after_update:
                losses.append(current_loss())
    return w, np.array(losses, dtype=dtype)


def quantities(v: Variation, entry: str, args: dict, x, y, w, given: tuple | None = None) -> dict:
    """Every quantity `entry` yields with this variation, in the shape of
    `reference.expected.reference_quantities`; `given` is the given case's (x, y, w)."""
    if v.given_inputs:
        x, y, w = (
            given[i] if name in v.given_inputs else value
            for i, (name, value) in enumerate(zip("xyw", (x, y, w)))
        )
    act, loss = args.get("act", "sigmoid"), args.get("loss", "mse")
    kind = entry.split("_", 1)[1]
    w = np.asarray(w, dtype=float)
    order = TEXTBOOK_ORDER if v.numbering == "textbook" else np.arange(8)
    w = w[order]  # the course's numbering inside; the student's numbering outside
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if kind == "forward":
            f, _ = forward(v, x, w, act)
            return {"h": f.h, "o": f.o}
        if kind == "backward":
            return {"gradients": gradients(v, x, y, w, act, loss)[order]}
        final, losses = train(v, x, y, w, args["lr"], args["epochs"], act, loss)
        return {"final_weights": final[order], "loss_curve": losses, "loss": losses[:1]}

"""Attempts to see every call's inputs, hidden cases included, before the first call: while the
file loads it walks the stack frames above its module code and every object the collector
tracks, and keeps whatever holds call inputs (a request's `calls`, or a dictionary of
`inputs`).  A hand-in that found them could work out every answer at import (with autograd,
which Part A forbids, outside any recorded call) and answer each call from a table.

Here it answers a call only from that table, so the verdict shows what it found: np_forward
whose inputs were in the process at import gets the right value, any other call says it
found them; a call whose inputs were not there raises LookupError saying so.

Expected verdict: the grader sends each call's inputs only at its turn, so the table is
empty: every call raises LookupError ("... were not in the process while the file loaded"),
no check passes, and the score is 0.
"""

import gc
import sys

import numpy as np

FOUND = []  # (entry, inputs) of every call whose inputs could be read at import


def _collect(value):
    if isinstance(value, dict):
        if isinstance(value.get("calls"), list):
            for call in value["calls"]:
                if isinstance(call, dict) and isinstance(call.get("inputs"), dict):
                    FOUND.append((call.get("entry"), call["inputs"]))
                elif isinstance(call, dict) and isinstance(call.get("arguments"), list):
                    values = {
                        a.get("name"): a["input"]
                        for a in call["arguments"]
                        if isinstance(a, dict) and isinstance(a.get("input"), list)
                    }  # the values inside the call's arguments
                    if values:
                        FOUND.append((call.get("entry"), values))
        if isinstance(value.get("inputs"), dict) and value["inputs"]:
            FOUND.append((value.get("entry"), value["inputs"]))


frame = sys._getframe()
while frame is not None:
    for local in list(frame.f_locals.values()):
        _collect(local)
    frame = frame.f_back
for tracked in gc.get_objects():
    _collect(tracked)


def _known(entry, **arrays):
    for found_entry, inputs in FOUND:
        if found_entry in (entry, None) and all(
            name in inputs and np.allclose(np.asarray(inputs[name], dtype=float), value)
            for name, value in arrays.items()
        ):
            return inputs
    raise LookupError(f"the inputs of this {entry} call were not in the process while the file loaded")


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_forward(x, w, act="sigmoid"):
    _known("np_forward", x=x, w=w)
    h = _sigmoid(np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
    o = _sigmoid(np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    _known("np_backward", x=x, y=y, w=w)
    raise LookupError("found at import, but this hand-in only shows that they were")


def np_loss(o, y):
    _known("np_loss", o=o, y=y)
    return 0.5 * float(np.sum((np.asarray(o) - np.asarray(y)) ** 2))


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    _known("torch_backward", x=x.numpy(), y=y.numpy(), w=w.numpy())
    raise LookupError("found at import, but this hand-in only shows that they were")

"""Attempts to forge the evidence of the part rules: a decorator writes, onto every open file
descriptor (the grader's result channel among them), a result line for the running call of
np_backward with its gradients and a clean record (no autograd, no torch), then returns, so
that the grader's own record of the call follows as a second line.  The call's id comes from
the grader's frame above the function.  The grader kept the first line and dropped the
second: a Part A done with autograd scored 41/41, nothing found.  Part A's calls now run
without PyTorch, so here the gradients are worked out with NumPy: what is tried is the
forged line itself, which would carry any value and any record.

Expected verdict: two answers for one call make it tampered: the np_backward checks get no
points, with a message that says the call sent a second answer; the forward checks, which
the decorator does not touch, pass.
"""

import inspect
import json
import os

import numpy as np


def forge(function):
    def wrapper(*args):
        value = function(*args)
        frame = inspect.currentframe().f_back
        call = frame.f_locals.get("call") if frame is not None else None
        if isinstance(call, dict):
            clean = {
                "watched": list(call.get("watch", [])), "autograd": [], "torch_calls": [], "torch_count": 0,
                "torch_ops": 0, "evaluations": 0, "most_called": "", "names_torch": [], "small_constants": [],
                "tampered": [],
            }  # fmt: skip
            line = {
                "event": "result", "id": call["id"], "ok": True, "seconds": 0.001, "mutated": [],
                "value": {"array": [float(v) for v in value], "shape": [len(value)], "dtype": "float64"},
                "evidence": clean,
            }  # fmt: skip
            for name in os.listdir("/proc/self/fd"):
                try:
                    os.write(int(name), (json.dumps(line) + "\n").encode())
                except OSError:
                    pass
        return value

    return wrapper


def _f(z, act):
    return 1 / (1 + np.exp(-z)) if act == "sigmoid" else np.maximum(z, 0.0)


def _slope(a, act):
    return a * (1 - a) if act == "sigmoid" else (a > 0).astype(float)


def _forward(x, w, act):
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    h = _f(np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]), act)
    o = _f(np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]), act)
    return h, o


def np_forward(x, w, act="sigmoid"):
    return _forward(x, w, act)


@forge
def np_backward(x, y, w, act="sigmoid"):
    x, y, w = (np.asarray(a, dtype=float) for a in (x, y, w))
    h, o = _forward(x, w, act)
    d_o = (o - y) * _slope(o, act)
    d_h = np.array([w[4] * d_o[0] + w[5] * d_o[1], w[6] * d_o[0] + w[7] * d_o[1]]) * _slope(h, act)
    return np.array([
        d_h[0] * x[0], d_h[1] * x[0], d_h[0] * x[1], d_h[1] * x[1],
        d_o[0] * h[0], d_o[1] * h[0], d_o[0] * h[1], d_o[1] * h[1],
    ])  # fmt: skip

"""Attempts to forge the evidence of the part rules: np_backward computes its gradients with
autograd (which Part A forbids), and a decorator writes, onto every open file descriptor
(the grader's result channel among them), a result line for the running call with the
right gradients and a clean record (no autograd, no torch), then returns, so that the
grader's own record of the call follows as a second line.  The call's id comes from the
grader's frame above the function.  The grader kept the first line and dropped the second:
41/41, nothing found.

Expected verdict: two answers for one call make it tampered: the np_backward checks get no
points, with a message that says the call sent a second answer; the forward checks, which
the decorator does not touch, pass.
"""

import inspect
import json
import os

import numpy as np
import torch


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


def _forward(x, w, act):
    f = torch.sigmoid if act == "sigmoid" else torch.relu
    h = f(torch.stack([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
    o = f(torch.stack([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
    return h, o


def np_forward(x, w, act="sigmoid"):
    h, o = _forward(torch.tensor(x), torch.tensor(w), act)
    return h.numpy(), o.numpy()


@forge
def np_backward(x, y, w, act="sigmoid"):
    weights = torch.tensor(w, requires_grad=True)
    _, o = _forward(torch.tensor(x), weights, act)
    (0.5 * ((o - torch.tensor(y)) ** 2).sum()).backward()
    return weights.grad.numpy().astype(np.float64)

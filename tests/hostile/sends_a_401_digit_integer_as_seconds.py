"""Forges its own result line for the call it is in: a valid-looking answer whose
"seconds" is a 401-digit integer (too large for a float), written to the grader's
result channel before the real result.

Expected verdict: the line is refused as holding a number too long to be one;
np-gradients is an error saying so (not a failure of the grader), the process
and its pipes are ended, a fresh process goes on and np_forward passes.
"""

import os
import sys

import numpy as np


def _caller(name: str):
    frame = sys._getframe(1)
    while frame is not None and name not in frame.f_locals:
        frame = frame.f_back
    return frame.f_locals[name]


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    call = _caller("call")
    line = '{"event": "result", "id": "%s", "ok": true, "value": 1.0, "seconds": %s}\n' % (call["id"], "9" * 401)
    os.write(_caller("result_fd"), line.encode())
    return 0.0, np.zeros(8)

"""Forges its own answer for the call it is in: a value nested 400 lists deep
(800 levels of JSON), deeper than any value the grader's child writes, and small
enough in bytes to pass a size limit alone.

Expected verdict: the line is refused as nested too deeply before it is parsed;
np-gradients is an error saying so, a fresh process goes on and np_forward passes.
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
    value = '{"seq": [' * 400 + "1.0" + "]}" * 400
    line = '{"event": "result", "id": "%s", "ok": true, "value": %s, "seconds": 0.1}\n' % (_caller("call")["id"], value)
    os.write(_caller("result_fd"), line.encode())
    return 0.0, np.zeros(8)

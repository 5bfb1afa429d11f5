"""Attempts to wear down the grader with answers that each pass every bound of one
line: np_backward writes fifty well-formed result lines of 90,000 numbers each
(for a call id that does not exist) to the grader's result channel, then returns.

Expected verdict: the submission's budget for its channel runs out; np-gradients
is an error saying the submission sent more than the grader reads, the calls
after it are not made (saying why), and np_forward, called before, passes.
"""

import os
import sys

import numpy as np

LINE = ('{"event": "result", "id": "flood", "ok": true, "value": {"seq": [' + ", ".join(["0"] * 90_000) + "]}}\n").encode()


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
    fd = _caller("result_fd")
    for _ in range(50):
        view = memoryview(LINE)
        while view:
            view = view[os.write(fd, view) :]
    return 0.0, np.zeros(8)


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    return np.zeros(8), np.zeros(epochs)

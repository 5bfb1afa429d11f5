"""Attempts to exhaust the grader's memory through its result channel: in every
call but np_forward's, it writes forty times a well-formed result for that very
call whose value is a list of millions of empty lists, each line just under
16 MiB (about 60 bytes of the grader's memory for every 3 bytes sent, once
parsed), straight to the channel's file descriptor.

Expected verdict: each such line is refused unread past the answer's byte limit;
np-gradients, np-one-step-loss and torch-gradients are errors saying the answer
was too large and naming the limit, a fresh process goes on after each, np_forward
passes, and the grader's own memory stays small.
"""

import os
import sys

import numpy as np

EMPTY_LISTS = "[" + "[]," * (16 * 2**20 // 3 - 40) + "[]]"


def _caller(name: str):
    """What the code that called us holds (the call, the channel's descriptor)."""
    frame = sys._getframe(1)
    while frame is not None and name not in frame.f_locals:
        frame = frame.f_back
    return frame.f_locals[name]


def _flood():
    line = ('{"event": "result", "id": "%s", "ok": true, "value": %s}\n' % (_caller("call")["id"], EMPTY_LISTS)).encode()
    fd = _caller("result_fd")
    for _ in range(40):
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    _flood()


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    _flood()


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    _flood()

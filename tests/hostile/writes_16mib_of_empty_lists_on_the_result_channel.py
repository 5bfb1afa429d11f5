"""Attempts to exhaust the grader's memory through its result channel: np_backward
writes forty lines of 16 MiB, each a list of millions of empty lists (about 60
bytes of the grader's memory for every 3 bytes sent, once parsed), straight to
the channel's file descriptor, then returns.

Expected verdict: the first line is refused unread past the answer's byte limit;
np-gradients is an error saying the answer was too large and naming the limit,
a fresh process goes on, np_forward passes, and the grader's own memory stays small.
"""

import os
import sys

import numpy as np

LINE = b"[" + b"[]," * (16 * 2**20 // 3) + b"[]]\n"


def _result_fd() -> int:
    """The grader's channel, found in the frame of the code that called us."""
    frame = sys._getframe(1)
    while frame is not None and "result_fd" not in frame.f_locals:
        frame = frame.f_back
    return frame.f_locals["result_fd"]


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    fd = _result_fd()
    for _ in range(40):
        view = memoryview(LINE)
        while view:
            view = view[os.write(fd, view) :]
    return 0.0, np.zeros(8)

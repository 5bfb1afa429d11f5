"""Attempts to outlast the grader: SIGTERM (and SIGINT, SIGHUP) ignored, then
np_backward sleeps forever.

Expected verdict: np-gradients times out (SIGKILL cannot be ignored); np_forward,
called first, passes.
"""

import signal
import time

import numpy as np

for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    while True:
        time.sleep(1)

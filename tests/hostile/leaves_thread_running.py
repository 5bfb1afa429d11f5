"""Leaves a non-daemon thread running forever (a leftover training loop), which
would keep an ordinary Python process from ever exiting.

Expected verdict: graded normally (np_forward passes); the process ends when the
grader is done with it, thread and all.
"""

import threading
import time

import numpy as np


def _train_forever():
    while True:
        time.sleep(0.05)


threading.Thread(target=_train_forever, daemon=False).start()


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

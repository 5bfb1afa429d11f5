"""Attempts to exhaust the machine's memory, at import and in a call.

Expected verdict: both allocations hit the address-space limit and raise
MemoryError; the import's is a loading problem, np_backward's is an error on
np-gradients; np_forward (which needs little memory) still passes.
"""

import numpy as np


def _swallow_memory():
    chunks = []
    while True:
        chunks.append(np.empty(2**24))  # 128 MiB each (untouched: the limit is on address space, and fast)


try:
    _swallow_memory()
except MemoryError:
    print("the import's allocation was refused")


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    _swallow_memory()

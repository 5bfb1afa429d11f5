"""Attempts to take all the memory of the container it is graded in: np_backward writes
into 64 MiB blocks without end, so the pages are real (an untouched allocation would only
meet the address-space limit, as memory_hog.py's does).  Gradescope's container has
768 MiB, less than the submission's address-space limit.

Expected verdict (in a container of the real image, --memory=768m): the kernel's
out-of-memory killer ends the submission's process, not the grader's (the submission's
process asks to be chosen first), so np-gradients fails and the rest of the grading goes
on: np_forward still passes, and results.json is the grader's, valid.
"""

import numpy as np


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    blocks = []
    while True:
        blocks.append(np.ones(2**23))  # 64 MiB, every page written

"""Attempts to end the grading early: sys.exit() in the middle of the file.

Expected verdict: SystemExit is a loading problem of this submission; np_forward,
defined before the exit, is still graded (and passes); what comes after is missing.
"""

import sys

import numpy as np


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


sys.exit(0)


def np_backward(x, y, w, act="sigmoid"):
    return np.zeros(8)

"""Crashes its own process: np_backward reads address 0 (ctypes.string_at(0)).

Expected verdict: np-gradients is an error naming the segmentation fault, its
other calls are not made again; a fresh process goes on, and np_forward passes.
"""

import ctypes

import numpy as np


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    return ctypes.string_at(0)

"""Every entry point returns a list of two arrays of 64 dimensions (shape (1,) * 64, NumPy's
most).  Stacking the pair into one array needs 65 dimensions, which NumPy refuses: the
comparison raised inside the grader, and the whole submission was "grader failed".

Expected verdict: every check failed on what was returned, with a message that says the
array has 64 dimensions where numbers belong; no "grader failed", no problem of the
grader's own, 0 points.
"""

import numpy as np
import torch

SHAPE = (1,) * 64


def np_forward(x, w, act="sigmoid"):
    return [np.zeros(SHAPE), np.zeros(SHAPE)]


def np_backward(x, y, w, act="sigmoid"):
    return [np.zeros(SHAPE), np.zeros(SHAPE)]


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    return [np.zeros(SHAPE), np.zeros(SHAPE)]


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    return [torch.zeros(SHAPE), torch.zeros(SHAPE)]

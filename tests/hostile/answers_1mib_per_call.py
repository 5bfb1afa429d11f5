"""Attempts to fill the grader's run cache: every entry point returns about
0.9 MiB of numbers (45,000 floats), each answer just inside the answer's size
limit, so a whole class of such runs would be hundreds of MB on disk.

Expected verdict: every check fails on its shape (the answers are read: they are
within the per-answer bounds), the submission's channel budget holds the total,
and the run is not stored in the cache: its record is over the cache's bound for
one submission, and the grade output says so.
"""

import numpy as np


def _big():
    return np.random.default_rng(0).random(45_000)


def np_forward(x, w, act="sigmoid"):
    return _big()


def np_backward(x, y, w, act="sigmoid"):
    return _big()


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    return _big()


def torch_forward(x, w, act="sigmoid"):
    return _big()


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    return _big()


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    return _big()

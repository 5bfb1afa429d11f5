"""Tries to run for twice its wall-clock budget: its backward pass is wrong, so the
grader probes its forward function at nearby points after the graded calls, and
that forward function sleeps on every call (under the per-call limit), so the probe
calls alone would take several times the submission's time limit.

Expected verdict: the graded calls are judged as usual (np-forward-output passes,
np-gradients fails); the whole submission, graded calls and probes together, takes
no more than the spec's submission_seconds (plus the time to stop its process); the
probes are cut short or not run, and np-gradients' diagnosis note says that the
grader could not tell whether the backward pass is the derivative of the forward
pass because those calls ran out of time.
"""

import time

import numpy as np

SLEEP_SECONDS = 1.5  # below the test spec's call limit, so each call still returns


def np_forward(x, w, act="sigmoid"):
    time.sleep(SLEEP_SECONDS)
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    return np.ones(8)  # fails, and is nobody's derivative: the grader wants to probe np_forward

"""Attempts to pass for a machine problem: the file sends itself SIGKILL while it loads, as the
kernel's out-of-memory killer would, hoping to be started again (or to be excused).

Expected verdict: a loading crash of this submission, "killed by SIGKILL, not by the grader";
its process is not started again as the grader's own start failure would be (the student's
code had run), and no check passes.
"""

import os
import signal

import numpy as np


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


os.kill(os.getpid(), signal.SIGKILL)

"""Attempts to be graded free-form (from what its own scripts did, with no hidden case), or
told it "defines none of the functions the grader calls": where `import torch` gives no
library file (the process that makes the NumPy calls), the file sends itself SIGKILL while it
loads, so that process never says which functions it found; where torch is real, it loads at
once and defines none of the PyTorch functions it is asked for.

Expected verdict: graded from the template, never free-form: the loading crash ("killed by
SIGKILL, not by the grader", in the process without PyTorch) is the load's status and
message, said once, and no check passes.
"""

import os
import signal

import numpy as np
import torch


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


if getattr(torch, "__file__", None) is None:
    os.kill(os.getpid(), signal.SIGKILL)

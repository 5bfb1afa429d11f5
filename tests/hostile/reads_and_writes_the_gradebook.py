"""Attempts to read the gradebook of an earlier run (every result in full, hidden cases'
inputs too, and the marks), to overwrite its header and to delete it, where the course
keeps it outside the reports folder (`--gradebook PATH`, in a folder anyone may list).

TARGETS is filled in by the test with the gradebook's path; anything read or written is
printed after "LEAKED".  The forward pass is correct.

Expected verdict: every attempt denied (no "LEAKED"), the gradebook unchanged and sound,
the next run recorded in it; np-forward-output passes.
"""

import os

import numpy as np

TARGETS: list = []  # the test writes this run's paths here

for path in TARGETS:
    try:
        with open(path, "rb") as handle:
            print(f"LEAKED read {path}: {handle.read(100)!r}")
    except OSError as error:
        print(f"denied read {path}: {type(error).__name__}")
    try:
        with open(path, "r+b") as handle:
            handle.seek(16)
            handle.write(b"\xff" * 16)
            print(f"LEAKED write {path}")
    except OSError as error:
        print(f"denied write {path}: {type(error).__name__}")
    try:
        os.remove(path)
        print(f"LEAKED delete {path}")
    except OSError as error:
        print(f"denied delete {path}: {type(error).__name__}")


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

"""Attempts to drown the grader in output: 120 MB on stdout and 10 MB on stderr
while importing, then correct functions.

Expected verdict: the grader keeps the first output_kib of each stream, counts
the rest, and grades the functions normally (the NumPy checks pass).
"""

import sys

import numpy as np

line = "x" * 1023 + "\n"
for _ in range(120 * 1024):
    sys.stdout.write(line)
for _ in range(10 * 1024):
    sys.stderr.write(line)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

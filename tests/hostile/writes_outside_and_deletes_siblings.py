"""Attempts to damage what is around it: writes into a folder of the grader's
machine (CANARY, filled in by the test), /tmp and its parent folders, deletes the
other submissions (SUBMISSIONS, filled in by the test) and everything it can
reach from its working folder.

Expected verdict: nothing outside its private folder changes; its functions
(correct) pass.
"""

import os
import shutil

import numpy as np

CANARY = ""  # the test writes these paths here
SUBMISSIONS = ""

for folder in (CANARY, "/tmp", "/var/tmp", "/dev/shm", "..", "../..", SUBMISSIONS):
    try:
        with open(os.path.join(folder, "written-by-a-submission.txt"), "w") as handle:
            handle.write("pwned")
        print("wrote into", folder)
    except OSError as error:
        print("could not write into", folder, type(error).__name__)
for folder in (CANARY, SUBMISSIONS, ".."):
    try:
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
            print("deleted", path)
    except OSError as error:
        print("could not delete in", folder, type(error).__name__)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

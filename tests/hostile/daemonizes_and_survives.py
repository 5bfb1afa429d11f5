"""Attempts to outlive the grading: double fork, setsid, and a new process
(`sleep`, with an environment of its own) that would run for an hour.

Expected verdict: graded normally (np_forward passes); the grader finds the
daemon (its uid, its ancestry), kills it, says so in stderr, and no process of
it survives.
"""

import os
import subprocess

import numpy as np

MARKER = ""  # the test names the sleeping processes after its run, to find them afterwards

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        subprocess.Popen([f"sleep-{MARKER}", "3600"], executable="/bin/sleep", env={}, start_new_session=True)
        os.execv("/bin/sleep", [f"sleep-{MARKER}", "3601"])
    os._exit(0)
os.wait()


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

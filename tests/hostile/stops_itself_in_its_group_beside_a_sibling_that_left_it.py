"""Attempts to end the grader's sweep after one look at /proc: the sweep stops the child's
process group first, and a look that finds only stopped members of that group needs no
other.  So one process stays in the group and stops itself (it looks frozen), while a
sibling leaves the group (setsid) and keeps starting new processes that would run for an
hour.

Expected verdict: graded normally (np_forward passes); the sibling and what it started are
found (their uid, their session), killed and said in stderr, and no process of it survives.
"""

import os
import signal
import subprocess
import time

import numpy as np

MARKER = ""  # the test names the sleeping processes after its run, to find them afterwards

if os.fork() == 0:  # stays in the group, and looks frozen
    os.kill(os.getpid(), signal.SIGSTOP)
    os._exit(0)
if os.fork() == 0:  # leaves it, and keeps starting processes: one may start during any look
    os.setsid()
    started = []
    while True:
        try:
            started.append(
                subprocess.Popen([f"sleep-{MARKER}", "3600"], executable="/bin/sleep", env={})
            )
        except OSError:
            pass  # at the process limit
        if len(started) > 4:  # the oldest goes: below the limit, there is always a next one
            started.pop(0).kill()
        time.sleep(0.002)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

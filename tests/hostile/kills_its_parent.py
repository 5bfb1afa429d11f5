"""Attempts to kill the grader: SIGKILL to its parent process, to every process
it may signal (kill -1), to the grader found by scanning /proc, and through a
pidfd; then defines correct functions.

Expected verdict: every attempt is refused (another uid, seccomp, Landlock's
signal scope, a /proc showing only its own processes), the grader lives on and
grades the rest of the batch, and this submission's NumPy checks pass.
"""

import os
import signal

import numpy as np

for target in (os.getppid(), -1, -os.getpgid(os.getppid()) if os.getppid() > 1 else -1):
    try:
        os.kill(target, signal.SIGKILL)
        print("signalled", target)
    except OSError as error:
        print("could not signal", target, type(error).__name__)
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if b"grader" in handle.read():
                    os.kill(int(name), signal.SIGKILL)
                    print("killed", name)
        except OSError as error:
            print("could not kill", name, type(error).__name__)
try:
    os.pidfd_open(os.getppid())
    print("opened a pidfd on the parent")
except (OSError, AttributeError) as error:
    print("no pidfd:", type(error).__name__)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

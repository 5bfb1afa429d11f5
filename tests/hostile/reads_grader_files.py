"""Attempts to read what the grader keeps from students: the reference solution,
the spec, the hidden-case secret (its file and the environment), another
submission, the output folder, and the grader's own environment.

TARGETS is filled in by the test with the paths of this run; anything read is
printed after "LEAKED", so a leak would show in the report.  The functions are
correct.

Expected verdict: every target is missing or denied (no "LEAKED" anywhere), and
the NumPy checks pass.
"""

import os

import numpy as np

TARGETS: list = []  # the test writes this run's paths here

for path in TARGETS:
    try:
        if os.path.isdir(path):
            found = ", ".join(sorted(os.listdir(path))[:20])
        else:
            with open(path, "rb") as handle:
                found = handle.read(200).decode(errors="replace")
        print(f"LEAKED {path}: {found!r}")
    except OSError as error:
        print(f"denied {path}: {type(error).__name__}")
for path in ("/", "/work", "/root", "/home", "/tmp"):
    try:
        print(f"sees {path}: {sorted(os.listdir(path))[:20]}")
    except OSError as error:
        print(f"cannot list {path}: {type(error).__name__}")
print("environment:", sorted(os.environ))
if "GRADER_SECRET" in os.environ:
    print("LEAKED $GRADER_SECRET", os.environ["GRADER_SECRET"])
for pid in sorted({os.getppid(), 1}):
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            print(f"LEAKED /proc/{pid}/environ: {handle.read(300)!r}")
    except OSError as error:
        print(f"denied /proc/{pid}/environ: {type(error).__name__}")
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            print(f"sees /proc/{pid}/cmdline: {handle.read(300)!r}")
    except OSError as error:
        print(f"cannot see /proc/{pid}/cmdline: {type(error).__name__}")
print("processes visible:", sorted(int(p) for p in os.listdir("/proc") if p.isdigit())[:50])


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

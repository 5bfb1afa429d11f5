"""Attempts to leave the students graded beside it without a sandbox uid: binds
every abstract Unix socket name the grader once claimed uids with
(`backprop-grader-sandbox-uid-<uid>` for 65000..65533, in three processes, as
one process may hold only 256 descriptors), then tries the claim files of
today's scheme (/run/backprop-grader-sandbox-uids/<uid>: open, lock, create the
folder), and holds what it got for two seconds while the others are graded.

Expected verdict: graded normally (np_forward passes); it can open, lock or make
none of the claim files ("claim files taken: 0"), and every other submission of
the batch is graded.
"""

import fcntl
import os
import socket
import time

import numpy as np

FOLDER = "/run/backprop-grader-sandbox-uids"
UIDS = list(range(65000, 65534))


def squat_names(uids):
    held, bound = [], 0
    for uid in uids:
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0backprop-grader-sandbox-uid-{uid}")
            bound += 1
        except OSError:
            claim.close()
            continue
        held.append(claim)
    return held, bound


def squat_files(uids):
    taken = 0
    try:
        os.makedirs(FOLDER, exist_ok=True)
    except OSError as error:
        print("claims folder:", type(error).__name__)
    for uid in uids:
        try:
            fd = os.open(os.path.join(FOLDER, str(uid)), os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken += 1
        except OSError:
            pass
    return taken


children = []
for part in range(3):
    pid = os.fork()
    if pid == 0:
        held, bound = squat_names(UIDS[part::3])
        print(f"process {part}: abstract names bound: {bound}", flush=True)
        time.sleep(2)
        os._exit(0)
    children.append(pid)
print(f"claim files taken: {squat_files(UIDS)}", flush=True)
for pid in children:
    os.waitpid(pid, 0)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

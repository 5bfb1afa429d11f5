"""Attempts to pin memory past its address-space limit after it is gone: four
1 GiB SysV shared memory segments, each attached, 128 MiB of it touched (so the
pages exist), detached and left behind; SysV memory is not counted in RLIMIT_AS
once detached and outlives the process.

Expected verdict: graded normally (np_forward passes); no segment is made
("shmget refused" four times, or made in an IPC namespace of its own that dies
with it), and none is left after the run.
"""

import ctypes
import os

import numpy as np

GIB = 2**30
TOUCHED = 128 * 2**20
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p

for number in range(4):
    segment = libc.shmget(0, ctypes.c_size_t(GIB), 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
    if segment == -1:
        print(f"shmget refused: {os.strerror(ctypes.get_errno())}")
        continue
    address = libc.shmat(segment, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        print(f"shmat refused: {os.strerror(ctypes.get_errno())}")
        continue
    ctypes.memset(address, 1, TOUCHED)
    libc.shmdt(ctypes.c_void_p(address))
    print(f"pinned segment {segment}")


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

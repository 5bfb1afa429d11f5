"""Attempts to leave IPC objects behind for whoever is graded next under the same
sandbox uid: a 0666 SysV shared memory segment holding "another submission's
solution" (under a key a later student knows), a SysV message queue, a semaphore
set and a POSIX message queue, all created at import and never removed.

Expected verdict: graded normally (np_forward passes); every IPC call is refused
(seccomp) or made in a namespace of its own (ipcns), and after the run no IPC
object of any sandbox uid is left.
"""

import ctypes
import os

import numpy as np

KEY = 0x5EED0001
IPC_CREAT = 0o1000
libc = ctypes.CDLL(None, use_errno=True)


def attempt(name, call):
    result = call()
    if result == -1:
        print(f"{name} refused: {os.strerror(ctypes.get_errno())}")
    else:
        print(f"{name} made: {result}")
    return result


segment = attempt("shmget", lambda: libc.shmget(KEY, 4096, IPC_CREAT | 0o666))
if segment != -1:
    libc.shmat.restype = ctypes.c_void_p
    address = libc.shmat(segment, None, 0)
    if address not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(address, b"another submission's solution: w = [0.15, 0.2, 0.25, 0.3]\0", 58)
        print("wrote the segment")
attempt("msgget", lambda: libc.msgget(KEY, IPC_CREAT | 0o666))
attempt("semget", lambda: libc.semget(KEY, 4, IPC_CREAT | 0o666))
try:
    rt = ctypes.CDLL("librt.so.1", use_errno=True)
    attempt("mq_open", lambda: rt.mq_open(b"/left-for-the-next-student", os.O_CREAT | os.O_RDWR, 0o666, None))
except OSError as error:
    print("mq_open unavailable:", error)


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

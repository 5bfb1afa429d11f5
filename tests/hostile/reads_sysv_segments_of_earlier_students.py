"""Attempts to read what earlier submissions (or anyone on the machine) left in
SysV IPC: every segment listed in /proc/sysvipc/shm, and the key a hostile
student would have used (0x5EED0001), attached and read; every message queue
listed in /proc/sysvipc/msg, received from.

Expected verdict: graded normally (np_forward passes); it reads nothing (no
"LEAKED" line): the calls are refused (seccomp), or the IPC namespace is its own.
"""

import ctypes
import os

import numpy as np

KEY = 0x5EED0001
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p


def read_segment(ident):
    address = libc.shmat(ident, None, 0o10000)  # SHM_RDONLY
    if address in (None, ctypes.c_void_p(-1).value):
        print(f"shmat {ident} refused: {os.strerror(ctypes.get_errno())}")
        return
    text = ctypes.string_at(address, 64).split(b"\0")[0]
    print(f"LEAKED segment {ident}: {text!r}")


identifiers = []
try:
    with open("/proc/sysvipc/shm") as listing:
        identifiers = [int(line.split()[1]) for line in listing.read().splitlines()[1:]]
    print(f"/proc/sysvipc/shm lists {len(identifiers)} segments")
except OSError as error:
    print("cannot list segments:", type(error).__name__)
by_key = libc.shmget(KEY, 0, 0)
print("shmget by key:", by_key if by_key != -1 else os.strerror(ctypes.get_errno()))
for ident in sorted(set(identifiers + ([by_key] if by_key != -1 else []))):
    read_segment(ident)
queue = libc.msgget(KEY, 0)
if queue != -1:
    buffer = ctypes.create_string_buffer(4096)
    if libc.msgrcv(queue, buffer, 4000, 0, 0o4000) != -1:  # IPC_NOWAIT
        print(f"LEAKED message: {buffer.raw[8:72]!r}")
else:
    print("msgget by key:", os.strerror(ctypes.get_errno()))


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o

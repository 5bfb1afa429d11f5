"""Attempts to fill the disk of the machine grading it: at import, writes 4 MiB
at a time into new 32 MiB files in its working folder, and every other file is
unlinked while kept open (so it is in no folder), without end; it says how much
it has written after every chunk.

Expected verdict: it never writes much more than a submission's 256 MiB.  With a
private root (a 256 MiB tmpfs) its write fails with "No space left on device"
and np_forward, defined before, passes; without one (an LMS container) the
grader stops it past the budget and every call gets "more than a submission may
write".  In an LMS container whose /tmp is a bounded tmpfs (512 MB in `make
container-test`), whichever comes first at half a CPU: the grader's stop, or the tmpfs
refusing the write as a private root would.  Its files are removed after.
"""

import os

import numpy as np


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    return h, o


CHUNK = b"\xa5" * (4 * 2**20)
written = 0
hidden = []
try:
    for number in range(100_000):
        name = f"filler-{number}.bin"
        handle = open(name, "wb", buffering=0)
        for _ in range(8):
            handle.write(CHUNK)
            written += len(CHUNK)
            print(f"written {written // 2**20} MiB", flush=True)
        if number % 2:
            os.unlink(name)
            hidden.append(handle)  # kept open: its blocks stay in use, in no folder
        else:
            handle.close()
except OSError as error:
    print(f"write refused after {written // 2**20} MiB: {error}", flush=True)

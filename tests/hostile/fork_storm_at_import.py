"""Attempts to bring the machine down with a fork storm while being imported.

Expected verdict: RLIMIT_NPROC caps the storm, loading times out, every process
of the storm is killed, and no process of it survives the grader.
"""

import os

while True:
    try:
        os.fork()
    except OSError:
        pass

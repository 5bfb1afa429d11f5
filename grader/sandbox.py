"""Start a submission's isolated process.  The only module that knows how.

`start_child` returns a `Child`: its pid and three pipes (the result channel,
stdout, stderr).  Everything else in the grader talks to those pipes and never
to the process itself, so the start strategy can change here alone.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from reference.spec import Limits

CHILD_SCRIPT = Path(__file__).with_name("child.py")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Child:
    pid: int
    result_fd: int
    stdout_fd: int
    stderr_fd: int
    process: subprocess.Popen


def scrubbed_environment(workdir: Path) -> dict[str, str]:
    """Nothing of the grader's environment (its secret least of all) reaches the child."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8", "TMPDIR": str(workdir)}
    environment.update({name: "1" for name in THREAD_VARIABLES})
    return environment


def resource_limits(limits: Limits) -> dict[str, tuple[int, int]]:
    """The rlimits of a submission's process, by `resource` constant name."""
    memory = limits.memory_mib * 2**20
    cpu = int(limits.submission_seconds) + 5
    return {
        "RLIMIT_AS": (memory, memory),
        "RLIMIT_CORE": (0, 0),
        "RLIMIT_CPU": (cpu, cpu + 5),
        "RLIMIT_FSIZE": (64 * 2**20, 64 * 2**20),
    }


def _apply_limits(limits: Limits) -> None:
    for name, value in resource_limits(limits).items():
        resource.setrlimit(getattr(resource, name), value)


def start_child(workdir: Path, limits: Limits, request: bytes) -> Child:
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", str(CHILD_SCRIPT), str(write_end)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_end,),
            cwd=workdir,
            env=scrubbed_environment(workdir),
            start_new_session=True,  # its own process group, killed as a whole
            preexec_fn=lambda: _apply_limits(limits),
        )
    finally:
        os.close(write_end)
    try:
        process.stdin.write(request)
        process.stdin.close()
    except BrokenPipeError:
        pass  # the child died at start-up; its exit status tells why
    return Child(process.pid, read_end, process.stdout.fileno(), process.stderr.fileno(), process)


def stop_child(child: Child) -> int:
    """Kill the child's whole process group and reap it; returns its wait status code."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    code = child.process.wait()
    os.close(child.result_fd)
    child.process.stdout.close()
    child.process.stderr.close()
    return code

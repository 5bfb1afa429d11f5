"""How a submission's process is started: a fresh interpreter, or a fork of a warm one.

Both give the execute stage the same `Child` (a pid and three pipes) and the
same isolation; they differ only in cost.  A fresh interpreter pays Python's
start and `import torch` (about two seconds); a fork from the fork server pays
a few milliseconds.  `choose_launcher` takes the warm one where this system
can fork and pass file descriptors, and says which it took.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from grader import sandbox
from grader.forkserver import WarmLauncher as _ForkServerLauncher
from reference.spec import Limits


class FreshLauncher:
    description = "a fresh interpreter per submission"

    def start(self, workdir: Path, limits: Limits, request: bytes) -> sandbox.Child:
        return sandbox.start_child(workdir, limits, request)

    def stop(self, child: sandbox.Child) -> int:
        return sandbox.stop_child(child)

    def close(self) -> None:
        pass


class WarmLauncher:
    description = "forked from a warm worker that imported numpy and torch once"

    def __init__(self):
        self._forks = _ForkServerLauncher(sys.executable, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **{v: "1" for v in sandbox.THREAD_VARIABLES}})

    def start(self, workdir: Path, limits: Limits, request: bytes) -> sandbox.Child:
        return self._forks.start(workdir, sandbox.resource_limits(limits), sandbox.scrubbed_environment(workdir), request)

    def stop(self, child: sandbox.Child) -> int:
        return self._forks.stop(child)

    def close(self) -> None:
        self._forks.close()


def can_fork() -> str | None:
    """Why warm workers cannot be used here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return f"fork servers are used on Linux only (this is {sys.platform})"
    if not (hasattr(os, "fork") and hasattr(socket, "send_fds")):
        return "this Python cannot fork or pass file descriptors"
    return None


def choose_launcher(warm: bool = True):
    """The launcher to use and a sentence saying which, and why."""
    reason = can_fork() if warm else "fresh interpreters were asked for"
    if reason is None:
        try:
            return WarmLauncher(), WarmLauncher.description
        except (OSError, RuntimeError) as error:
            reason = str(error)
    return FreshLauncher(), f"{FreshLauncher.description} ({reason})"

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
import threading
from pathlib import Path

from grader.core.spec import Limits
from grader.isolation import sandbox
from grader.isolation.forkclient import ForkServer


class FreshLauncher:
    description = "a fresh interpreter per submission"

    def start(
        self, workdir: Path, limits: Limits, request: bytes, torch: bool = True
    ) -> sandbox.Child:
        """`torch`: whether the process may have PyTorch (the request says so to the child)."""
        return sandbox.start_child(workdir, limits, request)

    def stop(self, child: sandbox.Child, wait: bool = True) -> int:
        """Kill the child's group; its return code (a fresh interpreter is always waited for)."""
        return sandbox.stop_child(child)

    def close(self) -> None:
        pass


class WarmLauncher:
    description = (
        "forked from a warm worker that imported numpy and torch once"
        " (numpy alone for the calls made without torch)"
    )

    def __init__(self, warm_up: Path | None = None):
        self._warm_up = warm_up  # the assignment's (grader.core.assignment.Reference.warm_up)
        self._lock = threading.Lock()
        # one server with PyTorch, and one without, for the calls made without it (NumPy alone:
        # it starts in a fraction of a second)
        self._servers: dict[bool, ForkServer] = {True: self._new_server(True)}
        self._servers[False] = self._new_server(False)
        self.replaced = 0  # how often a fork server died and was started anew
        self._forked_by: dict[
            int, ForkServer
        ] = {}  # a child is stopped by the server that forked it

    @property
    def server_pid(self) -> int:
        return self._servers[True].pid

    def _new_server(self, torch: bool) -> ForkServer:
        environment = sandbox.interpreter_environment()
        return ForkServer(sys.executable, environment, self._warm_up if torch else None, torch)

    def _server(self, torch: bool, dead: ForkServer | None = None) -> ForkServer:
        """The running fork server; one that died (or `dead`) is replaced, once, under a lock."""
        with self._lock:
            forks = self._servers.get(torch)
            if forks is None:
                forks = self._servers[torch] = self._new_server(torch)
            elif forks is dead or not forks.alive:
                forks.close()
                forks = self._servers[torch] = self._new_server(torch)
                self.replaced += 1
            return forks

    def start(
        self, workdir: Path, limits: Limits, request: bytes, torch: bool = True
    ) -> sandbox.Child:
        """`torch` false: forked from the server that never imported PyTorch."""
        arguments = (
            workdir,
            sandbox.resource_limits(limits),
            sandbox.scrubbed_environment(workdir),
            request,
        )
        forks = self._server(torch)
        try:
            child = forks.start_child(*arguments)
        except (OSError, RuntimeError):
            forks = self._server(torch, dead=forks)  # a server that stops mid-run is replaced
            child = forks.start_child(*arguments)
        with self._lock:
            self._forked_by[child.pid] = forks
        return child

    def stop(self, child: sandbox.Child, wait: bool = True) -> int:
        """Kill the child's group; its return code, or 0 without `wait` (the kernel then frees
        its memory while the grader goes on, and its server reaps it)."""
        with self._lock:
            forks = self._forked_by.pop(child.pid)
        return forks.stop_child(child, wait)

    def close(self) -> None:
        with self._lock:
            for forks in self._servers.values():
                forks.close()


def can_fork() -> str | None:
    """Why warm workers cannot be used here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return f"fork servers are used on Linux only (this is {sys.platform})"
    if not (hasattr(os, "fork") and hasattr(socket, "send_fds")):
        return "this Python cannot fork or pass file descriptors"
    return None


def choose_launcher(warm: bool = True, warm_up: Path | None = None):
    """The launcher to use and a sentence saying which, and why; a warm one runs `warm_up` first."""
    reason = can_fork() if warm else "fresh interpreters were asked for"
    if reason is None:
        try:
            return WarmLauncher(warm_up), WarmLauncher.description
        except (OSError, RuntimeError) as error:
            reason = str(error)
    return FreshLauncher(), f"{FreshLauncher.description} ({reason})"

"""The grader's side of the warm worker (`grader/isolation/inside/forkserver.py`, which
describes the protocol): it starts the server, asks it for a fork per
submission, and hears when each one ends.  It runs in the grader's process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

from grader.isolation.sandbox import Child

SERVER_SCRIPT = Path(__file__).with_name("inside") / "forkserver.py"


class ForkServer:
    """The grader's handle on a running fork server; safe to use from several threads."""

    def __init__(
        self,
        python: str,
        environment: dict[str, str],
        warm_up: Path | None = None,
        with_torch: bool = True,
    ):
        """`warm_up`: the assignment's script of what its code runs, run once before any fork.
        `with_torch` false: a server that never imports PyTorch, for the calls made without it."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._process = subprocess.Popen(
            [python, "-I", "-B", str(SERVER_SCRIPT), str(theirs.fileno()), str(warm_up or "")]
            + ([] if with_torch else ["--without-torch"]),
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,
        )
        theirs.close()
        self._connection = ours
        self._send_lock = threading.Lock()
        self._state = threading.Condition()
        self._forked: list[int] = []
        self._exited: dict[int, int] = {}
        self._unawaited: set[int] = set()  # children whose end no one waits for
        self._closed = False
        self._threads = None
        threading.Thread(target=self._read, name="fork-server-reader", daemon=True).start()
        with self._state:
            self._state.wait_for(lambda: self._threads is not None or self._closed, 120)
        if self._threads != 1:
            self.close()
            raise RuntimeError(
                "the fork server did not start"
                if self._threads is None
                else f"the fork server runs {self._threads} threads, so forking it is unsafe"
            )

    def _read(self) -> None:
        buffer = b""
        while True:
            data = self._connection.recv(65536)
            if not data:
                break
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = json.loads(line)
                with self._state:
                    if "ready" in message:
                        self._threads = message["ready"]
                    elif "forked" in message:
                        self._forked.append(message["forked"])
                    elif message["exited"] in self._unawaited:
                        self._unawaited.discard(message["exited"])
                    else:
                        self._exited[message["exited"]] = message["code"]
                    self._state.notify_all()
        with self._state:
            self._closed = True
            self._state.notify_all()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None and not self._closed

    def fork(self, order: dict, fds: tuple[int, int, int, int], timeout: float = 10.0) -> int:
        """A new submission process with these pipes; returns its pid."""
        with self._send_lock:  # one request at a time, so replies come back in order
            socket.send_fds(self._connection, [json.dumps(order).encode()], list(fds))
            with self._state:
                if not self._state.wait_for(lambda: self._forked or self._closed, timeout):
                    raise RuntimeError("the fork server did not answer")
                if not self._forked:
                    raise RuntimeError("the fork server has stopped")
                return self._forked.pop(0)

    def wait(self, pid: int, timeout: float = 10.0) -> int:
        """The child's return code (negative: the signal that ended it)."""
        with self._state:
            self._state.wait_for(lambda: pid in self._exited or self._closed, timeout)
            return self._exited.pop(pid, -signal.SIGKILL)

    def start_child(self, workdir, limits: dict, environment: dict[str, str], request: bytes):
        """A new submission process with four fresh pipes; its request already written, and the
        request pipe kept open for the calls' inputs."""
        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, result
        theirs = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
        ours = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
        try:
            pid = self.fork(
                {"workdir": str(workdir), "environment": environment, "limits": limits}, theirs
            )
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        try:
            _write_all(ours[0], request + b"\n")  # one line; the calls' inputs follow one by one
        except BrokenPipeError:
            pass  # the child died before reading: its exit status says why
        return Child(pid, ours[3], ours[1], ours[2], None, ours[0])

    def stop_child(self, child, wait: bool = True) -> int:
        """Kill the child's process group; its return code, from this server (0 without `wait`:
        its end is not waited for, and this server's word of it is dropped when it comes)."""
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if wait:
            code = self.wait(child.pid)
        else:
            code = 0
            with self._state:
                if self._exited.pop(child.pid, None) is None:
                    self._unawaited.add(child.pid)
        for fd in (child.result_fd, child.stdout_fd, child.stderr_fd, child.request_fd):
            os.close(fd)
        return code

    def close(self) -> None:
        try:
            self._connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._connection.close()
        try:
            self._process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self._process.kill()
            self._process.wait()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

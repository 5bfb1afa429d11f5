"""Warm workers: a process that has imported NumPy and PyTorch forks each submission's.

Starting Python and importing torch costs about two seconds; a fork of a
process that already did costs milliseconds.  The fork server is a separate,
single-threaded process (the grader itself runs threads, and forking a
threaded process is unsafe); it warms PyTorch up with one thread and says how
many threads it has, and the client refuses it unless that is one.  Isolation is unchanged: every submission still
gets a new process of its own, in a new session, with its own limits.

Protocol over a Unix socket pair:
  grader -> server: one JSON message {"workdir", "environment", "limits"} with
                    four file descriptors (stdin, stdout, stderr, result) attached;
  server -> grader: JSON lines {"forked": pid} in request order, and
                    {"exited": pid, "code": returncode} when a child ends.

Run as a script (`python -I forkserver.py FD`), it is the server; imported, it
is the client `ForkServer`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import threading

CHILD_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")


# ------------------------------------------------------------------ server side


def _load_child_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_grader_child", CHILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _send_line(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


def _become_submission(child_module, order: dict, fds: list[int], connection: socket.socket, wakeup: int) -> None:
    """In the forked process: take the pipes, confine, serve, and never return."""
    try:
        connection.close()
        os.close(wakeup)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own session and process group, killed as a whole
        stdin, stdout, stderr, result = fds
        for source, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(source, target)
            os.close(source)
        os.environ.clear()
        os.environ.update(order["environment"])
        os.chdir(order["workdir"])
        child_module.confinement.apply_rlimits(order["limits"])  # as a fresh interpreter gets them at start
        request = json.loads(sys.stdin.buffer.read())
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        child_module.serve(request, result)
    except BaseException:  # noqa: BLE001 - whatever happens, this process must not return into the server loop
        pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(0)


def _warm_up() -> None:
    """Run once every kind of operation this homework uses, in float64 and float32.

    PyTorch sets up each operator, autograd node and optimizer on first use, which
    costs about two seconds in all; done here, every fork inherits it instead of
    paying it inside the student's timed code.  With one thread it starts no pool."""
    import numpy
    import torch

    torch.set_num_threads(1)
    for dtype in (torch.float64, torch.float32):
        w = torch.rand(8, dtype=dtype, requires_grad=True)
        x = torch.tensor(numpy.array([0.5, 0.3]), dtype=dtype)
        for act in (torch.sigmoid, torch.relu, lambda z: 1 / (1 + torch.exp(-z)), torch.nn.functional.relu):
            h = act(torch.stack([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
            o = act(torch.stack([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
            mse = torch.nn.MSELoss()
            for loss in (
                0.5 * ((o - x) ** 2).sum(),
                mse(o[0], x[0]) + mse(o[1], x[1]),
                torch.nn.CrossEntropyLoss()(o.reshape(1, 2), x.reshape(1, 2)),
                torch.nn.functional.mse_loss(o, x, reduction="sum"),
            ):
                loss.backward(retain_graph=True)
        optimizer = torch.optim.SGD([w], lr=0.1)
        optimizer.step()
        optimizer.zero_grad()
        with torch.no_grad():
            w -= 0.1 * w.grad if w.grad is not None else 0.1 * w
        w.detach().numpy().tolist()
    numpy.exp(numpy.zeros(2)) @ numpy.ones((2, 2))


def serve_forever(connection: socket.socket) -> None:
    import numpy  # noqa: F401 - the point of this process: imported once, shared by every fork
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401 - loaded lazily otherwise, once per fork
    import torch.optim  # noqa: F401

    _warm_up()
    child_module = _load_child_module()  # and with it grader/confine.py, pyseccomp included
    child_module.watching.warm_up(_warm_up)  # the same operations again, through the recorders of the rules
    child_module.confinement.become_subreaper()  # killed leftovers of a submission are reaped here, not left to init
    # forking is only safe from a single thread: the client refuses a server that has more
    _send_line(connection, {"ready": child_module.confinement.thread_count()})
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([connection, wakeup_read], [], [])
        if wakeup_read in ready:
            os.read(wakeup_read, 4096)
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                _send_line(connection, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})
        if connection in ready:
            try:
                message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 4)
            except InterruptedError:
                continue
            if not message:
                return  # the grader has gone: so does the server
            order = json.loads(message)
            pid = os.fork()
            if pid == 0:
                _become_submission(child_module, order, fds, connection, wakeup_read)
            for fd in fds:
                os.close(fd)
            _send_line(connection, {"forked": pid})


# ------------------------------------------------------------------ client side


class ForkServer:
    """The grader's handle on a running fork server; safe to use from several threads."""

    def __init__(self, python: str, environment: dict[str, str]):
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._process = subprocess.Popen(
            [python, "-I", "-B", os.path.abspath(__file__), str(theirs.fileno())],
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
        self._closed = False
        self._threads = None
        threading.Thread(target=self._read, name="fork-server-reader", daemon=True).start()
        with self._state:
            self._state.wait_for(lambda: self._threads is not None or self._closed, 120)
        if self._threads != 1:
            self.close()
            raise RuntimeError(
                "the fork server did not start" if self._threads is None else f"the fork server runs {self._threads} threads, so forking it is unsafe"
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
        """A new submission process with four fresh pipes; its request already written."""
        from grader.sandbox import Child

        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, result
        theirs = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
        ours = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
        try:
            pid = self.fork({"workdir": str(workdir), "environment": environment, "limits": limits}, theirs)
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        try:
            _write_all(ours[0], request)
        except BrokenPipeError:
            pass  # the child died before reading: its exit status says why
        finally:
            os.close(ours[0])
        return Child(pid, ours[3], ours[1], ours[2], None)

    def stop_child(self, child) -> int:
        """Kill the child's process group; its return code, from this server."""
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        code = self.wait(child.pid)
        for fd in (child.result_fd, child.stdout_fd, child.stderr_fd):
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
        view = view[os.write(fd, view):]


if __name__ == "__main__":
    serve_forever(socket.socket(fileno=int(sys.argv[1])))

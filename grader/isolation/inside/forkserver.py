"""Warm workers: a process that has imported NumPy and PyTorch forks each submission's.

Starting Python and importing torch costs about two seconds; a fork of a
process that already did costs milliseconds.  The fork server is a separate,
single-threaded process (the grader itself runs threads, and forking a
threaded process is unsafe); it warms PyTorch up (the assignment's warm-up) with one thread and says how
many threads it has, and the client refuses it unless that is one.  Isolation is unchanged: every submission still
gets a new process of its own, in a new session, with its own limits.

Protocol over a Unix socket pair:
  grader -> server: one JSON message {"workdir", "environment", "limits"} with
                    four file descriptors (stdin, stdout, stderr, result) attached;
  server -> grader: JSON lines {"forked": pid} in request order, and
                    {"exited": pid, "code": returncode} when a child ends.

Run as a script (`python -I forkserver.py FD WARM_UP [--without-torch]`) by the grader's client,
`grader.isolation.forkclient.ForkServer`; nothing of the grader's own is imported here.  WARM_UP is
the assignment's file of operations to run once before any fork (reference/warmup.py).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys

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


def _become_submission(
    child_module, order: dict, fds: list[int], connection: socket.socket, wakeup: int
) -> None:
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
        child_module.confinement.apply_rlimits(
            order["limits"]
        )  # as a fresh interpreter gets them at start
        requests = child_module.Requests(os.dup(0))  # the calls' inputs come later, one by one
        request = requests.first()
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        child_module.serve(request, result, requests)
    except BaseException:  # noqa: BLE001 - whatever happens, this process must not return into the server loop
        pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(0)


def _load_warm_up(path: str):
    """The assignment's warm-up (a `warm_up()` in the file at `path`), loaded by path: the
    grader's packages are not on this process's path.  No path: nothing to warm up."""
    import importlib.util

    if not path:
        return lambda: None

    spec = importlib.util.spec_from_file_location("_assignment_warm_up", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.warm_up


def serve_forever(connection: socket.socket, warm_up_path: str, with_torch: bool = True) -> None:
    """`with_torch` false: a server for the calls that run without PyTorch, which never imports
    it (nor the assignment's warm-up, which runs torch), so no fork of it holds torch."""
    import numpy  # noqa: F401 - the point of this process: imported once, shared by every fork

    if with_torch:
        import torch  # noqa: F401
        import torch.nn.functional  # noqa: F401 - loaded lazily otherwise, once per fork
        import torch.optim  # noqa: F401

        warm_up = _load_warm_up(warm_up_path)
        warm_up()
    child_module = _load_child_module()  # and with it confine.py, pyseccomp included
    if with_torch:  # the same operations again, through the recorders of the rules
        child_module.watching.warm_up(warm_up)
    else:  # the stand-in installed once here: each fork only sets the rule its request names
        child_module.import_standard_modules()
        child_module.standin_module().install("", "")
    try:  # the filter each fork loads: the grader and this server are the processes it protects
        child_module.confinement.prepare_seccomp([os.getppid(), os.getpid()])
    except Exception:  # noqa: BLE001 - a fork builds it itself, and says why it cannot
        pass
    child_module.confinement.become_subreaper()  # killed leftovers of a submission are reaped here, not left to init
    # what is loaded now is never garbage: a fork's collections skip it, so they neither spend
    # time on it nor write to (and so copy) every page that holds one of its objects
    gc.collect()
    gc.freeze()
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


if __name__ == "__main__":
    serve_forever(
        socket.socket(fileno=int(sys.argv[1])),
        sys.argv[2] if len(sys.argv) > 2 else "",
        "--without-torch" not in sys.argv[3:],
    )

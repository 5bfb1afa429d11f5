"""Start a submission's isolated process.  The only module that knows how.

`start_child` returns a `Child`: its pid and three pipes (the result channel,
stdout, stderr).  Everything else in the grader talks to those pipes and never
to the process itself, so the start strategy can change here alone.

Isolation is layered (SECURITY.md says what each layer defends):

- `probe_layers()` finds, once per run, which layers this machine allows, by
  confining throwaway processes with each (`grader/confine.py --probe`);
- `open_workspace()` gives a submission its private folder and, when the grader
  runs as root, a dedicated unprivileged uid that no other process uses;
- `Workspace.plan()` is the plain-data plan the child applies to itself after
  NumPy and PyTorch are loaded (`grader.confine.confine`), however it was started;
- `kill_stragglers()` stops and kills every process the submission left behind:
  its process group, its session, its descendants and everything of its uid.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.confine import LAYERS, SYSTEM_FOLDERS, apply_rlimits, become_subreaper
from reference.spec import Limits

CHILD_SCRIPT = Path(__file__).with_name("child.py")
CONFINE_SCRIPT = Path(__file__).with_name("confine.py")
REPOSITORY = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
SKIP_VARIABLE = "GRADER_SANDBOX_SKIP"
SANDBOX_UIDS = range(65000, 65534)  # reserved by Debian and never allocated; 65534 is nobody
MAX_FILE_BYTES = 64 * 2**20
MAX_OPEN_FILES = 256
MAX_PROCESSES = 64  # threads count too; only enforced once the uid is dropped
PRIVATE_DISK_MIB = 256


@dataclass(frozen=True)
class Child:
    pid: int
    result_fd: int
    stdout_fd: int
    stderr_fd: int
    process: subprocess.Popen


@dataclass(frozen=True)
class Sandbox:
    """The layers this run uses, and why each of the others is not used."""

    layers: tuple[str, ...]
    missing: tuple[tuple[str, str], ...] = ()  # (layer, reason)
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        line = "sandbox: " + ", ".join(self.layers)
        if self.missing:
            line += "; not used: " + "; ".join(f"{layer} ({reason})" for layer, reason in self.missing)
        return "\n".join([line, *self.notes])

    def to_dict(self) -> dict:
        return {"layers": list(self.layers), "missing": dict(self.missing), "notes": list(self.notes)}


def interpreter_environment() -> dict[str, str]:
    """What an interpreter of the grader's needs, and nothing of the grader's own environment."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **{name: "1" for name in THREAD_VARIABLES}}


def scrubbed_environment(workdir: Path) -> dict[str, str]:
    """Nothing of the grader's environment (its secret least of all) reaches the child."""
    return {**interpreter_environment(), "HOME": str(workdir), "TMPDIR": str(workdir)}


def resource_limits(limits: Limits) -> dict[str, tuple[int, int]]:
    """The rlimits of a submission's process, by `resource` constant name.

    Set when the process starts and set again by `confine` before student code
    runs (where RLIMIT_CPU then counts from that moment)."""
    memory = limits.memory_mib * 2**20
    cpu = int(limits.submission_seconds) + 5
    return {
        "RLIMIT_AS": (memory, memory),
        "RLIMIT_CORE": (0, 0),
        "RLIMIT_CPU": (cpu, cpu + 5),
        "RLIMIT_FSIZE": (MAX_FILE_BYTES, MAX_FILE_BYTES),
    }


# ------------------------------------------------------------------ which layers


def probe_layers(skip: str | tuple[str, ...] = ()) -> Sandbox:
    """Try each layer on a throwaway process; `skip` turns layers off (names, or a
    comma-separated string such as $GRADER_SANDBOX_SKIP)."""
    if isinstance(skip, str):
        skip = tuple(name.strip() for name in skip.split(",") if name.strip())
    notes = [f"note: ${SKIP_VARIABLE} names no layer {name!r} (the layers: {', '.join(LAYERS)})" for name in skip if name not in LAYERS]
    if not sys.platform.startswith("linux"):
        return Sandbox(("process-group", "rlimits"), tuple((layer, f"Linux only (this is {sys.platform})") for layer in LAYERS[2:]), tuple(notes))
    missing: dict[str, str] = {name: f"turned off by ${SKIP_VARIABLE}" for name in skip if name in LAYERS[1:]}
    if os.geteuid() != 0:
        for layer in ("netns", "private-root", "uid-drop"):
            missing.setdefault(layer, f"needs root; the grader runs as uid {os.geteuid()}")
    candidates = [layer for layer in LAYERS[2:] if layer not in missing]
    if candidates:
        sandbox = Sandbox(("process-group", "rlimits", *candidates))
        workspace = open_workspace(sandbox)
        try:
            plan = dict(workspace.plan(None), hidden_probe=[str(REPOSITORY / "reference"), str(REPOSITORY / "grader")])
            try:
                completed = subprocess.run(
                    [sys.executable, "-I", "-B", str(CONFINE_SCRIPT), "--probe", json.dumps(plan)],
                    capture_output=True, text=True, timeout=60, env=scrubbed_environment(workspace.folder),
                )
                found = json.loads(completed.stdout)
            except subprocess.TimeoutExpired:
                found = {layer: "the probe did not finish within 60 s" for layer in candidates}
            except ValueError:
                found = {layer: f"the probe failed: {completed.stderr.strip()[-300:]}" for layer in candidates}
        finally:
            close_workspace(workspace)
        for layer in candidates:
            if found.get(layer):
                missing[layer] = found[layer]
    layers = tuple(layer for layer in LAYERS if layer not in missing)
    if "uid-drop" in layers and "private-root" not in layers:
        unreadable = _not_world_readable(Path(sys.base_prefix))
        if unreadable:
            notes.append(f"note: {unreadable} is not readable by the sandbox's user; a submission importing a module the grader did not load first will fail")
    if "private-root" not in layers and "landlock" not in layers:
        if "uid-drop" not in layers:
            notes.append("warning: submissions run as the grader's own user and can read whatever it can (no mount namespace, no Landlock, no uid drop) - see SECURITY.md")
        elif _not_world_readable(REPOSITORY / "reference") is None:
            notes.append(f"warning: submissions can read the grader's own files in {REPOSITORY} (no mount namespace, no Landlock); make them unreadable to others (chmod -R o-rwx) - see SECURITY.md")
    return Sandbox(layers, tuple((layer, missing[layer]) for layer in LAYERS if layer in missing), tuple(notes))


def _not_world_readable(path: Path) -> str | None:
    for folder in [*reversed(path.parents), path]:
        if os.stat(folder).st_mode & 0o005 != 0o005:
            return str(folder)
    return None


# ------------------------------------------------------------------ a submission's workspace


@dataclass(frozen=True)
class Workspace:
    """One submission's private folder, and the user its processes run as."""

    sandbox: Sandbox
    box: Path  # the grader's, 0711: holds the two below
    folder: Path  # the submission's files; the child's working folder
    mountpoint: Path  # empty: the child's private root is mounted here, in its own namespace
    uid: int | None = None
    claim: socket.socket | None = field(default=None, compare=False, repr=False)

    def plan(self, limits: Limits | None) -> dict:
        """What the child applies to itself (plain JSON data, see grader.confine)."""
        layers = [layer for layer in self.sandbox.layers if layer != "process-group"]
        rlimits = dict(resource_limits(limits)) if limits else {}
        rlimits["RLIMIT_NOFILE"] = (MAX_OPEN_FILES, MAX_OPEN_FILES)
        if "uid-drop" in layers:
            rlimits["RLIMIT_NPROC"] = (MAX_PROCESSES, MAX_PROCESSES)
        visible = _python_folders()
        return {
            "layers": ["process-group", *layers],
            "folder": str(self.folder),
            "mountpoint": str(self.mountpoint),
            "read_only": [*SYSTEM_FOLDERS, *visible],
            "hidden": [str(REPOSITORY / name) for name in ("grader", "reference") if any(_inside(REPOSITORY, Path(v)) for v in visible)],
            "disk_mib": PRIVATE_DISK_MIB,
            "uid": self.uid,
            "rlimits": {name: list(value) for name, value in rlimits.items()},
            "protected_pids": [os.getpid()],
        }


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _python_folders() -> list[str]:
    """The interpreter and its packages, as they are reached (symlinks) and where they are."""
    import numpy  # noqa: F401 - the grader has it loaded already

    folders = [sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix, str(Path(numpy.__file__).parents[1])]
    found: list[str] = []
    for folder in folders:
        for path in (os.path.abspath(folder), os.path.realpath(folder)):
            if path not in found and path != "/":
                found.append(path)
    return sorted(found, key=len)


def _claim_uid() -> tuple[int, socket.socket]:
    """A uid no account and no process uses, held (an abstract socket named after
    it) until released, so parallel submissions and graders never share one."""
    running = set()
    for pid in _pids():
        try:
            running.add(os.stat(f"/proc/{pid}").st_uid)  # enough to skip busy uids; the lock does the rest
        except OSError:
            pass
    for uid in SANDBOX_UIDS:
        if uid in running:
            continue
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0backprop-grader-sandbox-uid-{uid}")
        except OSError:
            claim.close()
            continue
        return uid, claim
    raise RuntimeError(f"no free sandbox uid in {SANDBOX_UIDS.start}..{SANDBOX_UIDS.stop - 1}")


def open_workspace(sandbox: Sandbox, scratch: Path | None = None) -> Workspace:
    box = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch))
    folder, mountpoint = box / "work", box / "root"
    folder.mkdir(mode=0o700)
    mountpoint.mkdir(mode=0o700)
    uid, claim = _claim_uid() if "uid-drop" in sandbox.layers else (None, None)
    if uid is not None and "private-root" not in sandbox.layers:
        os.chmod(box, 0o711)  # the user may pass through to its own folder, and list nothing
        if scratch is not None and Path(scratch).stat().st_uid == os.geteuid():
            os.chmod(scratch, Path(scratch).stat().st_mode | 0o111)
    return Workspace(sandbox, box, folder, mountpoint, uid, claim)


def prepare_folder(workspace: Workspace) -> None:
    """Before each start: the folder (and what an earlier process left in it) is the user's."""
    if workspace.uid is None:
        return
    for path in [workspace.folder, *workspace.folder.rglob("*")]:
        os.chown(path, workspace.uid, workspace.uid, follow_symlinks=False)  # never through a planted link


def close_workspace(workspace: Workspace) -> int:
    """Kill whatever still runs as the workspace's user, delete the folder, release the uid.
    Returns how many processes had to be killed."""
    killed = kill_stragglers(None, workspace.uid) if workspace.uid is not None else 0
    shutil.rmtree(workspace.box, ignore_errors=True)
    if workspace.claim is not None:
        workspace.claim.close()
    return killed


# ------------------------------------------------------------------ processes


def start_child(workdir: Path, limits: Limits, request: bytes) -> Child:
    """A fresh interpreter: `python -I` in a new session, scrubbed environment, rlimits."""
    if sys.platform.startswith("linux"):
        become_subreaper()  # processes orphaned below the grader come back to it and are reaped, not left to init
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
            preexec_fn=lambda: apply_rlimits(resource_limits(limits)),
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


@dataclass(frozen=True)
class _Process:
    pid: int
    ppid: int
    group: int
    session: int
    state: str
    uid: int  # real uid: /proc/PID's owner turns to root when a process makes itself non-dumpable


def _pids() -> Iterator[int]:
    return (int(name) for name in os.listdir("/proc") if name.isdigit())


_STATUS = re.compile(rb"State:\s+(\S).*?PPid:\s+(\d+).*?Uid:\s+(\d+).*?NSpgid:\s+(\d+).*?NSsid:\s+(\d+)", re.DOTALL)


def _process(pid: int) -> _Process | None:
    """One read of /proc/PID/status: it has the state, the parent, the uid, the group and the session."""
    try:  # plain system calls: a scan reads every process's status, three times per submission
        descriptor = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        try:
            chunks = [os.read(descriptor, 4096)]
            while chunks[-1]:
                chunks.append(os.read(descriptor, 4096))
        finally:
            os.close(descriptor)
    except OSError:
        return None  # gone meanwhile
    found = _STATUS.search(b"".join(chunks))
    if found is None:
        return None  # a kernel too old to say (NSpgid is Linux 4.1+)
    state, ppid, uid, group, session = found.groups()
    return _Process(pid, int(ppid), int(group), int(session), state.decode(), int(uid))


def submission_processes(child_pid: int | None, uid: int | None) -> list[int]:
    """Live processes of a submission: its group, its session, its descendants, its uid."""
    if not os.path.isdir("/proc"):
        return []  # elsewhere only the process group is known, and killed by stop_child
    table = [p for p in map(_process, _pids()) if p is not None and p.state not in ("Z", "X")]
    chosen = {child_pid} if child_pid is not None and any(p.pid == child_pid for p in table) else set()
    if child_pid is not None:
        chosen |= {p.pid for p in table if child_pid in (p.group, p.session)}
        children: dict[int, list[int]] = {}
        for p in table:
            children.setdefault(p.ppid, []).append(p.pid)
        stack = [child_pid]
        while stack:
            for pid in children.get(stack.pop(), ()):
                if pid not in chosen:
                    chosen.add(pid)
                stack.append(pid)
    if uid is not None:
        chosen |= {p.pid for p in table if p.uid == uid}
    chosen.discard(os.getpid())
    return sorted(chosen)


def kill_stragglers(child_pid: int | None, uid: int | None, settle_seconds: float = 2.0) -> int:
    """Freeze, then kill, every process of the submission; returns how many besides the child.

    SIGSTOP first, round after round until no new process appears, so a fork
    storm cannot outrun the killing; then SIGKILL to all of them at once."""
    frozen: set[int] = set()
    deadline = time.monotonic() + settle_seconds
    while time.monotonic() < deadline:
        new = [pid for pid in submission_processes(child_pid, uid) if pid not in frozen]
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
            frozen.add(pid)
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    others = frozen - {child_pid}
    _reap(others, deadline + 1.0)
    return len(others)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pids: set[int], deadline: float) -> None:
    """Killed processes adopted by the grader are reaped here, not left as zombies."""
    waiting = set(pids)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not (or not yet) the grader's: its own parent reaps it
                process = _process(pid)
                if process is None or process.state in ("Z", "X") and process.ppid != os.getpid():
                    waiting.discard(pid)
                continue
            if done:
                waiting.discard(pid)
        if waiting:
            time.sleep(0.005)


# ------------------------------------------------------------------ the grader's own folders


@contextmanager
def kept_private(folder: Path):
    """The output folder is readable by its owner only while submissions run."""
    folder = Path(folder)
    mode = stat.S_IMODE(folder.stat().st_mode)
    os.chmod(folder, mode & 0o700)
    try:
        yield folder
    finally:
        os.chmod(folder, mode)

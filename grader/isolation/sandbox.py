"""Start a submission's isolated process.  The only module that knows how.

`start_child` returns a `Child`: its pid and three pipes (the result channel,
stdout, stderr).  Everything else in the grader talks to those pipes and never
to the process itself, so the start strategy can change here alone.

Isolation is layered (SECURITY.md says what each layer defends):

- `probe_layers()` finds, once per run, which layers this machine allows, by
  confining throwaway processes with each (`grader/isolation/inside/confine.py --probe`);
- `open_workspace()` gives a submission its private folder and, when the grader
  runs as root, a dedicated unprivileged uid that no other process uses;
- `Workspace.plan()` is the plain-data plan the child applies to itself after
  NumPy and PyTorch are loaded (`grader.isolation.inside.confine.confine`), however it was started;
- `kill_stragglers()` stops and kills every process the submission left behind:
  its process group, its session, its descendants and everything of its uid;
- `remove_leftovers()` removes every SysV IPC object, POSIX queue and temporary
  file of a sandbox uid, so nothing reaches the uid's next holder;
- a workspace's `DiskWatch` counts what the submission has written while it runs
  and stops it past `WRITE_BUDGET_BYTES`, where no private root bounds it already.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.spec import Limits
from grader.isolation.inside.confine import (
    LAYERS,
    SYSTEM_FOLDERS,
    apply_rlimits,
    become_subreaper,
    check_syscall_names,
)

CHILD_SCRIPT = Path(__file__).with_name("inside") / "child.py"
CONFINE_SCRIPT = Path(__file__).with_name("inside") / "confine.py"
REPOSITORY = Path(__file__).resolve().parents[2]
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
SKIP_VARIABLE = "GRADER_SANDBOX_SKIP"
# "process": only the layers every system has (its own process group, rlimits, the time limit),
# as on macOS; how a Linux machine takes that path (and how the tests try it).
ISOLATION_VARIABLE = "GRADER_ISOLATION"
ISOLATIONS = ("full", "process")
SANDBOX_UIDS = range(65000, 65534)  # reserved by Debian and never allocated; 65534 is nobody
MAX_FILE_BYTES = 64 * 2**20
MAX_OPEN_FILES = 256
MAX_PROCESSES = 64  # threads count too; only enforced once the uid is dropped
PRIVATE_DISK_MIB = 256
WRITE_BUDGET_BYTES = PRIVATE_DISK_MIB * 2**20  # in every mode: the private root's size, or watched
MAX_ENTRIES = 10_000  # files and folders a submission may make (each costs an inode, and a walk)
WATCH_SECONDS = 0.05
PROCESS_SCAN_EVERY = 10  # polls; sooner when space goes missing (see DiskWatch)
# Where parallel graders claim sandbox uids: root's own, never writable or readable by a sandbox.
CLAIMS_FOLDER = Path("/run/backprop-grader-sandbox-uids")
UID_WAIT_SECONDS = 300.0  # all 534 uids busy: wait for one rather than fail the submission
# World-writable folders a sandbox uid can leave files in when neither a private root nor Landlock keeps it out.
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue")
# the layer that gives a submission's processes their own of each (POSIX queues live in the
# IPC namespace, whatever the root)
PRIVATE_WITH = {
    "/tmp": "private-root",
    "/var/tmp": "private-root",
    "/dev/shm": "private-root",
    "/dev/mqueue": "ipcns",
}


@dataclass(frozen=True)
class Child:
    pid: int
    result_fd: int
    stdout_fd: int
    stderr_fd: int
    process: subprocess.Popen
    # the pipe the request came on, kept open: each call's inputs are written on it at the call's
    # turn (grader.engine.execute), so nothing of a later call is in the process before its turn
    request_fd: int | None = None


@dataclass(frozen=True)
class Sandbox:
    """The layers this run uses, and why each of the others is not used."""

    layers: tuple[str, ...]
    missing: tuple[tuple[str, str], ...] = ()  # (layer, reason)
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        line = "sandbox: " + ", ".join(self.layers)
        if self.missing:
            line += "; not used: " + "; ".join(
                f"{layer} ({reason})" for layer, reason in self.missing
            )
        return "\n".join([line, *self.notes])

    def to_dict(self) -> dict:
        return {
            "layers": list(self.layers),
            "missing": dict(self.missing),
            "notes": list(self.notes),
        }


def interpreter_environment() -> dict[str, str]:
    """What an interpreter of the grader's needs, and nothing of the grader's own environment."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **dict.fromkeys(THREAD_VARIABLES, "1"),
    }


def scrubbed_environment(workdir: Path) -> dict[str, str]:
    """Nothing of the grader's environment (its secret least of all) reaches the child."""
    return {**interpreter_environment(), "HOME": str(workdir), "TMPDIR": str(workdir)}


def resource_limits(limits: Limits, memory: bool = True) -> dict[str, tuple[int, int]]:
    """The rlimits of a submission's process, by `resource` constant name.

    Set when the process starts and set again by `confine` before student code runs, where
    RLIMIT_CPU counts from that moment and the memory limits on top of what the interpreter,
    NumPy and PyTorch then hold (`grader.isolation.inside.confine.apply_rlimits`).  `memory=False`: without
    the memory limits, for a fresh interpreter's start, whose imports are the grader's."""
    cpu = int(limits.submission_seconds) + 5
    found = {
        "RLIMIT_CORE": (0, 0),
        "RLIMIT_CPU": (cpu, cpu + 5),
        "RLIMIT_FSIZE": (MAX_FILE_BYTES, MAX_FILE_BYTES),
    }
    if memory:
        allowed = memory_limit(limits).bytes
        found.update({"RLIMIT_AS": (allowed, allowed), "RLIMIT_DATA": (allowed, allowed)})
    return found


@dataclass(frozen=True)
class MemoryLimit:
    """What a submission's process may allocate beyond its imports, and whose limit that is."""

    bytes: int
    source: str  # "memory_mib" (the spec's) or "container" (the grader's own cgroup's)

    def describe(self) -> str:
        size = f"{self.bytes / 2**20:.0f} MiB"
        if self.source == "container":
            return f"the memory of the machine or container the grader runs in ({size})"
        return f"{size} beyond what Python, NumPy and PyTorch hold (the spec's memory_mib)"


def memory_limit(limits: Limits) -> MemoryLimit:
    """The smaller of the spec's memory_mib and the memory of the grader's own cgroup."""
    spec = MemoryLimit(limits.memory_mib * 2**20, "memory_mib")
    container = container_memory()
    return (
        MemoryLimit(container, "container")
        if container is not None and container < spec.bytes
        else spec
    )


def _own_cgroup_files(v2_name: str, v1_name: str) -> list[Path]:
    """Where this process's memory cgroup keeps `v2_name` (cgroup v2) or `v1_name` (v1):
    its own folder first, then the namespace's root (a container sees its cgroup as /)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        number, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        relative = path.lstrip("/")
        if number == "0" and controllers == "":
            found += [Path("/sys/fs/cgroup", relative, v2_name), Path("/sys/fs/cgroup", v2_name)]
        elif "memory" in controllers.split(","):
            found += [
                Path("/sys/fs/cgroup/memory", relative, v1_name),
                Path("/sys/fs/cgroup/memory", v1_name),
            ]
    return found


def container_memory() -> int | None:
    """The memory limit of the grader's own cgroup (Docker's --memory), or None where none is set."""
    for path in _own_cgroup_files("memory.max", "memory.limit_in_bytes"):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:  # cgroup v1 writes "no limit" as about 2**63
            return int(text)
    return None


def out_of_memory_kills() -> int | None:
    """How many processes the kernel's out-of-memory killer has ended in the grader's cgroup
    (a fact read from outside the submission), or None where the kernel does not say."""
    for path in _own_cgroup_files("memory.events", "memory.oom_control"):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            name, _, value = line.partition(" ")
            if name == "oom_kill" and value.strip().isdigit():
                return int(value)
    return None


# ------------------------------------------------------------------ which layers


def probe_layers(skip: str | tuple[str, ...] = (), isolation: str = "") -> Sandbox:
    """Try each layer on a throwaway process; `skip` turns layers off (names, or a
    comma-separated string such as $GRADER_SANDBOX_SKIP); `isolation` "process" (as
    $GRADER_ISOLATION) keeps only the layers of every system."""
    if isinstance(skip, str):
        skip = tuple(name.strip() for name in skip.split(",") if name.strip())
    notes = [
        f"note: ${SKIP_VARIABLE} names no layer {name!r} (the layers: {', '.join(LAYERS)})"
        for name in skip
        if name not in LAYERS
    ]
    isolation = isolation.strip().lower()
    if isolation and isolation not in ISOLATIONS:
        notes.append(
            f"note: ${ISOLATION_VARIABLE}={isolation!r} is not one of {', '.join(ISOLATIONS)}; "
            "every layer this system allows is used"
        )
    if isolation == "process":
        notes.append(
            "warning: submissions run as the grader's own user and can read whatever it can "
            f"(${ISOLATION_VARIABLE}=process) - see SECURITY.md"
        )
        return Sandbox(
            ("process-group", "rlimits"),
            tuple((layer, f"turned off by ${ISOLATION_VARIABLE}=process") for layer in LAYERS[2:]),
            tuple(notes),
        )
    if not sys.platform.startswith("linux"):
        return Sandbox(
            ("process-group", "rlimits"),
            tuple((layer, f"Linux only (this is {sys.platform})") for layer in LAYERS[2:]),
            tuple(notes),
        )
    check_syscall_names()  # a misspelt name would deny nothing: the grader does not start
    missing: dict[str, str] = {
        name: f"turned off by ${SKIP_VARIABLE}" for name in skip if name in LAYERS[1:]
    }
    if os.geteuid() != 0:
        for layer in ("netns", "ipcns", "private-root", "uid-drop"):
            missing.setdefault(layer, f"needs root; the grader runs as uid {os.geteuid()}")
    candidates = [layer for layer in LAYERS[2:] if layer not in missing]
    if candidates:
        sandbox = Sandbox(("process-group", "rlimits", *candidates))
        workspace = open_workspace(sandbox)
        try:
            plan = dict(
                workspace.plan(None),
                hidden_probe=[str(REPOSITORY / "reference"), str(REPOSITORY / "grader")],
            )
            try:
                completed = subprocess.run(
                    [sys.executable, "-I", "-B", str(CONFINE_SCRIPT), "--probe", json.dumps(plan)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    env=scrubbed_environment(workspace.folder),
                )
                found = json.loads(completed.stdout)
            except subprocess.TimeoutExpired:
                found = dict.fromkeys(candidates, "the probe did not finish within 60 s")
            except ValueError:
                found = {
                    layer: f"the probe failed: {completed.stderr.strip()[-300:]}"
                    for layer in candidates
                }
        finally:
            close_workspace(workspace)
        for layer in candidates:
            if found.get(layer):
                missing[layer] = found[layer]
    layers = tuple(layer for layer in LAYERS if layer not in missing)
    if "uid-drop" in layers and "private-root" not in layers:
        unreadable = _not_world_readable(Path(sys.base_prefix))
        if unreadable:
            notes.append(
                f"note: {unreadable} is not readable by the sandbox's user; a submission importing "
                "a module the grader did not load first will fail"
            )
    if "private-root" not in layers and "landlock" not in layers:
        if "uid-drop" not in layers:
            notes.append(
                "warning: submissions run as the grader's own user and can read whatever it can "
                "(no mount namespace, no Landlock, no uid drop) - see SECURITY.md"
            )
        elif _not_world_readable(REPOSITORY / "reference") is None:
            notes.append(
                f"warning: submissions can read the grader's own files in {REPOSITORY} "
                "(no mount namespace, no Landlock); make them unreadable to others "
                "(chmod -R o-rwx) - see SECURITY.md"
            )
    return Sandbox(
        layers, tuple((layer, missing[layer]) for layer in LAYERS if layer in missing), tuple(notes)
    )


def _not_world_readable(path: Path) -> str | None:
    for folder in [*reversed(path.parents), path]:
        if os.stat(folder).st_mode & 0o005 != 0o005:
            return str(folder)
    return None


# ------------------------------------------------------------------ a submission's workspace


@dataclass
class Workspace:
    """One submission's private folder, and the user its processes run as; open until
    `close_workspace`."""

    sandbox: Sandbox
    box: Path  # the grader's, 0711: holds the two below
    folder: Path  # the submission's files; the child's working folder
    mountpoint: Path  # empty: the child's private root is mounted here, in its own namespace
    uid: int | None = None
    claim: UidClaim | None = field(default=None, compare=False, repr=False)
    watch: DiskWatch | None = field(default=None, compare=False, repr=False)
    # whether a process of its user may still run: true until a sweep settles after the last start
    unswept: bool = field(default=True, compare=False, repr=False)

    def plan(self, limits: Limits | None, without_torch: bool = False) -> dict:
        """What the child applies to itself (plain JSON data, see grader.isolation.inside.confine).
        `without_torch`: PyTorch's folders are withheld from the process (its calls run without it)."""
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
            "hidden": [
                str(REPOSITORY / name)
                for name in ("grader", "reference")
                if any(_inside(REPOSITORY, Path(v)) for v in visible)
            ],
            "withheld": list(torch_folders()) if without_torch else [],
            "disk_mib": PRIVATE_DISK_MIB,
            "uid": self.uid,
            "rlimits": {name: list(value) for name, value in rlimits.items()},
            "protected_pids": [os.getpid()],
        }

    def started(self, child_pid: int) -> None:
        """The submission's process now running (its writes are watched where they need to be)."""
        self.unswept = True
        if self.watch is not None:
            self.watch.follow(child_pid)

    def swept(self, result: Swept) -> None:
        """A sweep of its processes (`sweep`) ended: settled, nothing of the user's runs now, and
        closing the workspace need not look again."""
        if result.settled:
            self.unswept = False

    def disk_exceeded(self) -> str | None:
        """Why the submission was stopped for what it wrote, or None."""
        return self.watch.exceeded if self.watch is not None else None


TORCH_PACKAGES = ("torch", "torchgen", "functorch", "triton", "nvidia")  # and their .libs


@functools.cache
def torch_folders() -> tuple[str, ...]:
    """PyTorch and the libraries its builds bring (CUDA's among them), where they are installed:
    what a process that must not have torch cannot read."""
    import importlib.util

    found = []
    folders = _python_folders()
    spec = importlib.util.find_spec("torch")  # where it is, without importing it
    if spec is not None:
        folders += [os.path.dirname(p) for p in spec.submodule_search_locations or ()]
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            stem = name.split("-")[0].split(".")[0].lower()
            path = os.path.join(folder, name)
            if stem in TORCH_PACKAGES and os.path.isdir(path) and path not in found:
                found.append(path)
    return tuple(sorted(found))


TORCH_LIBRARY = re.compile(rb"libtorch|libc10|/torch/_C")


def torch_library(pid: int) -> str | None:
    """A PyTorch library the kernel has mapped into process `pid` (its path), "" when none is
    (a process that has ended holds none), None when its map is not this grader's to read."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as handle:
            text = handle.read(64 * 2**20)
    except (FileNotFoundError, ProcessLookupError):
        return ""  # ended (and reaped) meanwhile: nothing is mapped into it any more
    except OSError:
        return None
    found = TORCH_LIBRARY.search(text)
    if found is None:
        return ""
    # the path of the line the name is on (its sixth field): a pattern that matched the path
    # whole would scan each line again from every byte
    end = text.find(b"\n", found.end())
    line = text[text.rfind(b"\n", 0, found.start()) + 1 : end if end >= 0 else len(text)]
    fields = line.split(None, 5)
    return (fields[5] if len(fields) == 6 else line).decode(errors="replace")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _python_folders() -> list[str]:
    """The interpreter and its packages, as they are reached (symlinks) and where they are."""
    import numpy  # noqa: F401 - the grader has it loaded already

    folders = [
        sys.base_prefix,
        sys.prefix,
        sys.base_exec_prefix,
        sys.exec_prefix,
        str(Path(numpy.__file__).parents[1]),
    ]
    found: list[str] = []
    for folder in folders:
        for path in (os.path.abspath(folder), os.path.realpath(folder)):
            if path not in found and path != "/":
                found.append(path)
    return sorted(found, key=len)


# ------------------------------------------------------------------ sandbox uids


class UidClaim:
    """A sandbox uid held by this grader: a lock on a file in a folder only root can open.

    A sandbox cannot take a claim (it cannot open the folder), and a lock dies with
    the process holding it, so a grader that crashed frees its uids.  Threads of one
    grader also see each other's claims in `_HELD` (flock is per open file, so two
    threads locking the same file do conflict as well).

    Graders of earlier versions claimed a uid by binding an abstract socket name, which
    any process without a network namespace can squat: that name is also bound where it
    is free, so such a grader on the same machine skips the uid, but it is never needed."""

    def __init__(self, uid: int, fd: int | None, legacy: socket.socket | None = None):
        self.uid, self._fd, self._legacy = uid, fd, legacy

    def release(self) -> None:
        with _HELD_LOCK:
            _HELD.discard(self.uid)
            if self._fd is not None:
                os.close(self._fd)  # the lock goes with it
                self._fd = None
            if self._legacy is not None:
                self._legacy.close()
                self._legacy = None


_HELD: set[int] = set()
_HELD_LOCK = threading.Lock()
_PRIVATE_CLAIMS: list[Path] = []  # this grader's own folder, where the shared one cannot be trusted


def _claims_folder() -> Path:
    """The shared claims folder, made root-only; a private one where it cannot be trusted."""
    try:
        CLAIMS_FOLDER.mkdir(mode=0o700, exist_ok=True)
        found = os.lstat(CLAIMS_FOLDER)
        parent = os.lstat(CLAIMS_FOLDER.parent)
        if (
            stat.S_ISDIR(found.st_mode)
            and found.st_uid == os.geteuid()
            and not parent.st_mode & 0o022
        ):
            if stat.S_IMODE(found.st_mode) != 0o700:
                os.chmod(CLAIMS_FOLDER, 0o700)
            return CLAIMS_FOLDER
    except OSError:
        pass
    with _HELD_LOCK:  # graders of this machine then only avoid uids with running processes
        if not _PRIVATE_CLAIMS:
            _PRIVATE_CLAIMS.append(Path(tempfile.mkdtemp(prefix="grader-uid-claims-")))
        return _PRIVATE_CLAIMS[0]


def _legacy_name(uid: int) -> socket.socket | None:
    name = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        name.bind(f"\0backprop-grader-sandbox-uid-{uid}")
    except OSError:
        name.close()
        return None
    return name


def _try_claim(uid: int, folder: Path, legacy_free: bool) -> UidClaim | None:
    """The uid's lock, or None; with `legacy_free`, only where no earlier grader (or a
    squatter: they cannot be told apart) holds its abstract name."""
    with _HELD_LOCK:
        if uid in _HELD:
            return None
        fd = os.open(
            folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        legacy = _legacy_name(uid)
        if legacy is None and legacy_free:
            os.close(fd)
            return None
        _HELD.add(uid)
        return UidClaim(uid, fd, legacy)


ACCOUNTS_SECONDS = 10.0  # how long a lookup of the accounts database is taken as current
_ACCOUNTS_SEEN: dict[int, tuple[float, bool]] = {}


def _has_account(uid: int) -> bool:
    """Whether an account has the uid: looked up anew every `ACCOUNTS_SECONDS` at most, not
    once per submission (each lookup reads the accounts database)."""
    now = time.monotonic()
    seen = _ACCOUNTS_SEEN.get(uid)
    if seen is not None and now - seen[0] < ACCOUNTS_SECONDS:
        return seen[1]
    try:
        pwd.getpwuid(uid)
        found = True
    except KeyError:
        found = False
    _ACCOUNTS_SEEN[uid] = (now, found)
    return found


def _claim_uid(wait_seconds: float = UID_WAIT_SECONDS, layers: tuple[str, ...] = ()) -> UidClaim:
    """A uid no account and no process uses, held until released, so parallel submissions
    and graders never share one.  When every one is busy, wait for one to be released.
    `layers`: the sandbox's, which say what a dead grader's leftovers of the uid could reach."""
    folder = _claims_folder()
    deadline = time.monotonic() + wait_seconds
    while True:
        running = set()
        for pid in _pids():
            try:
                running.add(
                    os.stat(f"/proc/{pid}").st_uid
                )  # enough to skip busy uids; the lock does the rest
            except OSError:
                pass
        for legacy_free in (True, False):  # a squatted name costs a preference, never the uid
            for uid in SANDBOX_UIDS:
                if uid in running or uid in _HELD or _has_account(uid):
                    continue
                claim = _try_claim(uid, folder, legacy_free)
                if claim is not None:
                    remove_leftovers(uid, layers)  # of a grader that died holding it
                    return claim
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"no free sandbox uid in {SANDBOX_UIDS.start}..{SANDBOX_UIDS.stop - 1} after waiting {wait_seconds:g} s"
            )
        time.sleep(0.2)


def uids_in_use() -> set[int]:
    """Sandbox uids some grader on this machine holds now (its claim's lock is taken): what they
    hold is another submission's, still running, never a leak.  Reads the shared claims folder."""
    held = set()
    try:
        names = os.listdir(CLAIMS_FOLDER)
    except OSError:
        return held
    for name in names:
        if not name.isdigit() or int(name) not in SANDBOX_UIDS:
            continue
        try:
            fd = os.open(CLAIMS_FOLDER / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            held.add(int(name))
        finally:
            os.close(fd)  # a lock taken here goes with it
    return held | _HELD


# ------------------------------------------------------------------ what a uid leaves behind

_libc = ctypes.CDLL(None, use_errno=True)
IPC_RMID = 0
_IPC_REMOVERS = {
    "shm": lambda ident: _libc.shmctl(ident, IPC_RMID, None),
    "msg": lambda ident: _libc.msgctl(ident, IPC_RMID, None),
    "sem": lambda ident: _libc.semctl(ident, 0, IPC_RMID),
}


def ipc_objects(uids) -> list[tuple[str, int]]:
    """(kind, id) of every SysV object in the grader's IPC namespace that one of `uids`
    owns or created (an owner may give an object away; its creator stays)."""
    uids = set(uids)
    found = []
    for kind in _IPC_REMOVERS:
        try:
            header, *rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        names = header.split()
        for row in rows:
            values = dict(zip(names, row.split()))
            if int(values["uid"]) in uids or int(values["cuid"]) in uids:
                found.append(
                    (kind, int(row.split()[1]))
                )  # the id is the second column (shmid, msqid, semid)
    return found


def _shared_tmp_entries(uids, top: str, depth: int = 3) -> Iterator[str]:
    """Paths below a world-writable folder owned by one of `uids` (not followed through links)."""
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid in uids:
            yield entry.path
        elif (
            depth > 1 and stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002
        ):  # /tmp/.X11-unix and the like
            yield from _shared_tmp_entries(uids, entry.path, depth - 1)


def leftovers(uids) -> list[str]:
    """What sandbox uids left that outlives their processes: IPC objects and shared temporary files."""
    uids = set(uids)
    found = [f"SysV {kind} {ident}" for kind, ident in ipc_objects(uids)]
    for top in SHARED_TMP:
        found += list(_shared_tmp_entries(uids, top))
    return found


def remove_leftovers(uid: int, layers: tuple[str, ...] = ()) -> int:
    """Remove every SysV object, POSIX message queue and shared temporary file of `uid` (its
    processes already killed): a uid is reused, and even a 0600 segment reaches its next holder.

    What `layers` made private to the processes is not looked for: in an IPC namespace of their
    own their SysV objects and POSIX queues go with it, and a private root has its own /tmp,
    /var/tmp and /dev/shm (`PRIVATE_WITH`), so the shared ones were out of their reach (as they
    are of the next holder's with those layers; a holder without them removes what it can reach
    when it claims the uid)."""
    removed = 0
    if "ipcns" not in layers:
        for kind, ident in ipc_objects({uid}):
            if _IPC_REMOVERS[kind](ident) == 0 or ctypes.get_errno() in (errno.EINVAL, errno.EIDRM):
                removed += 1
    for top in SHARED_TMP:
        if PRIVATE_WITH.get(top) in layers:
            continue
        for path in list(_shared_tmp_entries({uid}, top)):
            try:
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    shutil.rmtree(path)  # fd-based: a link planted inside is removed, not followed
                else:
                    os.unlink(path)
                removed += 1
            except OSError:
                pass
    return removed


# ------------------------------------------------------------------ what a submission writes


def _disk_usage(roots, pids, limit: int) -> tuple[int, int]:
    """(bytes allocated, entries) below `roots`, plus the deleted files `pids` hold open.

    Allocated blocks, not sizes: a sparse file costs the disk what it really holds.
    Each inode counts once.  The walk stops past `limit` entries."""
    seen: set[tuple[int, int]] = set()
    used = entries = 0
    stack = [str(root) for root in roots]
    while stack and entries <= limit:
        try:
            listing = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in listing:
            entries += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                used += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
    for pid in pids:  # a file written, kept open and unlinked is in no folder
        try:
            names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for name in names:
            try:
                info = os.stat(f"/proc/{pid}/fd/{name}")
            except OSError:
                continue
            if (
                stat.S_ISREG(info.st_mode)
                and info.st_nlink == 0
                and (info.st_dev, info.st_ino) not in seen
            ):
                seen.add((info.st_dev, info.st_ino))
                used += info.st_blocks * 512
    return used, entries


class DiskWatch:
    """Without a private root (whose tmpfs is the bound), the grader watches what the submission
    writes: its folder, its deleted-but-open files, and (without Landlock) its files in the shared
    temporary folders.  Past the budget, every process of the submission is stopped at once.

    Walking the folder is cheap and done every `WATCH_SECONDS`; finding the submission's
    processes (for the files they hold open and unlinked) reads all of /proc, so it is done
    every `PROCESS_SCAN_EVERY` polls, or at once when the filesystems lost more space than
    the walk can account for."""

    def __init__(
        self,
        folder: Path,
        uid: int | None,
        shared_tmp: bool,
        budget: int = WRITE_BUDGET_BYTES,
        limit: int = MAX_ENTRIES,
    ):
        self.folder, self.uid, self.shared_tmp, self.budget, self.limit = (
            folder,
            uid,
            shared_tmp,
            budget,
            limit,
        )
        self.exceeded: str | None = None
        self._child: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"disk-watch-{folder.parent.name}", daemon=True
        )
        self._thread.start()

    def follow(self, child_pid: int) -> None:
        self._child = child_pid

    def _roots(self) -> list:
        roots = [self.folder]
        if self.shared_tmp and self.uid is not None:
            roots += [path for top in SHARED_TMP for path in _shared_tmp_entries({self.uid}, top)]
        return roots

    def _free_bytes(self) -> int:
        """Free space of the filesystems it can write to, each counted once."""
        found = {}
        for path in [self.folder, *(SHARED_TMP if self.shared_tmp else ())]:
            try:
                info = os.statvfs(path)
            except OSError:
                continue
            found[info.f_fsid] = info.f_bavail * info.f_frsize
        return sum(found.values())

    def measure(self, with_processes: bool = True) -> tuple[int, int]:
        pids = (
            submission_processes(self._child, self.uid)
            if with_processes and (self._child is not None or self.uid is not None)
            else []
        )
        return _disk_usage(self._roots(), pids, self.limit)

    def _run(self) -> None:
        polls, free_then, walked_then = 0, self._free_bytes(), 0
        while not self._stop.wait(WATCH_SECONDS):
            if self.exceeded is not None and self._child is None:
                continue  # already stopped: nothing of it runs, its files go with the workspace
            polls += 1
            used, entries = self.measure(with_processes=False)
            unexplained = (free_then - self._free_bytes()) - (used - walked_then)
            if polls % PROCESS_SCAN_EVERY == 0 or unexplained > self.budget // 32:
                walked_then, free_then = used, self._free_bytes()
                used, entries = self.measure()
            if used > self.budget or entries > self.limit:
                what = (
                    f"{used / 2**20:.0f} MiB"
                    if used > self.budget
                    else f"more than {self.limit} files and folders"
                )
                self.exceeded = (
                    f"wrote {what} to disk, more than a submission may write "
                    f"({self.budget // 2**20} MiB, {self.limit} files)"
                )
                _freeze_group(self._child)  # at once, before the scan of /proc that finds the rest
                kill_stragglers(self._child, self.uid, settle_seconds=0.5)
                self._child = (
                    None  # stopped; a next process of the submission is not started (see execute)
                )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# ------------------------------------------------------------------ a submission's workspace, opened and closed


def open_workspace(sandbox: Sandbox, scratch: Path | None = None) -> Workspace:
    box = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch))
    folder, mountpoint = box / "work", box / "root"
    folder.mkdir(mode=0o700)
    mountpoint.mkdir(mode=0o700)
    claim = _claim_uid(layers=sandbox.layers) if "uid-drop" in sandbox.layers else None
    uid = claim.uid if claim is not None else None
    if uid is not None and "private-root" not in sandbox.layers:
        os.chmod(box, 0o711)  # the user may pass through to its own folder, and list nothing
        if scratch is not None and Path(scratch).stat().st_uid == os.geteuid():
            os.chmod(scratch, Path(scratch).stat().st_mode | 0o111)
    watch = None
    if "private-root" not in sandbox.layers:
        watch = DiskWatch(folder, uid, shared_tmp="landlock" not in sandbox.layers)
    return Workspace(sandbox, box, folder, mountpoint, uid, claim, watch)


def prepare_folder(workspace: Workspace) -> None:
    """Before each start: the folder (and what an earlier process left in it) is the user's."""
    if workspace.uid is None:
        return
    for path in [workspace.folder, *workspace.folder.rglob("*")]:
        os.chown(
            path, workspace.uid, workspace.uid, follow_symlinks=False
        )  # never through a planted link


def close_workspace(workspace: Workspace) -> int:
    """Kill whatever still runs as the workspace's user, remove what it left (IPC objects,
    temporary files, its folder), release the uid.  Returns how many processes had to be killed."""
    if workspace.watch is not None:
        workspace.watch.stop()
    unswept = workspace.uid is not None and workspace.unswept
    killed = kill_stragglers(None, workspace.uid) if unswept else 0
    if workspace.uid is not None:
        remove_leftovers(workspace.uid, workspace.sandbox.layers)
    shutil.rmtree(workspace.box, ignore_errors=True)
    if workspace.claim is not None:
        workspace.claim.release()
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
            preexec_fn=lambda: apply_rlimits(
                resource_limits(limits, memory=False)
            ),  # confine sets memory after the imports
        )
    finally:
        os.close(write_end)
    try:
        process.stdin.write(request + b"\n")  # one line; the calls' inputs follow one by one
        process.stdin.flush()
    except BrokenPipeError:
        pass  # the child died at start-up; its exit status tells why
    return Child(
        process.pid,
        read_end,
        process.stdout.fileno(),
        process.stderr.fileno(),
        process,
        process.stdin.fileno(),
    )


def stop_child(child: Child) -> int:
    """Kill the child's whole process group and reap it; returns its wait status code."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    code = child.process.wait()
    os.close(child.result_fd)
    for stream in (child.process.stdin, child.process.stdout, child.process.stderr):
        try:
            stream.close()
        except BrokenPipeError:
            pass  # what was left unread of the stdin pipe: the child is gone
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


_STATUS = re.compile(
    rb"State:\s+(\S).*?PPid:\s+(\d+).*?Uid:\s+(\d+).*?NSpgid:\s+(\d+).*?NSsid:\s+(\d+)", re.DOTALL
)


def _process(pid: int) -> _Process | None:
    """One read of /proc/PID/status: it has the state, the parent, the uid, the group and the session."""
    try:  # plain system calls: a scan reads every process's status, three times per submission
        descriptor = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        try:  # the kernel writes the whole file in one read where it fits (about 1.5 kB)
            chunks = [os.read(descriptor, 16384)]
            while len(chunks[-1]) == 16384:
                chunks.append(os.read(descriptor, 16384))
        finally:
            os.close(descriptor)
    except OSError:
        return None  # gone meanwhile
    found = _STATUS.search(b"".join(chunks))
    if found is None:
        return None  # a kernel too old to say (NSpgid is Linux 4.1+)
    state, ppid, uid, group, session = found.groups()
    return _Process(pid, int(ppid), int(group), int(session), state.decode(), int(uid))


def waited_for_cpu(pid: int) -> float | None:
    """Seconds the process's main thread has spent runnable but waiting for a CPU (the kernel's
    run-queue delay, which CPU quotas and other processes' load make grow), or None where the
    kernel does not say (no /proc, no schedstat) or the process is gone."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as handle:
            fields = handle.read(200).split()
        return int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def submission_processes(child_pid: int | None, uid: int | None) -> list[int]:
    """Live processes of a submission: its group, its session, its descendants, its uid."""
    return [p.pid for p in _submission_table(child_pid, uid)]


def _submission_table(child_pid: int | None, uid: int | None) -> list[_Process]:
    """`submission_processes`, each as one read of its status found it.

    Of the processes of `uid`, only those below this grader: every process a submission starts
    stays there (its process, its fork server and the grader are subreapers, and a PID namespace
    it made, where seccomp let it, would be below too), while another grader's students may run
    as the same uid numbers (one in a container, whose claims this grader cannot see) and are
    not this grader's to kill."""
    if not os.path.isdir("/proc"):
        return []  # elsewhere only the process group is known, and killed by stop_child
    table = [p for p in map(_process, _pids()) if p is not None and p.state not in ("Z", "X")]
    children: dict[int, list[int]] = {}
    for p in table:
        children.setdefault(p.ppid, []).append(p.pid)
    chosen = (
        {child_pid} if child_pid is not None and any(p.pid == child_pid for p in table) else set()
    )
    if child_pid is not None:
        chosen |= {p.pid for p in table if child_pid in (p.group, p.session)}
        chosen |= _below(child_pid, children)
    if uid is not None:
        ours = _below(os.getpid(), children)
        chosen |= {p.pid for p in table if p.uid == uid and p.pid in ours}
    chosen.discard(os.getpid())
    return sorted((p for p in table if p.pid in chosen), key=lambda p: p.pid)


def _below(root: int, children: dict[int, list[int]]) -> set[int]:
    """Every descendant of `root`, by the parents the kernel gives."""
    found: set[int] = set()
    stack = [root]
    while stack:
        for pid in children.get(stack.pop(), ()):
            if pid not in found:
                found.add(pid)
                stack.append(pid)
    return found


def kill_stragglers(child_pid: int | None, uid: int | None, settle_seconds: float = 2.0) -> int:
    """Freeze, then kill, every process of the submission; returns how many besides the child."""
    return sweep(child_pid, uid, settle_seconds).others


@dataclass(frozen=True)
class Swept:
    others: int  # processes killed besides the child
    settled: bool  # the last look found no new process: none of the submission's can run now


def sweep(
    child_pid: int | None,
    uid: int | None,
    settle_seconds: float = 2.0,
    inspect: Callable[[list[int]], None] | None = None,
) -> Swept:
    """Freeze, then kill, every process of the submission.

    SIGSTOP first, round after round until no new process appears, so a fork
    storm cannot outrun the killing; then SIGKILL to all of them at once.  Each look at /proc
    waits until every process stopped so far is seen stopped: a process that was sent SIGSTOP
    while it forked may finish that fork first, and its child must be in the look.  The child's
    group is stopped before the first look (one system call): a look that finds only
    members of it, all stopped, needs no other, since none of them could run, and a fork
    under way when the group's signal came stops its child too or does not happen.  `inspect`
    is given the frozen processes before they are killed: stopped, none can change what it
    holds while it is read."""
    frozen: set[int] = set()
    deadline = time.monotonic() + settle_seconds
    settled = False
    _freeze_group(child_pid)
    while time.monotonic() < deadline:
        if not all(map(_stopped, frozen)):  # a stop sent is not yet a stop made: it may still fork
            time.sleep(0.001)
            continue
        # every process frozen so far has stopped: whatever it started is in /proc by now
        new = [p for p in _submission_table(child_pid, uid) if p.pid not in frozen]
        for process in new:
            _signal(process.pid, signal.SIGSTOP)
            frozen.add(process.pid)
        if all(p.group == child_pid and p.state in ("T", "t") for p in new):
            settled = True  # nothing new, or only what the group's stop had stopped already
            break
    if inspect is not None:
        inspect(sorted(frozen))
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    others = frozen - {child_pid}
    _reap(others, deadline + 1.0)
    return Swept(len(others), settled)


def _stopped(pid: int) -> bool:
    """Whether the process is stopped or gone (it can start no other)."""
    process = _process(pid)
    return process is None or process.state in ("T", "t", "Z", "X")


def _freeze_group(child_pid: int | None) -> None:
    """SIGSTOP to the child's process group (its own session): one system call, no /proc scan."""
    if child_pid is None:
        return
    try:
        os.killpg(child_pid, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError):
        pass


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

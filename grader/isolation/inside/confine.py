"""Confine the current process: the sandbox layers, applied from inside.

The submission's process calls `confine(plan)` after the interpreter, NumPy and
PyTorch are loaded and before any student code runs.  Applying the layers from
inside (rather than in a `preexec_fn`) is what lets a warm parent fork a child
and confine it the same way as a fresh interpreter.  The plan is plain JSON
data written by `grader.isolation.sandbox`, which decides which layers this machine
allows (it runs this file as `python -I confine.py --probe PLAN` to find out).

Layers, in the order they are applied:
  netns         a new, empty network namespace: no interface but a loopback that is down
  ipcns         a new IPC namespace: SysV objects and POSIX message queues of its own,
                gone with its last process
  private-root  a new mount namespace whose root is a small tmpfs holding only the
                system folders and the Python installation (read-only), a fresh /tmp,
                /proc showing the process's own processes, and a copy of the
                submission's folder: the grader's files are not there to read
  rlimits       memory (data and address space beyond what the imports hold), CPU seconds,
                file size, open files, processes, no core
  landlock      file access limited to the same folders, no TCP, no signals or
                abstract sockets outside the submission's processes (unprivileged)
  uid-drop      the process becomes a dedicated unprivileged user
  seccomp       no socket but AF_UNIX, no SysV IPC or POSIX message queues, no
                io_uring, ptrace, mount, namespaces or signals to the grader

Every planned layer is applied or `ConfinementError` is raised: a layer never
silently goes missing.  Standard library only (plus `pyseccomp` where installed).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import resource
import shutil
import signal
import socket
import stat
import sys

try:
    import pyseccomp
except (ImportError, RuntimeError):  # not installed, or libseccomp missing
    pyseccomp = None

LAYERS = (
    "process-group",
    "rlimits",
    "netns",
    "ipcns",
    "private-root",
    "uid-drop",
    "landlock",
    "seccomp",
)
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x08000000
NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
    0x00000080,
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1,
    2,
    4,
    8,
    32,
    4096,
    16384,
    1 << 18,
)
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 38, 36
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_RULE_PATH_BENEATH = 1
# <linux/landlock.h>: filesystem rights (ABI 1 unless noted), network (ABI 4), scopes (ABI 6)
LANDLOCK_ACCESS_FS_EXECUTE = 1 << 0
LANDLOCK_ACCESS_FS_WRITE_FILE = 1 << 1
LANDLOCK_ACCESS_FS_READ_FILE = 1 << 2
LANDLOCK_ACCESS_FS_READ_DIR = 1 << 3
LANDLOCK_ACCESS_FS_REMOVE_DIR = 1 << 4
LANDLOCK_ACCESS_FS_REMOVE_FILE = 1 << 5
LANDLOCK_ACCESS_FS_MAKE_CHAR = 1 << 6
LANDLOCK_ACCESS_FS_MAKE_DIR = 1 << 7
LANDLOCK_ACCESS_FS_MAKE_REG = 1 << 8
LANDLOCK_ACCESS_FS_MAKE_SOCK = 1 << 9
LANDLOCK_ACCESS_FS_MAKE_FIFO = 1 << 10
LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1 << 11
LANDLOCK_ACCESS_FS_MAKE_SYM = 1 << 12
LANDLOCK_ACCESS_FS_REFER = 1 << 13  # ABI 2
LANDLOCK_ACCESS_FS_TRUNCATE = 1 << 14  # ABI 3
LANDLOCK_ACCESS_FS_IOCTL_DEV = 1 << 15  # ABI 5
LANDLOCK_ACCESS_NET_BIND_TCP = 1 << 0
LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
LANDLOCK_SCOPE_SIGNAL = 1 << 1

_libc = ctypes.CDLL(None, use_errno=True)


class ConfinementError(OSError):
    """A planned layer could not be applied; the submission must not run."""


def _check(result: int, what: str) -> int:
    if result < 0:
        number = ctypes.get_errno()
        raise ConfinementError(number, f"{what}: {os.strerror(number)}")
    return result


def _mount(source, target, fstype, flags, data=None) -> None:
    encode = lambda value: value.encode() if isinstance(value, str) else value  # noqa: E731
    _check(
        _libc.mount(
            encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)
        ),
        f"mount {target}",
    )


def thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1  # no /proc: nothing to say otherwise


# ------------------------------------------------------------------ namespaces


def new_network_namespace() -> None:
    """A network of its own with no way out (its loopback is not even up)."""
    _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")


def new_ipc_namespace() -> None:
    """SysV segments, queues and semaphores, and POSIX message queues, of its own: none of
    the host's (or of an earlier submission's) is visible, and all of them go when it ends."""
    _check(_libc.unshare(CLONE_NEWIPC), "unshare(CLONE_NEWIPC)")


def private_root(plan: dict) -> None:
    """A root holding only what a submission needs, the grader's files absent.

    root tmpfs (size-limited, so writes cannot fill the disk)
      /usr /etc /lib ... and the Python installation   bound read-only
      /dev/{null,zero,full,random,urandom}              bound
      /proc                                             new, hidepid: own processes only
      /tmp /var/tmp /dev/shm                            empty, 1777
      <folder>                                          a copy of the submission, owned by its user
    """
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the grader's mounts
    os.umask(0o022)  # the folders made below must be passable by the submission's user
    root = plan["mountpoint"]
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={plan['disk_mib']}m,mode=0755")
    bound: list[str] = []
    for path in plan["read_only"]:
        if os.path.lexists(path) and not any(
            path == b or path.startswith(b.rstrip("/") + "/") for b in bound
        ):
            _bind(path, root + path, read_only=True)
            bound.append(path)
    os.makedirs(root + "/dev", mode=0o755, exist_ok=True)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            _bind("/dev/" + name, f"{root}/dev/{name}", read_only=False)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{root}/dev/{name}")
    for path in PRIVATE_TMP:
        os.makedirs(root + path, exist_ok=True)
        os.chmod(root + path, 0o1777)
    _new_proc(root + "/proc")
    # grader folders that happen to lie inside a bound tree; PyTorch's, where a process must not have it
    for path in [*plan.get("hidden", ()), *plan.get("withheld", ())]:
        if os.path.isdir(root + path):
            _mount(
                "tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0555"
            )
    folder = plan["folder"]
    os.makedirs(root + folder, mode=0o755, exist_ok=True)
    shutil.copytree(folder, root + folder, symlinks=True, dirs_exist_ok=True)
    os.chmod(root + folder, 0o700)
    if plan.get("uid") is not None:
        _chown_tree(root + folder, plan["uid"])
    _pivot(root)
    os.chdir(folder)


def _bind(source: str, target: str, read_only: bool) -> None:
    if os.path.islink(source):
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _new_proc(target: str) -> None:
    os.makedirs(target, exist_ok=True)
    for option in ("hidepid=invisible", "hidepid=2"):
        if (
            _libc.mount(
                b"proc",
                target.encode(),
                b"proc",
                ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                option.encode(),
            )
            == 0
        ):
            return
    raise ConfinementError(errno.EPERM, "cannot mount a /proc that hides the grader's processes")


def _pivot(root: str) -> None:
    """Make `root` the root; the old one is detached, so no path leads back to it."""
    os.chdir(root)
    number = PIVOT_ROOT.get(platform.machine())
    if (
        number is None
    ):  # an architecture without a known number: chroot, safe once the uid is dropped
        os.chroot(".")
    else:
        _check(_libc.syscall(number, b".", b"."), "pivot_root")
        _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")


def _chown_tree(top: str, uid: int) -> None:
    os.chown(top, uid, uid, follow_symlinks=False)
    for folder, names, files in os.walk(top):
        for name in names + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


# ------------------------------------------------------------------ limits and identity


# Memory is limited on top of what the process holds when the limits are set: a CUDA build of
# torch maps about 3 GiB of address space and 760 MiB of data at import, the CPU build 620 and
# 215 MiB, and neither is the student's.  RLIMIT_DATA holds what it allocates (heap, anonymous
# memory), RLIMIT_AS also a shared anonymous mapping, which RLIMIT_DATA does not count.
MEMORY_LIMITS = {"RLIMIT_AS": "VmSize", "RLIMIT_DATA": "VmData"}


def held_memory() -> dict[str, int]:
    """Bytes of address space and of data this process holds now, by rlimit name."""
    try:
        with open("/proc/self/status", "rb") as handle:
            status = handle.read().decode("ascii", "replace")
    except OSError:  # no /proc (not Linux): the peak resident size stands in for both
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return dict.fromkeys(MEMORY_LIMITS, peak * (1 if sys.platform == "darwin" else 1024))
    held = {}
    for name, field in MEMORY_LIMITS.items():
        found = [line.split()[1] for line in status.splitlines() if line.startswith(field + ":")]
        held[name] = int(found[0]) * 1024 if found else 0
    return held


def apply_rlimits(rlimits: dict) -> None:
    """`RLIMIT_CPU` counts from now: the interpreter's own start-up is not the student's; so do
    `RLIMIT_AS` and `RLIMIT_DATA`, on top of what the interpreter and its libraries hold now.
    Limits only ever go down (raising a hard limit needs CAP_SYS_RESOURCE)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    held = held_memory() if any(name in MEMORY_LIMITS for name in rlimits) else {}
    for name, (soft, hard) in rlimits.items():
        if name == "RLIMIT_CPU":
            soft, hard = soft + spent, hard + spent
        elif name in held:
            soft, hard = soft + held[name], hard + held[name]
        number = getattr(resource, name)
        ceiling = resource.getrlimit(number)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(number, (soft, hard))
    signal.signal(
        signal.SIGXFSZ, signal.SIG_IGN
    )  # an oversized write fails with EFBIG instead of killing
    # In a container whose memory is smaller than the limits (Gradescope: 768 MB), the kernel's
    # out-of-memory killer acts first: it must take the submission, never the grader.
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def drop_uid(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    os.umask(0o077)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise ConfinementError(errno.EPERM, "the dropped uid could become root again")


def no_new_privileges() -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def become_subreaper() -> None:
    """Orphans of the student's processes are adopted here, so they stay in this tree
    (where the grader finds and kills them) instead of escaping to init."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


# ------------------------------------------------------------------ landlock


# the rights that apply to a file (the others are about a folder's entries)
FILE_RIGHTS = (
    LANDLOCK_ACCESS_FS_EXECUTE
    | LANDLOCK_ACCESS_FS_WRITE_FILE
    | LANDLOCK_ACCESS_FS_READ_FILE
    | LANDLOCK_ACCESS_FS_TRUNCATE
    | LANDLOCK_ACCESS_FS_IOCTL_DEV
)


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none."""
    version = _libc.syscall(
        LANDLOCK_CREATE_RULESET,
        None,
        ctypes.c_size_t(0),
        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION),
    )
    return max(version, 0)


def _beside(folders: list[str], withheld: list[str]) -> list[str]:
    """`folders` with the `withheld` paths below them left out: a folder holding one is replaced
    by its entries (Landlock can only allow, so what is not allowed is what is not listed).
    Paths are compared where they really are: a rule on a symlink allows what it points to."""
    withheld = sorted({os.path.realpath(w) for w in withheld})
    kept: list[str] = []
    for folder in folders:
        real = os.path.realpath(folder)
        below = [w for w in withheld if w.startswith(real.rstrip("/") + "/")]
        if real in withheld:
            continue
        if not below or not os.path.isdir(real):
            kept.append(folder)
            continue
        try:
            entries = sorted(os.listdir(real))
        except OSError:
            continue
        kept += _beside([os.path.join(real, name) for name in entries], below)
    return kept


def landlock(plan: dict) -> None:
    """Unprivileged file, network and signal scoping (Linux 5.13+; net 6.7+; scopes 6.12+)."""
    abi = landlock_abi()
    if abi < 1:
        raise ConfinementError(errno.EOPNOTSUPP, "Landlock is not enabled in this kernel")
    read = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR
    everything = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1  # every ABI 1 right, EXECUTE to MAKE_SYM
    everything |= LANDLOCK_ACCESS_FS_REFER if abi >= 2 else 0
    everything |= LANDLOCK_ACCESS_FS_TRUNCATE if abi >= 3 else 0
    everything |= LANDLOCK_ACCESS_FS_IOCTL_DEV if abi >= 5 else 0
    network = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP if abi >= 4 else 0
    scopes = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL if abi >= 6 else 0
    handled = [everything, network, scopes]
    size = 8 * (3 if abi >= 6 else 2 if abi >= 4 else 1)
    attributes = (ctypes.c_uint64 * 3)(*handled)
    ruleset = _check(
        _libc.syscall(
            LANDLOCK_CREATE_RULESET, attributes, ctypes.c_size_t(size), ctypes.c_uint32(0)
        ),
        "landlock_create_ruleset",
    )
    try:
        device = (
            LANDLOCK_ACCESS_FS_WRITE_FILE
            | LANDLOCK_ACCESS_FS_READ_FILE
            | LANDLOCK_ACCESS_FS_READ_DIR
            | LANDLOCK_ACCESS_FS_TRUNCATE
            | LANDLOCK_ACCESS_FS_IOCTL_DEV
        )
        read_only = plan["read_only"]
        if plan.get("withheld") and "private-root" not in plan["layers"]:
            read_only = _beside(read_only, plan["withheld"])  # no empty mount covers them here
        rules = [(path, read) for path in read_only] + [
            ("/proc", read),
            ("/dev", device),
            (plan["folder"], everything),
        ]
        if "private-root" in plan["layers"]:
            rules += [(path, everything) for path in PRIVATE_TMP]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # absent here: nothing to allow
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    access &= FILE_RIGHTS
                rule = _PathBeneath(
                    access & everything, fd
                )  # & everything: the rights this kernel knows
                _check(
                    _libc.syscall(
                        LANDLOCK_ADD_RULE,
                        ruleset,
                        LANDLOCK_RULE_PATH_BENEATH,
                        ctypes.byref(rule),
                        0,
                    ),
                    f"landlock rule for {path}",
                )
            finally:
                os.close(fd)
        _check(_libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


# ------------------------------------------------------------------ seccomp

DENIED_SYSCALLS = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",  # other processes' memory
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",  # would bypass this very filter
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsmount",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "personality",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "quotactl",
    "acct",
    "swapon",
    "swapoff",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    # SysV IPC and POSIX message queues outlive the process and are shared by uid: a segment left
    # behind reaches the next holder of a reused sandbox uid, and pins memory past RLIMIT_AS.
    # NumPy and PyTorch do not use them (torch's shared memory is files in /dev/shm).
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "ipc",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
)
SIGNAL_SYSCALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open")
FILTERED_SYSCALLS = ("socket", "clone", "clone3", "prctl")


def unknown_syscalls(names) -> list[str]:
    """The names libseccomp knows on no architecture: a misspelling, which would deny nothing.

    A name of another architecture (`ipc` on x86_64) is known and harmless: libseccomp
    leaves it out of this machine's filter.  Empty when pyseccomp is not installed."""
    if pyseccomp is None:
        return []
    return [
        name for name in names if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) == -1
    ]  # __NR_SCMP_ERROR


def check_syscall_names() -> None:
    """Every name the seccomp layer denies is a real system call, or the grader does not start."""
    unknown = unknown_syscalls((*DENIED_SYSCALLS, *SIGNAL_SYSCALLS, *FILTERED_SYSCALLS))
    if unknown:
        raise ConfinementError(
            errno.EINVAL,
            f"the seccomp layer names system calls libseccomp does not know: {', '.join(unknown)}",
        )


def seccomp(protected_pids: list[int]) -> None:
    """Refuse what a homework never needs; everything else is allowed.

    Arguments are compared on their low 32 bits (MASKED_EQ) as the kernel reads
    them, so a raw syscall with junk in the upper half cannot slip past."""
    _seccomp_filter(protected_pids).load()


_FILTERS: dict = {}  # the protected processes' targets -> their filter, built once per process


def prepare_seccomp(protected_pids: list[int]) -> None:
    """Build the filter `seccomp(protected_pids)` loads, now: a warm worker builds it once and
    each fork of it only loads it (building it takes about a millisecond)."""
    _seccomp_filter(protected_pids)


def _seccomp_filter(protected_pids: list[int]):
    if pyseccomp is None:
        raise ConfinementError(
            errno.ENOSYS, "pyseccomp (and libseccomp) are needed for the seccomp layer"
        )
    targets = {0xFFFFFFFF}  # kill(-1, ...): every process the user may signal
    for pid in protected_pids:
        targets |= {pid & 0xFFFFFFFF, -pid & 0xFFFFFFFF}
        try:
            targets.add(-os.getpgid(pid) & 0xFFFFFFFF)
        except OSError:
            pass
    key = tuple(sorted(targets))
    if key not in _FILTERS:
        _FILTERS[key] = _build_seccomp(key)
    return _FILTERS[key]


def _build_seccomp(targets: tuple[int, ...]):
    check_syscall_names()
    deny = pyseccomp.ERRNO(errno.EPERM)
    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    rules.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)  # every thread of the process, not only this one
    rules.add_rule(
        pyseccomp.ERRNO(errno.EACCES), "socket", pyseccomp.Arg(0, pyseccomp.NE, socket.AF_UNIX)
    )
    rules.add_rule(
        pyseccomp.ERRNO(errno.ENOSYS), "clone3"
    )  # its flags are out of reach: libc falls back to clone
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(deny, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    for name in DENIED_SYSCALLS:
        rules.add_rule(deny, name)  # a name of another architecture only is accepted and left out
    rules.add_rule(deny, "prctl", pyseccomp.Arg(0, pyseccomp.EQ, PR_SET_CHILD_SUBREAPER))
    for name in SIGNAL_SYSCALLS:
        for target in targets:
            if name == "pidfd_open" and target == 0xFFFFFFFF:
                continue
            rules.add_rule(deny, name, pyseccomp.Arg(0, pyseccomp.MASKED_EQ, 0xFFFFFFFF, target))
    return rules


# ------------------------------------------------------------------ all of it


def close_other_fds(keep: set[int]) -> None:
    """Only stdin, stdout, stderr and the result channel stay open."""
    for name in os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def confine(plan: dict, keep_fds: set[int] = frozenset()) -> list[str]:
    """Apply the plan's layers to this process; returns the ones applied.

    plan: {"layers": [...], "folder", "mountpoint", "read_only": [...], "hidden": [...],
           "disk_mib", "uid", "rlimits": {name: [soft, hard]}, "protected_pids": [...]}"""
    layers = plan["layers"]
    applied = ["process-group"] if os.getsid(0) == os.getpid() else []
    if ("private-root" in layers or "landlock" in layers) and thread_count() > 1:
        raise ConfinementError(
            errno.EINVAL,
            f"namespaces and Landlock apply to one thread; this process has {thread_count()}",
        )
    close_other_fds(set(keep_fds))
    if "netns" in layers:
        new_network_namespace()
        applied.append("netns")
    if "ipcns" in layers:
        new_ipc_namespace()
        applied.append("ipcns")
    if "private-root" in layers:
        private_root(plan)
        applied.append("private-root")
    else:
        os.chdir(plan["folder"])
    if sys.platform.startswith("linux"):
        become_subreaper()
    if "rlimits" in layers:
        apply_rlimits(plan["rlimits"])
        applied.append("rlimits")
    if "landlock" in layers or "seccomp" in layers:
        no_new_privileges()
    if "landlock" in layers:
        landlock(plan)  # as root still, so every allowed folder can be opened for its rule
        applied.append("landlock")
    if "uid-drop" in layers:
        drop_uid(plan["uid"])
        applied.append("uid-drop")
    if "seccomp" in layers:
        seccomp(plan["protected_pids"] + [os.getppid()])
        applied.append("seccomp")
    missing = [layer for layer in layers if layer not in applied]
    if missing:
        raise ConfinementError(errno.EPERM, f"layers not applied: {', '.join(missing)}")
    return applied


# ------------------------------------------------------------------ probing (run as a script)


def _verify(layer: str, plan: dict) -> None:
    """Each layer really does what it says, in this throwaway process."""
    if layer == "netns":
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", 9)) not in (errno.ENETUNREACH, errno.EADDRNOTAVAIL):
                raise ConfinementError(errno.EPERM, "127.0.0.1 is still reachable")
    elif layer == "private-root":
        for path in plan["hidden_probe"]:
            if os.path.exists(path):
                raise ConfinementError(errno.EPERM, f"{path} is still visible")
    elif layer == "ipcns":
        if os.readlink("/proc/self/ns/ipc") == os.readlink(f"/proc/{os.getppid()}/ns/ipc"):
            raise ConfinementError(errno.EPERM, "still in the grader's IPC namespace")
    elif layer == "uid-drop" and os.getuid() != plan["uid"]:
        raise ConfinementError(errno.EPERM, "still running as the grader's user")
    elif layer == "seccomp":
        segment = _libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600)
        if segment != -1:
            _libc.shmctl(segment, IPC_RMID, None)
            raise ConfinementError(errno.EPERM, "a SysV shared memory segment could still be made")
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        except PermissionError:
            return
        raise ConfinementError(errno.EPERM, "an AF_INET socket could still be made")
    elif layer == "landlock":
        for path in plan["hidden_probe"]:
            try:
                os.listdir(path)
            except PermissionError:
                continue
            except FileNotFoundError:
                continue
            raise ConfinementError(errno.EPERM, f"{path} can still be read")


def probe(plan: dict) -> dict:
    """For each layer, fork, apply it alone, check it works; {layer: None or why not}."""
    found = {}
    for layer in plan["layers"]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            message = ""
            try:
                single = dict(plan, layers=[layer])
                if layer == "landlock":
                    os.chdir(plan["folder"])
                    no_new_privileges()
                    landlock(single)
                elif layer == "seccomp":
                    no_new_privileges()
                    seccomp([os.getppid()])
                else:
                    confine(single, keep_fds={write_end})
                _verify(layer, plan)
            except BaseException as error:  # noqa: BLE001 - every failure is a reason to report
                message = (
                    f"{type(error).__name__}: {error}"
                    if not isinstance(error, OSError)
                    else (error.strerror or str(error))
                )
            os.write(write_end, message.encode()[:2000])
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read().decode(errors="replace")
        _, status = os.waitpid(pid, 0)
        if not message and status != 0:
            message = f"the probe process ended with status {status}"
        found[layer] = message or None
    return found


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--probe":
    sys.stdout.write(json.dumps(probe(json.loads(sys.argv[2]))))

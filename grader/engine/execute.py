"""Execute: run a submission's calls in its own process and collect plain values.

The child (`grader.isolation.inside.child`) loads the student's files and makes the calls; this
module feeds it, reads its result channel with a deadline for loading and for
every call, drains its stdout/stderr into bounded buffers, and turns a
timeout, a crash or an exit into that call's outcome.  After a call times out
or kills the process, a fresh process continues with the calls still to make.
Nothing the child sends is trusted: each line is parsed as JSON and checked.

Each submission gets a workspace of its own (`grader.isolation.sandbox`): a private folder,
a dedicated uid where the grader runs as root, and the sandbox plan the child
applies to itself.  After every process, whatever it left running is killed.
"""

from __future__ import annotations

import json
import math
import os
import re
import selectors
import signal
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from grader.core.cases import Case
from grader.core.spec import Limits
from grader.engine.load import LoadedSubmission
from grader.engine.rules import read_evidence
from grader.isolation import bounded_json
from grader.isolation.sandbox import (
    MemoryLimit,
    Sandbox,
    close_workspace,
    memory_limit,
    open_workspace,
    out_of_memory_kills,
    prepare_folder,
    sweep,
    torch_library,
    waited_for_cpu,
)

# What the result channel may carry.  The largest answer the spec allows is a training call's
# curve at its most steps (5000) with every value a boxed 0-d tensor (about 80 bytes and 9
# values each): 400 kB and 45,000 values.  A load report holds a record per function defined and
# per file or cell that raised.  Nesting: the child's value trees are at most 16 levels deep.
RESULT_BOUNDS = bounded_json.Bounds("the answer", 2**20, 100_000, 20)
LOAD_BOUNDS = bounded_json.Bounds("the load report", 4 * 2**20, 100_000, 20)
# Everything one submission sends, over all its processes: a legitimate run sends a few hundred
# kB (SUBMISSION_CHANNEL_VALUES parsed values hold at most about 80 MB of the grader's memory).
SUBMISSION_CHANNEL_BYTES = 16 * 2**20
SUBMISSION_CHANNEL_VALUES = 1_000_000
STARTUP_SECONDS = (
    60  # a fresh interpreter importing torch on a busy machine, before any student code
)
WALL_BACKSTOP = (
    4  # a limit held to the submission's own time ends, whatever the machine, at this many times it
)


@dataclass(frozen=True)
class Call:
    id: str
    entry: str
    kwargs: dict = field(hash=False)
    case: Case = None
    watch: tuple[
        str, ...
    ] = ()  # the kinds of rule whose evidence the child records during the call
    arguments: tuple[
        str, ...
    ] = ()  # the entry point's positional order (the assignment's contract)
    framework: str = "numpy"  # what its case inputs arrive as: numpy arrays or torch tensors
    # where a rule judges how derivatives were made: (position, member) of the returned derivatives
    # (`EntryPoint.derivatives`), and whether the entry point trains
    derivatives: tuple[tuple[int, str], ...] = ()
    trains: bool = False
    trace: bool = False  # a probe's call: record the numbers its functions compute, line by line
    dtypes: tuple[tuple[str, str], ...] = ()  # inputs that arrive as another type than float64
    # a call of a part that runs without PyTorch: (the rule a use of torch breaks, its message);
    # such calls are made in a process of their own that has no torch (`Spec.without_torch`)
    without_torch: tuple[str, str] | None = None

    def to_request(self) -> dict:
        """The call as the submission's process makes it, without its inputs (`inputs_line`
        sends them at the call's turn): its arguments in order, each a case input (an array of
        the call's framework) or a keyword argument's value."""
        inputs = self.case.inputs
        dtypes = dict(self.dtypes)
        arguments = [
            ({"name": name, "input": True} | ({"dtype": dtypes[name]} if name in dtypes else {}))
            if name in inputs
            else {"name": name, "value": self.kwargs[name]}
            for name in self.arguments
        ]
        request = {
            "id": self.id,
            "entry": self.entry,
            "framework": self.framework,
            "arguments": arguments,
        }
        if self.trace:
            request["trace"] = True
        if not self.watch:
            return request
        return {
            **request,
            "watch": list(self.watch),
            "derivatives": [list(d) for d in self.derivatives],
            "trains": self.trains,
        }

    def inputs_line(self) -> bytes:
        """The call's case inputs, written to the submission's process when it is the call's turn."""
        inputs = {
            name: self.case.inputs[name] for name in self.arguments if name in self.case.inputs
        }
        return json.dumps({"id": self.id, "inputs": inputs}).encode() + b"\n"

    def describe(self) -> str:
        inputs = [name for name in self.arguments if name in self.case.inputs]
        return (
            f"{self.entry}({', '.join([*inputs, *(f'{k}={v!r}' for k, v in self.kwargs.items())])})"
        )


@dataclass(frozen=True)
class Outcome:
    """What one call gave: a value, or why there is none."""

    status: str  # ok | error | timeout | crash | missing
    value: object = None  # the plain-data tree the child sent
    error: dict | None = None  # type, message, where, traceback
    seconds: float = 0.0
    mutated: tuple[str, ...] = ()
    evidence: dict | None = field(
        default=None, hash=False
    )  # what the call did while it ran (grader.engine.rules.read_evidence)
    # a traced call: {"records": [[function, line, name, [numbers]], ...], "dropped", "large"}
    locals: dict | None = field(default=None, hash=False)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "error": self.error,
            "seconds": round(self.seconds, 6),
            "mutated": list(self.mutated),
            "evidence": self.evidence,
            "locals": self.locals,
        }


@dataclass(frozen=True)
class LoadReport:
    status: str  # ok | timeout | crash | empty | unstarted (the grader's start failed, no student code ran)
    problems: tuple[dict, ...] = ()  # exceptions raised while loading, per file / cell
    entry_points: dict = field(default_factory=dict, hash=False)  # name -> {"where": [files]}
    defined: tuple[dict, ...] = ()  # every function the submission defined, with its signature
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "problems": list(self.problems),
            "entry_points": self.entry_points,
            "defined": list(self.defined),
            "seconds": round(self.seconds, 6),
            "message": self.message,
        }


@dataclass(frozen=True)
class Execution:
    load: LoadReport
    outcomes: dict = field(hash=False)  # call id -> Outcome
    stdout: str = ""
    stderr: str = ""
    processes: int = 0
    seconds: float = 0.0
    sandbox: tuple[str, ...] = ()  # the layers every process of the submission ran under
    stragglers: int = 0  # processes it left running, killed by the grader
    reused: bool = False  # read from the grader's cache of an earlier run of the same code

    @property
    def reusable(self) -> bool:
        """Whether a re-run would give the same: nothing hit a time limit or crashed (limits and
        machine load decide those), and every call returned or raised."""
        return self.load.status == "ok" and all(
            o.status in ("ok", "error", "missing") for o in self.outcomes.values()
        )

    def to_record(self) -> dict:
        """Everything, as JSON-ready plain data (`from_record` reads it back)."""
        return {
            "load": self.load.to_dict(),
            "outcomes": {k: {**o.to_dict(), "value": o.value} for k, o in self.outcomes.items()},
            "stdout": self.stdout,
            "stderr": self.stderr,
            "processes": self.processes,
            "seconds": self.seconds,
            "sandbox": list(self.sandbox),
            "stragglers": self.stragglers,
        }

    @classmethod
    def from_record(cls, record: dict) -> Execution:
        load = LoadReport(
            **{
                **record["load"],
                "problems": tuple(record["load"]["problems"]),
                "defined": tuple(record["load"]["defined"]),
            }
        )
        outcomes = {
            k: Outcome(
                **{**o, "mutated": tuple(o["mutated"]), "locals": read_locals(o.get("locals"))}
            )
            for k, o in record["outcomes"].items()
        }
        plain = {k: record[k] for k in ("stdout", "stderr", "processes", "seconds", "stragglers")}
        return cls(load, outcomes, **plain, sandbox=tuple(record["sandbox"]), reused=True)


class _BoundedText:
    """Keeps the first `limit` bytes of a stream and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.kept, self.dropped = limit, bytearray(), 0

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += data[:room]
        self.dropped += max(0, len(data) - room)

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        return text + (f"\n[... {self.dropped} more bytes not kept]" if self.dropped else "")


def _exit_description(
    code: int,
    ending: str = "exit",
    memory: MemoryLimit | None = None,
    kills_before: int | None = None,
    limits: Limits | None = None,
) -> str:
    """How the process ended, from what the grader saw outside it: its wait status, whether the
    grader stopped it (`ending` "timeout"), and the kernel's count of out-of-memory kills."""
    if code >= 0:
        return f"exited with code {code}"
    name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
    if name == "SIGKILL" and ending != "timeout":  # not the grader's: the kernel's, or its own
        kills_after = out_of_memory_kills()
        if kills_before is not None and kills_after is not None and kills_after > kills_before:
            where = (
                memory.describe()
                if memory is not None and memory.source == "container"
                else "the memory of the machine or container"
            )
            return f"killed by the kernel's out-of-memory killer: it used more than {where}"
        return "killed by SIGKILL, not by the grader (by the submission itself, or by the system)"
    reason = {
        "SIGXCPU": f" (its CPU time limit, {int(limits.submission_seconds) + 5} s)"
        if limits
        else " (its CPU time limit)",
        "SIGSEGV": " (segmentation fault)",
        "SIGXFSZ": " (file size limit)",
        "SIGKILL": " (by the grader, at its time limit)",
    }
    return f"killed by {name}{reason.get(name, '')}"


def _memory_error(error: dict, memory: MemoryLimit | None) -> dict:
    """A MemoryError names the limit it met."""
    if memory is None or error.get("type") != "MemoryError":
        return error
    return {
        **error,
        "message": f"{error.get('message') or 'MemoryError'} (out of memory: the limit is {memory.describe()})",
    }


def _valid_event(event) -> bool:
    if not isinstance(event, dict) or event.get("event") not in (
        "confined",
        "loaded",
        "result",
        "done",
    ):
        return False
    if event["event"] in ("result", "confined"):
        return isinstance(event.get("ok"), bool) and (
            event["event"] == "confined" or isinstance(event.get("id"), str)
        )
    return True


class _Channel:
    """What one submission may still send on its result channel, over all its processes."""

    def __init__(self):
        self.bytes_left, self.values_left = SUBMISSION_CHANNEL_BYTES, SUBMISSION_CHANNEL_VALUES

    def spend(self, size: int = 0, values: int = 0) -> str | None:
        """Why the submission is over its budget now, or None."""
        self.bytes_left -= size
        self.values_left -= values
        if self.bytes_left < 0:
            return (
                "the submission's processes sent more than "
                f"{SUBMISSION_CHANNEL_BYTES // 2**20} MiB on the grader's result channel"
            )
        if self.values_left < 0:
            return (
                "the submission's processes sent more than "
                f"{SUBMISSION_CHANNEL_VALUES} values on the grader's result channel"
            )
        return None


def _template_pace(limits: Limits):
    """The template run's pace: a line is held to the load report's bounds and load_seconds
    until the "loaded" event, then to an answer's bounds and call_seconds."""

    def pace(event, bounds: bounded_json.Bounds):
        loaded = bounds is RESULT_BOUNDS or event["event"] == "loaded"
        return (limits.call_seconds if loaded else limits.load_seconds), (
            RESULT_BOUNDS if loaded else LOAD_BOUNDS
        )

    return pace


class _OwnTime:
    """A time limit held to the submission's own time: the wall clock since it was set, less the
    time the process waited for a CPU that others held (the kernel's run-queue delay, read from
    /proc, outside the submission).  A busy machine makes a call slower, never late; a call that
    computes or sleeps uses its own time.  `WALL_BACKSTOP` times the limit is the wall-clock most."""

    def __init__(self, pid: int, seconds: float, total_deadline: float):
        self.pid, self.seconds, self.total_deadline = pid, seconds, total_deadline
        self.start, self.waited_then = time.monotonic(), waited_for_cpu(pid)
        self.backstop = min(self.start + seconds * WALL_BACKSTOP, total_deadline)

    def remaining(self) -> float:
        """Seconds until the limit is reached, read anew each time it seems reached."""
        now = time.monotonic()
        plain = min(self.start + self.seconds, self.total_deadline) - now
        if plain > 0 or self.waited_then is None:
            return plain
        waited = waited_for_cpu(self.pid)
        if waited is None:  # the process is gone: its pipes say the rest
            return plain
        return (
            min(self.start + self.seconds + max(0.0, waited - self.waited_then), self.backstop)
            - now
        )


def read_events(
    child,
    total_deadline: float,
    stdout: _BoundedText,
    stderr: _BoundedText,
    channel: _Channel,
    accept,
    pace,
    bounds: bounded_json.Bounds,
):
    """Read one child's events until it is done, silent too long, or gone: every run of a
    submission's process (its calls, or its files run free-form) is read here.

    Yields each event `accept` takes; returns (ending, reason) through StopIteration.  Each line
    is held to `bounds` before it is parsed (grader.isolation.bounded_json) and to the submission's channel
    budget; `pace(event, bounds)` gives the seconds the next line may take after this event (None:
    the same deadline) and the bounds it is held to."""
    selector = selectors.DefaultSelector()
    streams = {child.result_fd: None, child.stdout_fd: stdout, child.stderr_fd: stderr}
    for fd in streams:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    pending = bytearray()
    # until the child says it is confined no student code has run: the start-up is the grader's time
    clock = _OwnTime(child.pid, STARTUP_SECONDS, total_deadline)
    try:
        while child.result_fd in streams:
            remaining = clock.remaining()
            if remaining <= 0:
                return "timeout", None
            for key, _ in selector.select(timeout=min(remaining, 1.0)):
                data = os.read(key.fd, 65536)
                buffer = streams[key.fd]
                if not data:
                    selector.unregister(key.fd)
                    del streams[key.fd]
                elif buffer is not None:
                    buffer.add(data)
                else:
                    over = channel.spend(size=len(data))
                    if over:
                        return "budget", over
                    pending += data
            lines = pending.split(b"\n")
            pending = bytearray(lines.pop())  # the unfinished line
            for line in lines:
                try:
                    event, values = bounded_json.loads(bytes(line), bounds)
                except bounded_json.Refused as refused:
                    return "corrupt", str(refused)
                over = channel.spend(values=values)
                if over:
                    return "budget", over
                if not accept(event):
                    return "corrupt", None
                if event["event"] == "done":
                    return "done", None
                seconds, bounds = pace(event, bounds)
                yield event
                if seconds is not None:
                    clock = _OwnTime(child.pid, seconds, total_deadline)
            if len(pending) > bounds.bytes:  # refused before its end arrives: nothing waits for it
                return (
                    "corrupt",
                    f"{bounds.what} was too large: more than {len(pending)} bytes, limit {bounds.bytes}",
                )
        return "exit", None
    finally:
        selector.close()
        _drain(streams)


def _drain(streams: dict) -> None:
    """What the child printed just before it ended is still in the pipes."""
    for fd, buffer in streams.items():
        if buffer is None:
            continue
        try:
            for _ in range(64):  # bounded: a child still printing cannot hold the grader here
                data = os.read(fd, 65536)
                if not data:
                    break
                buffer.add(data)
        except BlockingIOError:
            pass


CODING_COOKIE = re.compile(r"^([ \t\f]*#.*?coding[:=][ \t]*)([-\w.]+)", re.MULTILINE)


def utf8_source(text: str) -> str:
    """The text is written as UTF-8, so a `# -*- coding: gbk -*-` line must say so too."""
    head = "\n".join(text.split("\n", 2)[:2])  # PEP 263: the cookie counts on line 1 or 2 only
    return (
        CODING_COOKIE.sub(lambda match: match.group(1) + "utf-8", head, count=1) + text[len(head) :]
    )


def _relative(filename, folder: Path) -> str:
    """A path inside the submission's folder as the student knows it (never the grader's scratch path)."""
    try:
        return Path(filename).relative_to(folder).as_posix()
    except (TypeError, ValueError):
        return Path(str(filename)).name


def write_sources(loaded: LoadedSubmission, workdir: Path) -> list[dict]:
    """The submission's files in its private folder; the request's list of them."""
    sources = []
    for source in loaded.runnable:
        target = workdir / source.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.kind == "py":
            target.write_text(utf8_source(source.text), encoding="utf-8")
            sources.append({"path": source.path, "kind": "py"})
        else:
            sources.append({"path": source.path, "kind": "ipynb", "cells": list(source.cells)})
    return sources


def execute_submission(
    loaded: LoadedSubmission,
    calls: list[Call],
    limits: Limits,
    scratch: Path | None,
    launcher,
    sandbox: Sandbox,
    seconds: float | None = None,
) -> Execution:
    """`launcher` starts and stops the submission's processes (grader.isolation.launchers); `sandbox` holds
    the run's probed layers (`grader.isolation.sandbox.probe_layers`).  `pipeline.execute_plan` picks both.
    `seconds`: what is left of the submission's wall-clock budget, all of it by default.

    A call that timed out or ended its process, in a submission whose same function returned on
    other calls, is made once more at the end, in a fresh process with `RETRY_FACTOR` times the
    limit, before that becomes its verdict: a busy or starved machine must not cost a point.  A
    function stuck twice without ever returning is not called again."""
    started = time.monotonic()
    total_deadline = started + (limits.submission_seconds if seconds is None else seconds)
    stdout, stderr = _BoundedText(limits.output_kib * 1024), _BoundedText(limits.output_kib * 1024)
    if not loaded.runnable:  # nothing to run: every call still gets its outcome
        message = "; ".join(loaded.problems) or "no source files"
        missing = {
            call.id: Outcome("missing", error={"type": "Missing", "message": message})
            for call in calls
        }
        return Execution(LoadReport("empty", message=message), missing)
    workspace = open_workspace(sandbox, scratch)
    outcomes: dict[str, Outcome] = {}
    first_tries: dict[str, Outcome] = {}  # stuck once, to be made again (or given as the verdict)
    retried: dict[
        str, Outcome
    ] = {}  # made again: the first try's outcome, for the verdict and the report
    load_report = None
    pending = list(calls)
    processes = stragglers = 0
    unstarted_once = False
    call_limits = limits
    retry_limits = replace(limits, call_seconds=limits.call_seconds * RETRY_FACTOR)
    memory = memory_limit(limits)
    try:
        try:
            sources = write_sources(loaded, workspace.folder)
        except (
            OSError
        ) as error:  # a name this file system refuses: the submission's, not the grader's
            message = (
                "the submission's files could not be written "
                f"({error.strerror}: {_relative(error.filename, workspace.folder)})"
            )
            missing = {
                call.id: Outcome("missing", error={"type": "Missing", "message": message})
                for call in calls
            }
            return Execution(
                LoadReport("empty", message=message), missing, sandbox=workspace.sandbox.layers
            )
        without = calls[0].without_torch if calls else None
        if any(call.without_torch != without for call in calls):
            raise ValueError("the calls of one process either all have PyTorch or none has")
        plan = workspace.plan(limits, without_torch=without is not None)
        channel = _Channel()
        by_id = {call.id: call for call in calls}
        while pending:
            asked = {
                "sources": sources,
                "calls": [c.to_request() for c in pending],
                "sandbox": plan,
            }
            if without is not None:
                asked["without_torch"] = {"rule": without[0], "message": without[1]}
            request = json.dumps(asked).encode()
            prepare_folder(workspace)
            kills_before = out_of_memory_kills()
            child = (
                launcher.start(workspace.folder, call_limits, request)
                if without is None
                else launcher.start(workspace.folder, call_limits, request, torch=False)
            )
            libraries = _TorchFree(child.pid, without) if without is not None else None
            workspace.started(child.pid)
            processes += 1
            events = read_events(
                child,
                total_deadline,
                stdout,
                stderr,
                channel,
                _valid_event,
                _template_pace(call_limits),
                LOAD_BOUNDS,
            )
            expected_ids: list[str] | None = None
            confined, unconfined = False, None
            ending, detail = "exit", None
            try:
                while True:
                    event = next(events)
                    if event["event"] == "confined":
                        if (
                            not confined and not event["ok"]
                        ):  # only the first: later ones come from student code
                            unconfined = str(event.get("message", ""))[:500]
                            break
                        confined = True
                    elif event["event"] == "loaded":
                        if libraries is not None and not libraries.loaded():
                            stderr.add(UNREAD_MAP.encode())
                        if load_report is None:
                            load_report = _load_report(event, memory)
                        expected_ids = _resolvable(pending, load_report, outcomes)
                        turn = 0  # the call whose inputs the child was given last
                        _give_turn(child, expected_ids, turn, by_id)
                    elif expected_ids is not None and event["id"] in expected_ids:
                        call_id = event["id"]
                        in_turn = turn < len(expected_ids) and call_id == expected_ids[turn]
                        if call_id in outcomes or not in_turn:
                            earlier = outcomes.get(call_id)
                            if earlier is None or (earlier.error or {}).get("type") != "Tampered":
                                outcomes[call_id] = _tampered(call_id in outcomes)
                        else:
                            outcomes[call_id] = _outcome(event, memory)
                            if libraries is not None:  # read from outside, before the next turn
                                outcomes[call_id] = libraries.judged(call_id, outcomes[call_id])
                        if in_turn:  # the next call's inputs, now and not before
                            turn += 1
                            _give_turn(child, expected_ids, turn, by_id)
            except StopIteration as stop:
                ending, detail = stop.value
            finally:  # on every path, a fault of the grader's own included: the process and its pipes go
                events.close()
                # every process of the submission's, frozen; those of a process without PyTorch
                # read for a torch library before they go
                swept = sweep(
                    child.pid,
                    workspace.uid,
                    inspect=partial(libraries.settle, outcomes) if libraries is not None else None,
                )
                workspace.swept(swept)
                stragglers += swept.others
                code = launcher.stop(child, wait=ending != "done")
            exceeded = workspace.disk_exceeded()
            if exceeded is not None:  # a submission that fills the disk is not started again
                message = f"the submission {exceeded}, so it was stopped"
                load_report = load_report or LoadReport("crash", message=message)
                for call in pending:
                    outcomes.setdefault(
                        call.id, Outcome("crash", error={"type": "DiskLimit", "message": message})
                    )
                break
            if unconfined is not None:
                message = f"the grader could not set up its sandbox, so the submission was not run ({unconfined})"
                load_report = LoadReport("crash", message=message)
                for call in pending:
                    outcomes[call.id] = Outcome(
                        "crash", error={"type": "SandboxFailure", "message": message}
                    )
                break
            if ending == "done":
                for call_id in expected_ids or ():
                    if (
                        call_id not in outcomes
                    ):  # a "done" the student's code wrote itself, too early
                        outcomes[call_id] = Outcome(
                            "crash",
                            error={
                                "type": "Crash",
                                "message": "the submission's process said it was done without answering this call",
                            },
                        )
                pending = _retry_or_settle(calls, outcomes, first_tries, retried)
                call_limits = retry_limits
                continue
            ended = _exit_description(code, ending, memory, kills_before, limits)
            out_of_budget = (
                ending == "timeout" and time.monotonic() >= total_deadline
            )  # the submission's own limit
            if not confined and ending in ("exit", "timeout") and not out_of_budget:
                # no line of the submission ran: the grader's own start failed (the machine, the
                # installation), and the process's output is the grader's, not the student's
                if not unstarted_once and time.monotonic() < total_deadline:
                    unstarted_once = True
                    continue  # once more, in a fresh process
                said = stderr.text().strip().splitlines()[-3:]
                what = f"did not start within {STARTUP_SECONDS} s" if ending == "timeout" else ended
                message = (
                    f"the grader could not start the submission's process: it {what} "
                    "before any of the submission's code ran, twice"
                    + (f" ({' / '.join(said)[-400:]})" if said else "")
                )
                load_report = LoadReport("unstarted", message=message)
                for call in pending:
                    outcomes[call.id] = Outcome(
                        "crash", error={"type": "NotStarted", "message": message}
                    )
                break
            reason = (
                detail
                or {
                    "timeout": None,
                    "corrupt": "the submission's process wrote something that is not a result to the grader's channel",
                    "exit": f"the submission's process {ended}",
                }[ending]
            )
            if expected_ids is None:  # never finished loading
                message = reason or (
                    f"loading did not finish within {limits.load_seconds:g} s"
                    if confined
                    else "the submission's time limit ran out before its process started"
                )
                load_report = LoadReport(
                    "timeout" if ending == "timeout" else "crash", message=message
                )
                for call in pending:
                    outcomes[call.id] = Outcome(
                        "timeout" if ending == "timeout" else "crash",
                        error={"type": "LoadFailure", "message": message},
                    )
                break
            still = [c for c in pending if c.id in expected_ids and c.id not in outcomes]
            if still:
                over_total = time.monotonic() >= total_deadline
                message = reason or (
                    f"the submission's time limit ({limits.submission_seconds:g} s) ran out"
                    if over_total
                    else f"the call did not return within {call_limits.call_seconds:g} s"
                )
                stuck = still[0]
                stuck_outcome = Outcome(
                    "timeout" if ending == "timeout" else "crash",
                    error={
                        "type": "Timeout" if ending == "timeout" else "Crash",
                        "message": message,
                    },
                )
                if (
                    ending in ("timeout", "exit")
                    and not over_total
                    and stuck.id not in first_tries
                    and stuck.id not in retried
                ):
                    first_tries[stuck.id] = (
                        stuck_outcome  # made again at the end, if its function is seen to work
                    )
                else:
                    outcomes[stuck.id] = _second_try(stuck_outcome, retried.get(stuck.id))
                if (
                    ending in ("timeout", "exit")
                    and not over_total
                    and _stuck_twice(stuck.entry, calls, outcomes, first_tries)
                ):
                    # a function that hung (or ended its process) twice and never returned does so
                    # again: its other calls are not made, so the time goes to the entry points that still may score
                    what = (
                        f"did not return within {call_limits.call_seconds:g} s"
                        if ending == "timeout"
                        else "ended its process"
                    )
                    earlier = [
                        c
                        for c in calls
                        if c.entry == stuck.entry and c.id != stuck.id and c.id in first_tries
                    ]
                    first = earlier[0] if earlier else stuck
                    also = f"{stuck.describe()} on the {stuck.case.id} case"
                    skipped = (
                        f"not called: an earlier call, {first.describe()} on the {first.case.id} "
                        f"case, {what}, and so did {also}, so {stuck.entry} is not called again"
                    )
                    status = "timeout" if ending == "timeout" else "crash"
                    for call in calls:
                        if call.entry == stuck.entry and call.id not in outcomes:
                            outcomes[call.id] = first_tries.pop(call.id, None) or Outcome(
                                status, error={"type": status.capitalize(), "message": skipped}
                            )
                if ending == "budget":  # nothing more of this submission is read
                    for call in still[1:]:
                        outcomes[call.id] = Outcome(
                            "crash", error={"type": "Crash", "message": f"not called: {message}"}
                        )
                    break
                if over_total:
                    for call in still[1:]:
                        outcomes[call.id] = Outcome(
                            "timeout", error={"type": "Timeout", "message": message}
                        )
                    break
            pending = [c for c in pending if c.id not in outcomes and c.id not in first_tries]
            if not pending:
                pending = _retry_or_settle(calls, outcomes, first_tries, retried)
                call_limits = retry_limits
    finally:
        stragglers += close_workspace(workspace)
    # the run ended (its time, its budget) before a second try
    for call_id, outcome in first_tries.items():
        outcomes.setdefault(call_id, outcome)
    if stragglers:
        stderr.add(
            f"\n[grader: {stragglers} processes the submission left running were killed]\n".encode()
        )
    for line in _retry_notes(calls, outcomes, retried, limits):
        stderr.add(f"\n[grader: {line}]\n".encode())
    return Execution(
        load_report,
        outcomes,
        stdout.text(),
        stderr.text(),
        processes,
        time.monotonic() - started,
        workspace.sandbox.layers,
        stragglers,
    )


class _TorchFree:
    """What the grader reads from outside a process that makes calls without PyTorch: whether a
    torch library is mapped into it (its /proc/PID/maps) after each call, and into any process
    of the submission's as it ends.  Threads, forks, ctypes and forged records cannot hide a
    library the kernel says is mapped; a call made while one was is not counted."""

    def __init__(self, pid: int, without: tuple[str, str]):
        self.pid, self.rule = pid, without
        self.readable = False  # whether this grader can read the process's maps at all
        self.made: list[str] = []  # the calls this process answered

    def loaded(self) -> bool:
        """Whether the process's memory map can be read here (read after each call if so)."""
        self.readable = torch_library(self.pid) is not None
        return self.readable

    def judged(self, call_id: str, outcome: Outcome) -> Outcome:
        self.made.append(call_id)
        found = torch_library(self.pid) if self.readable else ""
        if found is None:  # readable when the files were loaded, and now not: made so
            found = "its memory map, readable when the files were loaded, no longer is"
        return _torch_loaded(self.rule, found) if found else outcome

    def settle(self, outcomes: dict, pids: list[int]) -> None:
        """`pids`: every process of the submission's, frozen (sandbox.sweep)."""
        if not self.readable or not self.made:
            return
        for pid in pids:
            found = torch_library(pid)
            if found:
                for call_id in self.made:
                    outcomes[call_id] = _torch_loaded(self.rule, f"process {pid}: {found}")
                return


UNREAD_MAP = (
    "\n[grader: the memory map of the process without PyTorch could not be read here, so "
    "only its withheld folders kept torch out of it]\n"
)


def _torch_loaded(rule: tuple[str, str], found: str) -> Outcome:
    rule_id, message = rule
    said = f"{rule_id}: {message}" if rule_id else message
    return Outcome(
        "error",
        error={
            "type": "TorchLoaded",
            "message": f"{said} PyTorch was loaded where this call ran ({found[:300]}), so the "
            "call gives no points.",
        },
    )


SECOND_PROCESS = "\n[grader: what follows is from the process that made the calls with PyTorch]\n"


def joined(without: Execution, within: Execution, limit: int) -> Execution:
    """One submission's run from its two processes: the calls of the parts without PyTorch, and
    the others.  The load is the one with PyTorch (the files as they run); what failed to load
    only where torch was a stand-in is said to the staff, in stderr.  A process without PyTorch
    that never finished loading never said which functions it found: its crash or timeout is
    the load's, so the run is not taken for one that defines none of them."""
    seen = {(p.get("file"), p.get("cell"), p.get("where")) for p in within.load.problems}
    only = [
        p
        for p in without.load.problems
        if (p.get("file"), p.get("cell"), p.get("where")) not in seen
    ]
    notes = "".join(
        f"\n[grader: in the process without PyTorch, {_where(p)} raised {p.get('type', 'an error')}"
        f" ({str(p.get('message', ''))[:200]}); the statements after it ran, and the calls made"
        " there used what the file defined]\n"
        for p in only[:5]
    )
    # each process looked up the entry points of its own calls
    names = {d.get("name") for d in within.load.defined}
    load = replace(
        within.load,
        entry_points={**without.load.entry_points, **within.load.entry_points},
        defined=within.load.defined
        + tuple(d for d in without.load.defined if d.get("name") not in names),
    )
    if within.load.status == "ok" and without.load.status != "ok":
        load = replace(
            load,
            status=without.load.status,
            message=f"{without.load.message} (in the process that makes the calls without PyTorch)",
        )
    return Execution(
        load,
        {**without.outcomes, **within.outcomes},
        _bounded(_both(without.stdout, within.stdout), limit),
        _bounded(_both(without.stderr + notes, within.stderr), limit),
        without.processes + within.processes,
        without.seconds + within.seconds,
        within.sandbox or without.sandbox,
        without.stragglers + within.stragglers,
        without.reused and within.reused,
    )


def _both(first: str, second: str) -> str:
    return first + SECOND_PROCESS + second if first and second else first + second


def _bounded(text: str, limit: int, tail: int = 300) -> str:
    """Two processes' output within one process's bound (`limit` characters, about the bytes):
    its start, and its end, which says what each process's own bound left out."""
    if len(text) <= limit:
        return text
    left = len(text) - limit
    return text[: limit - tail] + f"\n[... {left} more characters not kept ...]\n" + text[-tail:]


def _where(problem: dict) -> str:
    cell = f" (cell {problem['cell']})" if problem.get("cell") else ""
    return f"{problem.get('where') or Path(str(problem.get('file') or 'the file')).name}{cell}"


RETRY_FACTOR = 2  # a call made again gets this many times the spec's call_seconds


def _stuck_twice(entry: str, calls: list[Call], outcomes: dict, first_tries: dict) -> bool:
    """The function got stuck on two calls and has returned on none."""
    mine = [c.id for c in calls if c.entry == entry]
    stuck = sum(
        i in first_tries
        or (outcomes.get(i) is not None and outcomes[i].status in ("timeout", "crash"))
        for i in mine
    )
    return not _returned(entry, calls, outcomes) and stuck >= 2


def _returned(entry: str, calls: list[Call], outcomes: dict) -> bool:
    """The function returned (a value or an exception of its own) on some call."""
    return any(
        outcomes.get(c.id) is not None and outcomes[c.id].status in ("ok", "error")
        for c in calls
        if c.entry == entry
    )


def _retry_or_settle(
    calls: list[Call], outcomes: dict, first_tries: dict, retried: dict
) -> list[Call]:
    """The calls stuck once whose function returned on another call: made again now.  The others
    keep their first outcome as the verdict."""
    again = []
    for call in calls:
        if call.id not in first_tries:
            continue
        if _returned(call.entry, calls, outcomes):
            again.append(call)
            retried[call.id] = first_tries.pop(call.id)
        else:
            outcomes[call.id] = first_tries.pop(call.id)
    return again


def _second_try(outcome: Outcome, first: Outcome | None) -> Outcome:
    """A retried call's verdict says it was tried twice."""
    if first is None:
        return outcome
    said = (first.error or {}).get("message", first.status)
    now = (outcome.error or {}).get("message", outcome.status)
    again = "it was made twice, the second time in a fresh process with a longer limit"
    message = f"{now} ({again})" if now == said else f"{now}, and before that {said} ({again})"
    error = dict(outcome.error or {}, message=message)
    return replace(outcome, error=error)


def _retry_notes(calls: list[Call], outcomes: dict, retried: dict, limits: Limits) -> list[str]:
    by_id = {c.id: c for c in calls}
    notes = []
    for call_id in retried:
        call, outcome = by_id[call_id], outcomes.get(call_id)
        then = (
            "and returned"
            if outcome is not None and outcome.status in ("ok", "error")
            else "and failed again"
        )
        notes.append(
            f"{call.entry} on the {call.case.id} case timed out or ended its process once; "
            "it was made again in a fresh process "
            f"with a {limits.call_seconds * RETRY_FACTOR:g} s limit {then}"
        )
    return notes


def _load_report(event: dict, memory: MemoryLimit | None = None) -> LoadReport:
    def records(value, limit=200):
        return tuple(
            item
            for item in (value if isinstance(value, list) else [])[:limit]
            if isinstance(item, dict)
        )

    entry_points = event.get("entry_points") if isinstance(event.get("entry_points"), dict) else {}
    entry_points = {
        name: {"where": [w for w in found["where"] if isinstance(w, str)][:20]}
        for name, found in list(entry_points.items())[:200]
        if isinstance(found, dict) and isinstance(found.get("where"), list)
    }
    problems = tuple(_memory_error(problem, memory) for problem in records(event.get("problems")))
    return LoadReport(
        "ok", problems, entry_points, records(event.get("defined")), _seconds(event.get("seconds"))
    )


TURN_WRITE_SECONDS = 5.0  # how long the grader waits for a child to take a call's inputs


def _give_turn(child, expected_ids: list[str], turn: int, by_id: dict) -> None:
    """Write the inputs of the call whose turn it is to the child's request pipe.  The child
    reads them as soon as its call before is answered; one that stopped reading (its own code
    answered in its place) never holds the grader: after TURN_WRITE_SECONDS the rest is not
    written, and the call's limits end it."""
    fd = getattr(child, "request_fd", None)
    if fd is None or turn >= len(expected_ids):
        return
    view = memoryview(by_id[expected_ids[turn]].inputs_line())
    deadline = time.monotonic() + TURN_WRITE_SECONDS
    try:
        os.set_blocking(fd, False)
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_WRITE)
            while view and time.monotonic() < deadline:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    selector.select(max(0.0, deadline - time.monotonic()))
    except OSError:
        pass  # the child has gone, or closed its end


def _resolvable(pending: list[Call], load: LoadReport, outcomes: dict) -> list[str]:
    """Calls the child will make; the others get their outcome here."""
    ids = []
    for call in pending:
        found = load.entry_points.get(call.entry)
        where = found.get("where") if isinstance(found, dict) else None
        if not where:
            outcomes.setdefault(
                call.id,
                Outcome(
                    "missing",
                    error={"type": "Missing", "message": missing_message(call.entry, load)},
                ),
            )
        elif len(where) > 1:
            message = (
                f"{call.entry} is defined differently in {' and '.join(map(str, where))}; keep one"
            )
            outcomes.setdefault(
                call.id, Outcome("missing", error={"type": "Ambiguous", "message": message})
            )
        else:
            ids.append(call.id)
    return ids


def missing_message(entry: str, load: LoadReport) -> str:
    """Why an entry point is missing, with what the submission did define."""
    message = f"{entry} is not defined"
    signatures = [str(d.get("signature", "")) for d in load.defined if d.get("signature")]
    if signatures:
        shown = ", ".join(signatures[:8]) + (
            f" and {len(signatures) - 8} more" if len(signatures) > 8 else ""
        )
        message += f"; the submission defines {shown}"
    else:
        message += "; the submission defines no functions"
    failed = [f"{p.get('where') or p.get('file')}: {p.get('type')}" for p in load.problems[:3]]
    if failed:
        message += " (while loading: " + "; ".join(failed) + ")"
    return message


def _seconds(value) -> float:
    """A duration the child measured; anything else (a bool, NaN, a negative) counts as 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        return 0.0
    return float(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


NUMBER_TYPES = {int, float}  # what JSON's numbers parse to (a bool is a type of its own here)


def numbers_only(items: list) -> bool:
    """Whether every item is a number (`_is_number`): at C speed where all are plain ints and
    floats, as JSON gives them (a returned list can hold thousands)."""
    return set(map(type, items)) <= NUMBER_TYPES or all(map(_is_number, items))


def _value_problem(tree) -> str | None:
    """Why `tree` is not a value as the child writes one (`grader.isolation.inside.child.to_tree`), or None.

    Iterative, so no tree can exhaust the grader's stack; the line's bounds already hold
    its size.  A reason that is too long is cut where it is kept."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_number(node):
            continue
        if not isinstance(node, dict):
            return f"{type(node).__name__} where a value belongs"
        if "unsupported" in node:
            if not isinstance(node["unsupported"], str):
                return "an unsupported value without its description"
            node["unsupported"] = node["unsupported"][:200]
        elif "array" in node:
            flat, shape = node["array"], node.get("shape")
            if not (
                isinstance(flat, list)
                and isinstance(shape, list)
                and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            ):
                return "an array without a flat list of values and a shape"
            if math.prod(shape) != len(flat) or not numbers_only(flat):
                return (
                    f"an array of {len(flat)} items that is not shape {tuple(shape)[:8]} of numbers"
                )
        elif isinstance(node.get("seq"), list):
            if not numbers_only(node["seq"]):  # a list of numbers needs no look at each
                stack.extend(node["seq"])
        else:
            return "a mapping that is no value"
    return None


TAMPERED = (
    "the submission's process sent {what} for this call: an answer the submission's own code "
    "wrote onto the grader's channel, so none of its answers for it counts"
)


def _tampered(twice: bool) -> Outcome:
    """A call whose answers on the channel were not one, in its turn: the child makes the calls in
    the request's order and answers each once, so another line came from the submission's code."""
    what = "a second answer" if twice else "an answer before its turn (before its inputs were sent)"
    return Outcome("crash", error={"type": "Tampered", "message": TAMPERED.format(what=what)})


MAX_LOCALS = 416  # records of a traced call (grader/isolation/inside/locals.py), each at most
MAX_LOCAL_NUMBERS = 64  # numbers


def read_locals(raw) -> dict | None:
    """A traced call's record of its locals, bounded and typed; None when there is none or it
    is malformed (a record that is not [function, line, name, [numbers]] is left out)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("records"), list):
        return None

    def number(value) -> bool:
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            and abs(value) < 1e300
        )

    records = []
    for record in raw["records"][:MAX_LOCALS]:
        if not (isinstance(record, list) and len(record) == 4):
            continue
        function, line, name, values = record
        if not (
            isinstance(function, str)
            and isinstance(name, str)
            and isinstance(line, int)
            and not isinstance(line, bool)
            and 0 < line < 10**7
            and isinstance(values, list)
            and 0 < len(values) <= MAX_LOCAL_NUMBERS
            and all(number(v) for v in values)
        ):
            continue
        records.append((function[:64], line, name[:64], tuple(float(v) for v in values)))
    dropped = raw.get("dropped")
    large = raw.get("large") if isinstance(raw.get("large"), list) else []
    return {
        "records": records,
        "dropped": int(min(max(dropped, 0), 10**9))
        if isinstance(dropped, int) and not isinstance(dropped, bool)
        else 0,
        "large": [n[:64] for n in large[:8] if isinstance(n, str)],
    }


def _outcome(event: dict, memory: MemoryLimit | None = None) -> Outcome:
    seconds = _seconds(event.get("seconds"))
    if event["ok"]:
        problem = _value_problem(event.get("value"))
        if problem is not None:
            message = f"the submission's process sent an answer the grader does not read: {problem}"
            return Outcome(
                "crash",
                error={"type": "Crash", "message": message},
                seconds=seconds,
                evidence=read_evidence(event.get("evidence")),
            )
        mutated = event.get("mutated") if isinstance(event.get("mutated"), list) else []
        return Outcome(
            "ok",
            value=event.get("value"),
            seconds=seconds,
            mutated=tuple(m[:64] for m in mutated if isinstance(m, str))[:3],
            evidence=read_evidence(event.get("evidence")),
            locals=read_locals(event.get("locals")),
        )
    error = event.get("error") if isinstance(event.get("error"), dict) else {}
    error = _memory_error(
        {key: str(error.get(key, ""))[:8000] for key in ("type", "message", "where", "traceback")},
        memory,
    )
    return Outcome(
        "error",
        error=error,
        seconds=seconds,
        evidence=read_evidence(event.get("evidence")),
        locals=read_locals(event.get("locals")),
    )

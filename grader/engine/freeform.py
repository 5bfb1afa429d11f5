"""Execute, free-form: a hand-in with no entry point of the contract, run as written and watched.

The submission's process runs each of its files as `__main__`
(`grader.isolation.inside.freeform`) within `limits.load_seconds` each, and streams what it
saw: its own functions' arguments and return values, the leaves' `.grad` after
each backward pass, the lines it printed with numbers, its globals at the end.
This module reads that stream with the same bounds as every answer, checks each
record's shape, and keeps it as plain data: a `FreeformRun`.  A file that never
ends is cut at its limit with what it sent so far; what a record means is the
assignment's business (`Reference.recognise`).
"""

from __future__ import annotations

import ast
import json
import re
import time
from dataclasses import dataclass, field, replace

from grader.core.spec import Limits
from grader.engine.diagnose import Diagnosis
from grader.engine.execute import (
    RESULT_BOUNDS,
    _BoundedText,
    _Channel,
    _value_problem,
    read_events,
    write_sources,
)
from grader.engine.load import LoadedSubmission
from grader.isolation.sandbox import (
    Sandbox,
    close_workspace,
    kill_stragglers,
    open_workspace,
    prepare_folder,
)

KINDS = ("script", "call", "backward", "printed", "globals", "ended", "answered")
MAX_RECORDS = 5000
MAX_COUNT = (
    10**9
)  # a record's numbers (its order, a call's or a pass's count, a line): beyond, forged


@dataclass(frozen=True)
class FreeformRun:
    """What the hand-in's files did when run as written: its records, in the order they came."""

    records: tuple[dict, ...] = ()
    scripts: tuple[
        dict, ...
    ] = ()  # per file: {"script", "how": finished | raised | deadline | killed, "error"}
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    problem: str = ""  # why the run stopped early, in a sentence, or ""

    def of_kind(self, kind: str) -> tuple[dict, ...]:
        return tuple(r for r in self.records if r["kind"] == kind)

    def to_dict(self) -> dict:
        return {
            "records": list(self.records),
            "scripts": list(self.scripts),
            "seconds": round(self.seconds, 3),
            "problem": self.problem,
        }


def _valid_value(value) -> bool:
    return value is None or _value_problem(value) is None


def checked_record(event) -> dict | None:
    """The record without its event tag, if it has the shape the child writes; else None."""
    if (
        not isinstance(event, dict)
        or event.get("event") != "observed"
        or event.get("kind") not in KINDS
    ):
        return None
    kind = event["kind"]
    record = {"kind": kind}
    for key in ("script", "function", "text", "how", "name"):
        if key in event:
            if not isinstance(event[key], str):
                return None
            record[key] = event[key][:300]
    for key in ("n", "call", "line", "pass"):
        if key in event:
            value = event[key]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
                return None
            record[key] = event[key]
    if kind == "call":
        arguments = event.get("arguments")
        if not isinstance(arguments, dict) or not all(
            isinstance(k, str) and _valid_value(v) for k, v in arguments.items()
        ):
            return None
        if not _valid_value(event.get("returned")):
            return None
        record |= {
            "arguments": dict(list(arguments.items())[:16]),
            "returned": event.get("returned"),
        }
    elif kind == "backward":
        leaves = event.get("leaves")
        if not isinstance(leaves, list) or not _valid_value(event.get("root")):
            return None
        kept = []
        for leaf in leaves[:16]:
            if not (
                isinstance(leaf, dict)
                and isinstance(leaf.get("name", ""), str)
                and _valid_value(leaf.get("value"))
                and _valid_value(leaf.get("grad"))
            ):
                return None
            kept.append(
                {
                    "name": leaf.get("name", "")[:64],
                    "value": leaf.get("value"),
                    "grad": leaf.get("grad"),
                }
            )
        record |= {"root": event.get("root"), "leaves": kept}
    elif kind == "globals":
        values = event.get("values")
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and _valid_value(v) for k, v in values.items()
        ):
            return None
        record["values"] = {k[:64]: v for k, v in list(values.items())[:200]}
    elif kind == "ended":
        error = event.get("error")
        record["error"] = (
            {k: str(error.get(k, ""))[:2000] for k in ("type", "message", "where")}
            if isinstance(error, dict)
            else None
        )
    return record


GRACE_SECONDS = 2.0  # after a file's own alarm, time to send what it recorded


def _read(child, limits: Limits, total_deadline: float, stdout: _BoundedText, stderr: _BoundedText):
    """Records until the child is done, a file overruns its time, or the budget is spent
    (grader.engine.execute.read_events, the reader of every run).  Returns (records, ending, reason)."""

    def accept(event) -> bool:
        return isinstance(event, dict) and (
            event.get("event") in ("confined", "done") or checked_record(event) is not None
        )

    def pace(event, bounds):
        starts = (
            event["event"] == "confined" or event.get("kind") == "script"
        )  # each file has its own time
        return (limits.load_seconds + GRACE_SECONDS if starts else None), bounds

    events = read_events(
        child, total_deadline, stdout, stderr, _Channel(), accept, pace, RESULT_BOUNDS
    )
    records = []
    try:
        while True:
            event = next(events)
            if event["event"] == "confined":
                if not event.get("ok"):
                    return records, "unconfined", str(event.get("message", ""))[:500]
            elif len(records) < MAX_RECORDS:
                records.append(checked_record(event))
    except StopIteration as stop:
        ending, reason = stop.value
        if ending == "corrupt" and reason is None:
            reason = "the submission's process wrote something that is not a record to the grader's channel"
        return records, ending, reason
    finally:
        events.close()


def run_freeform(
    loaded: LoadedSubmission,
    limits: Limits,
    scratch,
    launcher,
    sandbox: Sandbox,
    seconds: float | None = None,
    answers: tuple[tuple[str, str], ...] = (),
) -> FreeformRun:
    """Run every file of the submission as `__main__` in one sandboxed process; its records.
    `answers`: what input() is given, in turn ((answer, words for the report), ...)."""
    started = time.monotonic()
    total_deadline = started + (limits.submission_seconds if seconds is None else seconds)
    stdout, stderr = _BoundedText(limits.output_kib * 1024), _BoundedText(limits.output_kib * 1024)
    if not loaded.runnable:
        return FreeformRun(problem="no source files")
    workspace = open_workspace(sandbox, scratch)
    try:
        try:
            sources = write_sources(loaded, workspace.folder)
        except OSError as error:
            return FreeformRun(
                problem=f"the submission's files could not be written ({error.strerror})"
            )
        request = json.dumps(
            {
                "sources": sources,
                "calls": [],
                "freeform": {
                    "seconds": limits.load_seconds,
                    "answers": [answer for answer, _ in answers],
                },
                "sandbox": workspace.plan(limits),
            }
        ).encode()
        prepare_folder(workspace)
        child = launcher.start(workspace.folder, limits, request)
        workspace.started(child.pid)
        try:
            records, ending, reason = _read(child, limits, total_deadline, stdout, stderr)
        finally:
            kill_stragglers(child.pid, workspace.uid)
            launcher.stop(child)
    finally:
        close_workspace(workspace)
    problem = {
        "done": "",
        "timeout": f"a file was still running after its time limit ({limits.load_seconds:g} s) and was stopped",
        "exit": "the submission's process ended before its files had all run",
        "unconfined": f"the grader could not set up its sandbox, so the submission was not run ({reason})",
    }.get(ending, reason or "")
    scripts = scripts_of(records, ending != "done")
    said = [problem] if problem else []
    for record in records:  # what input() was answered, said once per prompt
        if record["kind"] == "answered" and record.get("n", len(answers)) < len(answers):
            answer, words = answers[record["n"]]
            prompt = record.get("text", "").strip()
            asked = f" at the prompt {prompt!r}" if prompt else ""
            said.append(f"input() was asked for a value{asked} and given {answer} ({words})")
    for script in scripts:  # a file cut at its limit or crashing half-way was observed up to there
        if script["how"] == "deadline":
            said.append(
                f"{script['script']} was still running after its time limit "
                f"({limits.load_seconds:g} s) and was stopped there"
            )
        elif script["how"] == "raised" and script["error"]:
            said.append(
                f"{script['script']} stopped half-way: "
                f"{script['error'].get('message', '')[:300]} ({script['error'].get('where', '')})"
            )
    return FreeformRun(
        tuple(records),
        scripts,
        stdout.text(),
        stderr.text(),
        time.monotonic() - started,
        "; ".join(said),
    )


def scripts_of(records, cut: bool) -> tuple[dict, ...]:
    """How each file ended; a file without its end record was killed."""
    scripts: dict[str, dict] = {}
    for record in records:
        if record["kind"] == "script":
            scripts[record["script"]] = {"script": record["script"], "how": "killed", "error": None}
        elif record["kind"] == "ended" and record.get("script") in scripts:
            scripts[record["script"]] = {
                "script": record["script"],
                "how": record.get("how", ""),
                "error": record.get("error"),
            }
    return tuple(scripts.values())


@dataclass(frozen=True)
class Observation:
    """One quantity of the homework found in a free-form run, and what was expected of it there.

    `check_id`: the check whose quantity it is; `setup`: the script's own inputs it was
    observed at; `precision`: "full" or the decimals printed; `status`: right | wrong |
    not-found; `diagnoses`: the catalogue's ids that reproduce a wrong value."""

    check_id: str
    quantity: str
    status: str
    observed: tuple = ()
    expected: tuple = ()
    setup: dict = field(default_factory=dict, hash=False)
    precision: str = "full"
    source: str = (
        ""  # where it was seen: "returned by back_propagate", "leaf .grad", "printed line 3"
    )
    diagnoses: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "check_id": self.check_id,
            "quantity": self.quantity,
            "status": self.status,
            "observed": list(self.observed),
            "expected": list(self.expected),
            "setup": self.setup,
            "precision": self.precision,
            "source": self.source,
            "diagnoses": list(self.diagnoses),
            "note": self.note,
        }


# ------------------------------------------------------------------ graded free-form


UNREADABLE = (
    "SyntaxError",
    "IndentationError",
    "TabError",
)  # a file that does not compile ran nothing to observe


def has_no_entry_point(execution, loaded: LoadedSubmission | None = None, entries=()) -> bool:
    """The files loaded and compiled, and none of them defines an entry point of the contract.

    Files whose loading ran out of time (a training loop at the top level, not under
    `if __name__ == "__main__":`) are read instead: when they define none of `entries`
    but do define functions or numbers of their own, they are a free-form hand-in too,
    observed up to their time limit.  A bare endless loop is not."""
    compiled = not any(
        str(p.get("type")) in UNREADABLE for p in execution.load.problems if isinstance(p, dict)
    )
    if execution.load.status == "ok":
        return compiled and not execution.load.entry_points
    return (
        execution.load.status == "timeout"
        and loaded is not None
        and _own_code_without(loaded, set(entries))
    )


def _own_code_without(loaded: LoadedSubmission, entries: set[str]) -> bool:
    """Every runnable file parses; none defines one of `entries` at the top level; some define a
    function or assign a number."""
    own = False
    for source in loaded.runnable:
        texts = source.cells if source.kind == "ipynb" else (source.text,)
        for text in texts:
            try:
                tree = ast.parse(
                    "\n".join(
                        line
                        for line in text.splitlines()
                        if not line.lstrip().startswith(("%", "!"))
                    )
                )
            except (SyntaxError, ValueError):
                return False
            names = {
                node.name
                for node in tree.body
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
            if names & entries:
                return False
            assigned = (
                node
                for stmt in tree.body
                if isinstance(stmt, ast.Assign)
                for node in ast.walk(stmt.value)
            )
            numbers = any(
                isinstance(node, ast.Constant) and type(node.value) in (int, float)
                for node in assigned
            )
            own = own or bool(names) or numbers
    return own


def freeform_checks(
    checks: tuple, observations: tuple[Observation, ...], catalog: tuple, credit: float
) -> tuple:
    """Every check graded free-form: its observations (those naming it), the catalogue's
    diagnoses of the wrong ones, and `credit` as the share of its points they may earn."""
    entries = {entry.id: entry for entry in catalog}
    graded = []
    for result in checks:
        own = tuple(o for o in observations if o.check_id == result.check.id)
        named = dict.fromkeys(d for o in own for d in o.diagnoses if d in entries)
        sources = "; ".join(dict.fromkeys(o.source for o in own if o.status != "not-found"))
        diagnoses = tuple(Diagnosis.of(entries[d]) for d in named)
        graded.append(
            replace(
                result,
                mode="free-form",
                observations=own,
                credit=credit,
                diagnoses=diagnoses,
                call=sources or "not found in what the scripts did",
                rule_findings=(),
            )
        )
    return tuple(graded)


FUNCTION = re.compile(r"returned by ([\w.<>]+) \(call")


def port_hints(checks) -> list[str]:
    """Which of the hand-in's functions look like which entry point, from where its quantities were found."""
    hints: dict[str, set[str]] = {}
    for result in checks:
        for o in result.observations:
            match = FUNCTION.search(o.source) if o.status != "not-found" else None
            if match:
                hints.setdefault(match.group(1), set()).add(result.check.entry)
    return [
        f"{function} looks like {' / '.join(sorted(entries))}"
        for function, entries in hints.items()
    ]

"""Causes: a submission's failures grouped by what caused them, ranked by the points they cost.

One mistake fails many checks: a file that does not load fails every one, a
missing or crashing entry point every check that calls it, a catalogued mistake
every check whose numbers it explains.  Each group is one `Cause`, said once,
with the checks and points it costs; the first is the first thing to fix.
Where the diagnosis' probes found which function the bug is in (a root-cause
diagnosis with its `where`), that function leads the named mistake; a root
cause is never a mistake of its own.  Everything here reads a result's own
view: the student's copy gives the student's causes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from grader.engine.freeform import port_hints
from grader.engine.score import CheckResult, SubmissionResult
from grader.outputs.views import printable, without_folders

_NUMBERS = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
TEXT_CHARS = 600


@dataclass(frozen=True)
class Cause:
    kind: str  # load | missing | error | timeout | rule | mistake | shape | values
    title: str  # one line: what is wrong, and where
    advice: str = ""  # what to do about it, for the student
    formula: str = ""  # what is right instead, where known
    where: str = ""  # the function it is in, where known
    checks: tuple[str, ...] = ()  # in the spec's order
    points: float = 0.0  # what it costs
    diagnosis: str = ""  # the catalogue's id, for a named mistake
    detail: str = ""  # what the probes found (which function the bug is in, and why)
    staff: str = ""  # the title in the course staff's words, where the student's differs

    @property
    def staff_title(self) -> str:
        """The title as the course staff read it ("did not load: ...", not "Your submission ...")."""
        return self.staff or self.title

    @property
    def summary(self) -> str:
        """The cause in one sentence, with what fixing it is worth."""
        checks = f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''}"
        return (
            f"{self.title.rstrip('.')}; fixing it should fix {checks}, "
            f"{self.points:g} point{'s' if self.points != 1 else ''}"
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "title": self.title, "advice": self.advice, "formula": self.formula, "where": self.where,
            "checks": list(self.checks), "points": self.points, "diagnosis": self.diagnosis, "detail": self.detail,
        }  # fmt: skip


def scrubbed(text: str | None, limit: int = TEXT_CHARS) -> str:
    """A message without the grader's folders (the scratch path is noise, and the same for everyone)."""
    text = without_folders(printable(text or ""))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failing(check_result: CheckResult):
    """The verdict that says why the check failed: the first case that did not pass."""
    return next((v for v in check_result.verdicts if not v.passed), None)


def _key(result: SubmissionResult, check_result: CheckResult) -> tuple:
    """What the check failed of: checks with the same key share one cause."""
    if check_result.withheld:
        return ("rule", next(f.rule for f in check_result.rule_findings if f.withholds))
    if (
        check_result.mode == "free-form"
    ):  # a named mistake is its own cause; the rest is the template not followed
        named = tuple(d.id for d in check_result.diagnoses)
        return ("mistake", named) if named else ("free-form",)
    verdict = _failing(check_result)
    entry = check_result.check.entry
    if verdict is None:
        return ("error", entry, "none", "")
    error = verdict.error or {}
    if result.load.status != "ok" or (
        verdict.status == "error"
        and result.load.problems
        and error.get("type") in ("Missing", None)
    ):
        return ("load",)
    if verdict.status == "error" and error.get("type") == "Missing":
        return ("missing",)
    if verdict.status == "timeout":
        return ("timeout", entry)
    if verdict.status == "error":
        return ("error", entry, str(error.get("type") or ""), scrubbed(error.get("where"), 200))
    named = tuple(
        d.id
        for d in check_result.diagnoses
        if getattr(d, "kind", "misconception") == "misconception"
    )
    if named:
        return ("mistake", named)
    if verdict.observed is None and not verdict.hidden:
        return ("shape", entry, _NUMBERS.sub("…", scrubbed(verdict.message, 300)))
    return ("values", entry)


def _root(members: list[CheckResult]):
    """The probes' finding on these checks: the root-cause diagnosis naming a function, if any."""
    found = [
        d
        for c in members
        for d in c.diagnoses
        if getattr(d, "kind", "") == "root-cause" and getattr(d, "where", "")
    ]
    return found[0] if found else None


def _cause(key: tuple, members: list[CheckResult], result: SubmissionResult) -> Cause:
    checks = tuple(c.check.id for c in members)
    points = sum(c.check.points - c.score for c in members)
    first = members[0]
    entry = first.check.entry
    verdict = _failing(first)
    error = (verdict.error if verdict else None) or {}
    kind = key[0]
    if kind == "load":
        problems = result.load.problems
        if problems:
            problem = problems[0]
            where = scrubbed(str(problem.get("file") or ""), 200)
            cell = f", cell {problem['cell']}" if problem.get("cell") is not None else ""
            message = scrubbed(problem.get("message"), 2000)
            line = re.search(r"\bline (\d+)", message)
            kind_of = scrubbed(problem.get("type"), 100)
            headline = next(
                (text.strip() for text in reversed(message.splitlines()) if text.strip()), ""
            ).removeprefix(f"{kind_of}: ")
            said = (
                f"{kind_of} in {where}{cell}{f', line {line.group(1)}' if line else ''}: {headline}"
            )
            title, staff, detail = (
                f"Your submission did not load: {said}",
                f"did not load: {said}",
                message,
            )
        elif result.load.status == "unstarted":
            said = scrubbed(result.load.message, 300)
            title = f"The grader could not start your submission: {said}"
            advice = (
                "None of your code had run yet, so this is not a fault in it: grade it again, and if the same happens, "
                "tell your instructor (the grader's installation or the machine needs looking at)."
            )
            staff = f"not started by the grader: {said}"
            return Cause("load", title, advice, checks=checks, points=points, staff=staff)
        else:
            said = f"({result.load.status}): {scrubbed(result.load.message, 300)}"
            title, staff = f"Your submission could not be run {said}", f"could not be run {said}"
            detail = ""
        advice = (
            "Fix this first: until the file loads, none of its functions can be called. "
            "Run it yourself (python your_file.py) to see the same error."
        )
        return Cause(
            "load", title, advice, checks=checks, points=points, detail=detail, staff=staff
        )
    if kind == "free-form":
        seen = [o for c in result.checks for o in c.observations if o.check_id]
        counts = {s: sum(o.status == s for o in seen) for s in ("right", "wrong", "not-found")}
        entries = ", ".join(dict.fromkeys(c.check.entry for c in result.checks))
        title = (
            f"Your hand-in does not follow the template (it defines none of {entries}), "
            "so it was graded free-form, from what its scripts did"
        )
        staff = f"free-form: defines none of {entries}"
        advice = (
            f"Checked on the scripts' own setup: {counts['right']} quantities right, "
            f"{counts['wrong']} wrong, {counts['not-found']} not found. "
            "Not checked: the hidden cases, and the variants the scripts did not run. "
            "Keep the template's function names and arguments to be graded in full"
        )
        hints = port_hints(result.checks)
        advice += (": " + "; ".join(hints) + ".") if hints else "."
        return Cause(
            "free-form", title, scrubbed(advice, 2000), checks=checks, points=points, staff=staff
        )
    if kind == "missing":
        missing = list(dict.fromkeys(c.check.entry for c in members))
        defined = [
            str(d.get("signature"))
            for d in result.load.defined
            if isinstance(d, dict) and d.get("signature")
        ]
        names = ", ".join(missing)
        title = f"{names} {'is' if len(missing) == 1 else 'are'} not defined"
        advice = "Keep the template's function names and arguments: the grader calls them by name."
        if defined:
            advice += (
                f" Your submission defines {', '.join(scrubbed(s, 120) for s in defined[:6])}"
                f"{' and more' if len(defined) > 6 else ''}."
            )
        return Cause("missing", title, advice, where=names, checks=checks, points=points)
    if kind == "rule":
        finding = next(f for c in members for f in c.rule_findings if f.withholds)
        advice = (
            "Your numbers are right; compute them the way the part asks and the points come back."
        )
        return Cause(
            "rule",
            f"Rule {finding.rule}: {scrubbed(finding.message, 300)}",
            advice,
            where=entry,
            checks=checks,
            points=points,
            staff=f"rule {finding.rule} broken (points withheld)",
        )
    if kind == "timeout":
        advice = (
            scrubbed(error.get("message"), 300)
            + ". Look for a loop that never ends, or one far longer than the task needs."
        )
        return Cause(
            "timeout",
            f"{entry} did not return in time",
            advice,
            where=entry,
            checks=checks,
            points=points,
        )
    if kind == "error":
        headline = scrubbed(error.get("message"), 300)
        kind_of = scrubbed(error.get("type"), 100)
        where = scrubbed(error.get("where"), 200)
        if not kind_of and not headline:  # the student's copy of a hidden case keeps no error
            hidden = verdict is not None and verdict.hidden
            title = f"{entry} raises an error" + (" on the hidden cases" if hidden else "")
        elif not headline.startswith(kind_of):
            title = f"{entry} raises {kind_of}: {headline}"
        else:
            title = f"{entry} raises {headline}"
        return Cause(
            "error",
            title,
            f"Raised at {where}." if where else "",
            where=entry,
            checks=checks,
            points=points,
        )
    root = _root(members)
    if kind == "mistake":
        named = next(d for c in members for d in c.diagnoses if d.id == key[1][0])
        where = root.where if root else entry
        title = f"{where}: {named.title}" + (
            f" (or: {', '.join(key[1][1:])})" if len(key[1]) > 1 else ""
        )
        return Cause(
            "mistake",
            title,
            scrubbed(named.explanation, 2000),
            scrubbed(named.formula, 500),
            where,
            checks,
            points,
            named.id,
            scrubbed(root.explanation, 2000) if root else "",
        )
    if kind == "shape":
        advice = "Return what the contract says, in that shape; the values cannot be compared until then."
        return Cause(
            "shape",
            f"{entry}: {scrubbed(verdict.message, 300)}",
            advice,
            where=entry,
            checks=checks,
            points=points,
        )
    if root is not None:
        return Cause(
            "values",
            f"{root.where}: {root.title}",
            scrubbed(root.explanation, 2000),
            scrubbed(root.formula, 500),
            root.where,
            checks,
            points,
            detail="",
        )
    quantities = ", ".join(
        dict.fromkeys(
            c.check.measure.words if c.check.measure else c.check.quantity
            for c in members
            if c.check.entry == entry
        )
    )
    note = next((c.diagnosis_note for c in members if c.diagnosis_note), "")
    return Cause(
        "values",
        f"{entry} returns wrong values for {quantities}",
        scrubbed(note, 1000),
        where=entry,
        checks=checks,
        points=points,
    )


def _follows(check_result: CheckResult):
    """The diagnosis saying this check's failure is another function's bug, if any."""
    return next(
        (d for d in check_result.diagnoses if getattr(d, "kind", "") == "consequence" and d.where),
        None,
    )


_FIRST = ("load", "missing", "free-form")  # nothing else can be fixed before these


def causes_of(result: SubmissionResult) -> tuple[Cause, ...]:
    """Every cause of the failing (or withheld) checks, in the order the code runs: the entry
    points in the order the spec first checks them (the forward pass before the backward pass
    before training), the costliest first within one.  A check whose failure follows from another
    function's bug (a consequence the probes found) is that function's cause, said once."""
    failing = [
        c for c in result.checks if not (c.passed and not c.withheld and c.score >= c.check.points)
    ]
    keys = {id(c): _key(result, c) for c in failing}
    for check_result in failing:
        follows = _follows(check_result)
        if follows is None or keys[id(check_result)][0] == "rule":
            continue
        source = next(
            (
                c
                for c in failing
                if c.check.entry == follows.where
                and _follows(c) is None
                and keys[id(c)][0] not in ("rule", "load", "missing")
            ),
            None,
        )
        if source is not None:
            keys[id(check_result)] = keys[id(source)]
    groups: dict[tuple, list[CheckResult]] = {}
    for check_result in failing:
        groups.setdefault(keys[id(check_result)], []).append(check_result)
    causes = []
    for key, members in groups.items():
        # the function with the bug leads: its own checks first, then those that follow from it
        members.sort(key=lambda c: _follows(c) is not None)
        cause = _cause(key, members, result)
        joined = [c for c in members if _follows(c) is not None and c.check.entry != cause.where]
        if joined:
            said = scrubbed(_follows(joined[0]).explanation, 1000)
            cause = replace(cause, detail=" ".join(filter(None, (cause.detail, said))))
        causes.append(cause)
    entries = list(dict.fromkeys(c.check.entry for c in result.checks))
    order = {id(c): i for i, c in enumerate(causes)}

    def rank(cause: Cause) -> tuple:
        if cause.kind in _FIRST:
            return (0, 0, -cause.points, order[id(cause)])
        where = cause.where if cause.where in entries else ""
        position = entries.index(where) if where else len(entries)
        return (1, position, -cause.points, order[id(cause)])

    return tuple(sorted(causes, key=rank))


def cause_of_check(causes: tuple[Cause, ...]) -> dict[str, int]:
    """Check id -> the number (from 1) of the cause it belongs to."""
    return {check: number for number, cause in enumerate(causes, start=1) for check in cause.checks}

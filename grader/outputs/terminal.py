"""Terminal: the renderers of results for a console (rich), siblings of the pages and JSON.

Two readers.  The course staff's `grade` prints one line per student at any width (the first
thing to fix cut to fit; the pages have all of it) and a closing line as pytest prints one.
The student's `check` reads like pytest's summary: each cause once, its paragraph whole and
wrapped under its indent, then a closing line with the score.  `student_summary` is that
summary as plain data, drawn from the student's copy of a result (a hidden case keeps only its
verdict and a fixed reason), so the notebook's self-check shows the same thing inline.

Text from a submission reaches the terminal as `rich.text.Text` of `printable` text: never
read as console markup or emoji codes, never an escape sequence.
"""

from __future__ import annotations

import re
import statistics

from rich.console import Console, Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from grader.engine.compare import element_names
from grader.engine.rules import RULE_EFFECTS, RULE_STATUS_WORDS
from grader.engine.score import CheckResult, SubmissionResult
from grader.outputs import html
from grader.outputs.causes import cause_of_check, causes_of, scrubbed
from grader.outputs.report import rule_sentence, written_cells
from grader.outputs.views import printable, student_view

UNRUN = (
    "load",
    "missing",
)  # causes whose checks never ran: one row in the staff log's table, a line on the page
PARTS_WIDTH = 100  # narrower than this, the grade table leaves out the points per part
ADVICE_CHARS = 480  # of a cause's paragraph in the terminal: whole sentences up to this many
LATER_CAUSES = 4  # causes after the first listed by the self-check; the page has every one
CHECK_IDS = 6  # of a cause's checks named by the self-check
VALUES = 8  # elements of a failing case kept with their values (the notebook shows them)
TERMINAL_VALUES = 2  # of them, shown in the terminal
INDENT = 3


def plain(text) -> Text:
    """Text from a submission for a rich console: shown as it is, without its control characters."""
    return Text(printable(text))


def _points(value) -> str:
    return html.format_number(value, "g")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _closing(texts: str | list[str], style: str, width: int):
    """pytest's last line: the first of `texts` (the fullest first) that fits centred in a rule of
    "=", or the shortest alone, wrapped, where none does."""
    texts = [texts] if isinstance(texts, str) else texts
    for text in texts:
        if len(text) + 4 <= width:
            return Rule(Text(text, style=style), characters="=", style=style)
    return Text(texts[-1], style=style)


# ------------------------------------------------------------------ the course staff's `grade`


def _flagged(result: SubmissionResult) -> list[str]:
    return [r["rule"] for r in result.rule_summary if r["outcome"] != "withhold"]


def _not_loaded(result: SubmissionResult) -> bool:
    return any(cause.kind == "load" for cause in causes_of(result))


def _timed_out(result: SubmissionResult) -> bool:
    return result.load.status == "timeout" or any(c.status == "timeout" for c in result.checks)


def staff_words(result: SubmissionResult) -> str:
    """The first thing a submission has to fix, in the staff's words, and the rules it is flagged by."""
    causes = causes_of(result)
    shown = causes[0].staff_title.rstrip(".") if causes else ""
    if len(causes) > 1:
        shown += f" (+{len(causes) - 1} more)"
    flagged = [f"rule {rule} (flagged)" for rule in _flagged(result)]
    return "; ".join(filter(None, (shown, *flagged)))


def ranked(results: list[SubmissionResult]) -> list[SubmissionResult]:
    """Highest score first, so the lowest end the table next to its closing line, where a terminal
    leaves them in view (pytest, too, puts the failures last); ties by id."""
    return sorted(results, key=lambda r: (-r.score, r.submission.id))


def summary_table(
    results: list[SubmissionResult], totals: dict | None = None, width: int | None = None
) -> Table:
    """One line per submission, highest score first: its autograded points (per part where `width`
    allows), with `totals` (student -> gradebook Total) the written marks and the total ("—" until
    marked), and the first thing to fix, cut to fit the line."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    parts = tuple(dict.fromkeys(part for result in results for part in result.parts))
    if width is not None and width < PARTS_WIDTH:
        parts = ()
    # written marks and totals once someone's answers are marked (the closing lines say how many are not)
    marked_any = any(t.questions and t.written is not None for t in (totals or {}).values())
    marks = ("written", "total") if marked_any else ()
    cut = {"no_wrap": True, "overflow": "ellipsis"}  # one line each, whatever the width
    table.add_column(Text("submission", **cut))
    for column in ("autograded", *parts, *marks):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column(Text("first thing to fix", **cut))
    for result in ranked(results):
        per_part = ["/".join(_points(value) for value in result.part_score(part)) for part in parts]
        marked = []
        if marks:
            written, _, overall = written_cells(totals.get(result.submission.id))
            marked = ["—" if "marked" in cell else cell for cell in (written, overall)]
        full = result.score >= result.max_score and not staff_words(result)
        table.add_row(
            Text(printable(result.submission.id), **cut),
            Text(
                f"{_points(result.score)}/{_points(result.max_score)}",
                style="green" if full else "",
            ),
            *per_part,
            *marked,
            Text(printable(staff_words(result) or "—"), **cut),
        )
    return table


def class_summary(
    results: list[SubmissionResult], seconds: float, width: int, totals: dict | None = None
):
    """The closing line, as pytest prints one: how many were graded, got full marks, did not load,
    timed out or were flagged, the mean score, and how long it took; before it, how many
    students' written answers are not all marked."""
    full = sum(r.score >= r.max_score for r in results)
    counts = [
        (full, "full marks"),
        (sum(_not_loaded(r) for r in results), "not loaded"),
        (sum(_timed_out(r) and not _not_loaded(r) for r in results), "timed out"),
        (sum(bool(_flagged(r)) for r in results), "flagged"),
    ]
    said = "".join(f", {count} {words}" for count, words in counts if count)
    top = max((r.max_score for r in results), default=0)
    mean = statistics.fmean(r.score for r in results) if results else 0.0
    text = f"{len(results)} graded{said}, mean {mean:.1f}/{_points(top)}"
    style = "red" if counts[1][0] else "green" if full == len(results) else "yellow"
    closing = _closing([f"{text} in {seconds:.0f} s", text], f"bold {style}", width)
    unmarked = sum(1 for t in (totals or {}).values() if t.questions and not t.fully_marked)
    if unmarked:  # said before the closing line, which stays last
        words = f"{_plural(unmarked, 'student')} (python -m grader mark)"
        return Group(Text(f"Written answers not all marked yet: {words}."), closing)
    return closing


def progress_line(done: int, total: int, result: SubmissionResult) -> Text:
    """One short line per hand-in graded, for a log or a pipe (a terminal gets a progress bar)."""
    words = staff_words(result)
    line = Text(f"[{done:>{len(str(total))}}/{total}] ", no_wrap=True, overflow="ellipsis")
    line.append(printable(result.submission.id))
    line.append(f" {_points(result.score)}/{_points(result.max_score)}")
    if words:
        line.append(f" {printable(words)}", style="dim")
    return line


# ------------------------------------------------------------------ the student's `check`


def _number(value) -> str:
    return html.format_number(value)


def _example(check_result: CheckResult) -> dict | None:
    """The first case a check failed on, as its student may see it: the values that are off where
    the case is public; where it is hidden, only its verdict and its fixed reason."""
    verdict = next((v for v in check_result.verdicts if not v.passed), None)
    if verdict is None:
        return None
    example = {
        "case": "a hidden case" if verdict.hidden else f"the {verdict.case_id} case",
        "hidden": verdict.hidden,
        "status": verdict.status,
        "message": scrubbed(verdict.message, 300),
        "values": [],
        "off": 0,
    }
    if verdict.hidden or verdict.observed is None:  # nothing of a hidden case but its verdict
        return example
    shape = tuple(verdict.shape) or (len(verdict.expected),)
    names = element_names(check_result.check, shape)
    off = set(verdict.off)
    rows = [
        {"name": name, "got": _number(got), "expected": _number(want)}
        for name, got, want in zip(names, verdict.observed, verdict.expected)
        if name in off
    ]
    example["values"], example["off"] = rows[:VALUES], len(rows)
    return example


def _sentences(text: str, limit: int = ADVICE_CHARS) -> tuple[str, bool]:
    """`text`, or as many of its first whole sentences as fit in `limit` characters, and whether
    any were left out: never a sentence cut in the middle."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if kept and len(kept) + 1 + len(sentence) > limit:
            return kept, True
        kept = f"{kept} {sentence}".strip()
    return kept, False


def _written(result: SubmissionResult) -> str:
    """What the self-check says of the written answers: nothing where the spec asks none."""
    questions = result.questions
    if not questions:
        return ""
    found = [q for q in questions if (result.answers.get(q.id) or "").strip()]
    points = sum(q.points for q in questions)
    where = (
        f'under headings like "## {questions[0].id}" in your notebook, '
        "or in an answers.md in a folder with your code"
    )
    if not found:
        return (
            f"No written answers found: {_points(points)} points depend on them (put them {where})."
        )
    if len(found) < len(questions):
        missing = [q for q in questions if q not in found]
        lost = sum(q.points for q in missing)
        return (
            f"Written answers: {len(found)} of {len(questions)} found; not found: "
            f"{', '.join(q.id for q in missing)} ({_points(lost)} points; put them {where})."
        )
    return f"Written answers: all {len(questions)} found ({_points(points)} points), marked by hand after you hand in."


def _rule_words(rule: dict) -> str:
    """A rule that flags (points stay), in one sentence; where and the evidence are on the page."""
    status = RULE_STATUS_WORDS[rule["status"]]
    return f"rule {rule['rule']} {status} ({RULE_EFFECTS[rule['outcome']]}): {rule['message']}"


def student_summary(result: SubmissionResult, isolation: str = "") -> dict:
    """The self-check's summary as plain data, drawn from the student's copy of `result`: the
    score, each cause once (the first thing to fix first) with its paragraph, its formula and
    the values of its first failing case, the failing checks, the passed ones, and what to know
    about the written answers and the hidden cases.  The terminal and the notebook draw it."""
    result = student_view(result)
    causes = causes_of(result)
    numbers = cause_of_check(causes)
    failing = [c for c in result.checks if not c.passed or c.withheld]
    by_id = {c.check.id: c for c in result.checks}
    said_causes = []
    for number, cause in enumerate(causes, start=1):
        examples = [_example(by_id[check]) for check in cause.checks if check in by_id]
        examples = [e for e in examples if e]
        shown = next((e for e in examples if e["values"]), examples[0] if examples else None)
        if shown is not None:
            shown = {"check": next(c for c in cause.checks if _example(by_id[c]) == shown), **shown}
        said_causes.append(
            {
                "number": number,
                "kind": cause.kind,
                "title": cause.title,
                "summary": " ".join(cause.summary.split()),
                "advice": cause.advice,
                "formula": cause.formula,
                "points": cause.points,
                "checks": list(cause.checks),
                "example": shown,
            }
        )
    hidden = any(c.check.hidden_cases for c in result.checks) and not result.ran_hidden
    return {
        "submission": printable(result.submission.id),
        "file": printable(result.submission.path.name),
        "score": result.score,
        "max_score": result.max_score,
        "checks": len(result.checks),
        "passed": len(result.checks) - len(failing),
        "causes": said_causes,
        "failing": [
            {
                "check": c.check.id,
                "description": c.check.message,
                "score": c.score,
                "points": c.check.points,
                "status": "withheld" if c.withheld else c.status,
                "cause": numbers.get(c.check.id),
                "example": _example(c),
            }
            for c in failing
        ],
        "passed_checks": [
            {"check": c.check.id, "description": c.check.message, "points": c.check.points}
            for c in result.checks
            if c not in failing
        ],
        "problems": [scrubbed(problem, 600) for problem in result.problems],
        "rules": [_rule_words(r) for r in result.rule_summary if r["outcome"] != "withhold"],
        "written": _written(result),
        "hidden": "When you hand in, hidden cases with other inputs are checked too."
        if hidden
        else "",
        "reused": "Unchanged since an earlier check: its answers reused (--no-cache runs it again)."
        if result.reused_run
        else "",
        "isolation": printable(isolation),
    }


def _indented(console: Console, text: str | Text, style: str = "") -> Text:
    """A paragraph wrapped under its indent: every line of it starts at the same column."""
    body = text if isinstance(text, Text) else Text(printable(text), style=style)
    lines = body.wrap(console, max(20, console.width - INDENT))
    for line in lines:
        line.rstrip()
    return Text("\n").join(Text(" " * INDENT) + line for line in lines)


def _hanging(console: Console, text: Text) -> Text:
    """A paragraph whose first line starts at the margin and whose next lines wrap under the indent."""
    lines = text.wrap(console, console.width)
    for line in lines:
        line.rstrip()
    if len(lines) <= 1:
        return text
    return Text("\n").join([lines[0], _indented(console, Text(" ").join(lines[1:]))])


def _values_line(example: dict, check: str) -> Text:
    line = Text(f"{check}, on {example['case']}: ")
    if example["values"]:
        line.append(
            "; ".join(
                f"{row['name']} is {row['got']}, expected {row['expected']}"
                for row in example["values"][:TERMINAL_VALUES]
            )
        )
        more = example["off"] - min(len(example["values"]), TERMINAL_VALUES)
        line.append(f" (and {more} more off)." if more > 0 else ".")
    else:
        line.append(printable(example["message"]).rstrip(".") + ".")
    return line


def _checks_line(checks: list[str]) -> Text:
    named = ", ".join(checks[:CHECK_IDS])
    more = f" and {len(checks) - CHECK_IDS} more" if len(checks) > CHECK_IDS else ""
    return Text(f"{'Checks' if len(checks) > 1 else 'Check'}: {named}{more}.", style="dim")


def print_check(console: Console, summary: dict, report: str = "") -> None:
    """The self-check in a terminal, as pytest ends a run: each cause once (the first in full:
    its paragraph, what is right and the values of its first failing case; the next ones by
    their title and checks), what to know, then the closing line with the score."""
    causes = summary["causes"]
    say = lambda renderable: console.print(renderable, highlight=False)  # noqa: E731
    for number, cause in enumerate(causes[: 1 + LATER_CAUSES], start=1):
        if number > 1:
            say("")
        lead = Text.assemble(
            (
                "First thing to fix: " if number == 1 else f"{number}. ",
                "bold red" if number == 1 else "bold",
            ),
            Text(printable(cause["summary"] + "."), style="bold"),
        )
        say(_hanging(console, lead))
        if number == 1:
            advice, cut = _sentences(cause["advice"])
            if advice:
                say(_indented(console, advice + (" (More on your report page.)" if cut else "")))
            if cause["formula"]:
                say(_indented(console, Text.assemble(("Right: ", "bold"), plain(cause["formula"]))))
            if cause["example"] and cause["example"]["values"]:
                say(_indented(console, _values_line(cause["example"], cause["example"]["check"])))
        if cause["kind"] not in UNRUN:
            say(_indented(console, _checks_line(cause["checks"])))
        elif number == 1:
            say(
                _indented(
                    console,
                    Text(
                        f"None of its {_plural(len(cause['checks']), 'check')} could run.",
                        style="dim",
                    ),
                )
            )
    if len(causes) > 1 + LATER_CAUSES:
        say(
            _indented(
                console,
                f"… and {_plural(len(causes) - 1 - LATER_CAUSES, 'more cause')} on your report page.",
            )
        )
    notes = [
        *(("Problem: ", p) for p in summary["problems"]),
        *(("Flagged: ", r) for r in summary["rules"]),
        *(("", summary[key]) for key in ("written", "hidden", "reused") if summary[key]),
    ]
    if causes and notes:
        say("")
    for label, text in notes:
        say(Text.assemble((label, "yellow"), plain(text)))
    if report:
        say(Text.assemble("Your report: ", plain(report)))
    score = f"{_points(summary['score'])} / {_points(summary['max_score'])} points"
    failed = summary["checks"] - summary["passed"]
    if failed:
        text = f"{summary['file']}: {failed} failed, {summary['passed']} passed; {score}"
        style = "bold red"
    else:
        text = f"{summary['file']}: all {summary['checks']} checks passed, {score}. Well done!"
        style = "bold green"
    say(_closing(printable(text), style, console.width))


def check_table(result: SubmissionResult, every_check: bool = False) -> Table:
    """The checks that failed, each with its points, the case it failed on and the number of its
    cause (print_causes says each cause once); `every_check` lists the passed ones too (the
    Gradescope staff log).  The self-check shows the student's copy."""
    causes = causes_of(result)
    numbers = cause_of_check(causes)
    unrun = {
        number for number, cause in enumerate(causes, start=1) if cause.kind in UNRUN
    }  # one row each, not one per check
    shown = [
        c
        for c in result.checks
        if (every_check or not c.passed or c.withheld) and numbers.get(c.check.id) not in unrun
    ]
    passed = sum(1 for c in result.checks if c.passed and not c.withheld)
    caption = f"{passed} of {len(result.checks)} checks passed" + (
        "" if every_check or not passed else " (not listed)"
    )
    table = Table(
        title=plain(
            f"{result.submission.id}: {_points(result.score)} / {_points(result.max_score)} points"
        ),
        caption=caption,
        show_lines=False,
    )
    for column in ("check", "points", "status", "max error", "cause"):
        table.add_column(column)
    for check_result in shown:
        errors = [v.max_abs_error for v in check_result.verdicts if v.max_abs_error is not None]
        status = (
            "withheld" if check_result.withheld else check_result.status
        )  # right numbers, a rule broken: no points
        style = {"passed": "green", "failed": "red", "withheld": "red"}.get(status, "yellow")
        number = numbers.get(check_result.check.id)
        table.add_row(
            check_result.check.id,
            f"{_points(check_result.score)}/{_points(check_result.check.points)}",
            f"[{style}]{status}[/{style}]",
            html.error_size(max(errors)) if errors else "—",
            str(number) if number else "",
        )
    for number in sorted(unrun):
        cause = causes[number - 1]
        possible = sum(c.check.points for c in result.checks if c.check.id in cause.checks)
        table.add_row(
            f"{len(cause.checks)} checks",
            f"0/{_points(possible)}",
            "[yellow]not run[/yellow]",
            "—",
            str(number),
        )
    return table


def print_problems(console: Console, result: SubmissionResult, causes_said: bool = False) -> None:
    """The submission's problems and its rules; with `causes_said`, not what print_causes says."""
    for problem in result.problems:
        console.print(Text.assemble(("problem:", "yellow"), " ", plain(problem)), highlight=False)
    if causes_said:
        for rule in result.rule_summary:
            if rule["outcome"] != "withhold":
                console.print(
                    Text.assemble(("rule:", "yellow"), " ", plain(rule_sentence(rule))),
                    highlight=False,
                )
        return
    for problem in result.load.problems:
        where = problem.get("where") or problem.get("file")
        cell = f" cell {problem['cell']}" if problem.get("cell") else ""
        console.print(
            Text.assemble(
                ("while loading", "yellow"),
                " ",
                plain(f"{problem.get('file')}{cell}: {problem.get('message')} ({where})"),
            ),
            highlight=False,
        )
    if result.load.status != "ok":
        console.print(
            Text.assemble(("not run:", "red"), " ", plain(result.load.message)), highlight=False
        )
    for rule in result.rule_summary:
        console.print(
            Text.assemble(("rule:", "red"), " ", plain(rule_sentence(rule))), highlight=False
        )

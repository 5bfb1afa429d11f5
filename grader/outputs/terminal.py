"""Terminal: the renderers of results for a console (rich), siblings of the pages and JSON.

Text from a submission reaches the terminal as `rich.text.Text` of `printable` text: never
read as console markup or emoji codes, never an escape sequence.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.engine.score import SubmissionResult
from grader.outputs import html
from grader.outputs.causes import cause_of_check, causes_of
from grader.outputs.report import rule_sentence, written_cells
from grader.outputs.views import printable

UNRUN = (
    "load",
    "missing",
)  # causes whose checks never ran: one row in the terminal, a line on the page
ADVICE_CHARS = 240  # of a cause's advice in the terminal; the page has it all


def plain(text) -> Text:
    """Text from a submission for a rich console: shown as it is, without its control characters."""
    return Text(printable(text))


def _points(value) -> str:
    return html.format_number(value, "g")


def summary_table(results: list[SubmissionResult], totals: dict | None = None) -> Table:
    """One row per submission: its totals and the first thing it has to fix (how many causes in all);
    with `totals` (student -> gradebook Total), the written marks and the total too."""
    table = Table(title="Grades")
    parts = tuple(dict.fromkeys(part for result in results for part in result.parts))
    asked = any(total.questions for total in (totals or {}).values())  # any written question
    marks = (("written", "total") if asked else ("total",)) if totals is not None else ()
    for column in ("submission", "autograded", *parts, *marks, "first thing to fix"):
        table.add_column(
            column, justify="right" if column in ("autograded", *parts, *marks) else "left"
        )
    for result in results:
        causes = causes_of(result)
        flagged = [
            f"rule {r['rule']} (flagged)" for r in result.rule_summary if r["outcome"] != "withhold"
        ]
        shown = causes[0].summary if causes else ""
        if len(causes) > 1:
            shown += f" (+{len(causes) - 1} more cause{'s' if len(causes) > 2 else ''})"
        shown = "; ".join(filter(None, (shown, *flagged)))
        per_part = ["/".join(_points(value) for value in result.part_score(part)) for part in parts]
        marked = []
        if totals is not None:
            written, _, overall = written_cells(totals.get(result.submission.id))
            marked = [written, overall] if asked else [overall]
        table.add_row(
            plain(result.submission.id),
            f"{_points(result.score)}/{_points(result.max_score)}",
            *per_part,
            *marked,
            plain(shown or "—"),
        )
    return table


def print_causes(console: Console, result: SubmissionResult) -> None:
    """What to fix, each cause once, the costliest first: the self-check's and the staff log's lead."""
    causes = causes_of(result)
    if not causes:
        console.print(Text.assemble(("Every autograded check passed.", "green")), highlight=False)
        return
    console.print(
        Text.assemble(("First thing to fix: ", "bold red"), plain(causes[0].summary + ".")),
        highlight=False,
    )
    for number, cause in enumerate(causes, start=1):
        lead = f"{number}. {cause.title.rstrip('.')} ({len(cause.checks)} check{'s' if len(cause.checks) != 1 else ''}, {_points(cause.points)} points)."
        console.print(
            Text.assemble(("\n" if number == 1 else "", ""), (lead, "bold")), highlight=False
        )
        advice = (
            cause.advice
            if len(cause.advice) <= ADVICE_CHARS
            else cause.advice[: ADVICE_CHARS - 1].rsplit(" ", 1)[0] + " …"
        )
        for text in (advice, cause.formula and f"Right: {cause.formula}"):
            if text:
                console.print(plain(f"   {text}"), highlight=False)


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

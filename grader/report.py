"""Report: sibling renderers of the same results — results.json, grades.csv, the terminal.

Every file here is written by the grader, from `SubmissionResult` data, after
the submission's process is gone.  results.json is a student view: it is drawn
from `grader.views.student_view`'s copy, whatever it is given.  Text from a
submission reaches the terminal as `rich.text.Text` of `printable` text: never
read as console markup or emoji codes, never an escape sequence.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import html
from grader.score import CheckResult, SubmissionResult
from grader.views import printable, printable_data, student_view

OUTPUT_FORMATS = ("text", "html")  # of the formats Gradescope renders, the ones written here
GRADESCOPE_STATUS = {"passed": "passed"}  # failed, error and timeout are all "failed" there


def plain(text) -> Text:
    """Text from a submission for a rich console: shown as it is, without its control characters."""
    return Text(printable(text))


def _test_output(result: CheckResult, output_format: str = "text") -> str:
    """One check's feedback in results.json, from the student's copy of the check."""
    if output_format == "html":
        return html.check_fragment(result)  # the report page's feedback, escaped
    lines = [f"{result.call}", f"{result.check.message}", ""]
    for verdict in result.verdicts:
        label = "hidden case" if verdict.hidden else f"{verdict.case_id} case"
        lines.append(f"- {label}: {verdict.status} — {printable(verdict.message)}")
        for note in verdict.notes:
            lines.append(f"  note: {printable(note)}")
    for diagnosis in result.diagnoses:
        lines.append(f"\nLikely mistake — {diagnosis.title}: {diagnosis.explanation}")
    if result.diagnosis_note:
        lines.append(f"\n{result.diagnosis_note}")
    return "\n".join(lines)


def gradescope_results(result: SubmissionResult, hidden_visibility: str, output_format: str = "text") -> dict:
    """The Gradescope autograder `results.json` for one submission (format: grader/gradescope_schema.json),
    what the student sees: drawn from the student's copy of `result`."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}")
    result = student_view(result)
    tests = []
    for number, check_result in enumerate(result.checks, start=1):
        check = check_result.check
        tests.append(
            {
                "name": f"{check.id}: {check.message}",
                "number": f"{check.experiment}.{number}",
                "score": check_result.score,
                "max_score": check.points,
                "status": GRADESCOPE_STATUS.get(check_result.status, "failed"),
                "output": _test_output(check_result, output_format),
                "output_format": output_format,
                "visibility": "visible" if check.visibility == "visible" else hidden_visibility,
                "extra_data": {
                    "check": check.id,
                    "part": check.part,
                    "experiment": check.experiment,
                    "status": check_result.status,
                    "diagnoses": [d.id for d in check_result.diagnoses],
                },
            }
        )
    summary = [f"Score {result.score:g} / {result.max_score:g} (written answers: {result.manual_points:g} more points, graded by hand)."]
    if result.load.status != "ok":
        summary.append(f"The submission could not be run: {result.load.message}")
    for problem in result.problems:
        summary.append(f"Problem: {problem}")
    results = {
        "score": result.score,
        "output": html.paragraphs(summary) if output_format == "html" else printable("\n".join(summary)),
        "output_format": output_format,
        "visibility": "visible",
        "execution_time": round(result.seconds, 3),
        "tests": tests,
        # the total is not a documented top-level field: it travels in extra_data
        "extra_data": {"max_score": result.max_score, "manual_points": result.manual_points},
    }
    if result.ran_hidden:
        del results["execution_time"]  # the student's copy has none: timing on hidden cases can spell their inputs
    return results


def write_submission_outputs(result: SubmissionResult, folder: Path, hidden_visibility: str) -> None:
    """results.json, the student's view in Gradescope's format, and grading.json, everything `result` holds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(gradescope_results(result, hidden_visibility, output_format="html"), indent=2, allow_nan=False), encoding="utf-8"
    )
    (folder / "grading.json").write_text(json.dumps(printable_data(result.to_dict()), indent=2, default=str), encoding="utf-8")


def spreadsheet_text(text: str) -> str:
    """A cell a spreadsheet shows as text: an id like `=HYPERLINK(...)` is not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_grades_csv(results: list[SubmissionResult], path: Path) -> None:
    """One row per submission; UTF-8 with a byte-order mark so spreadsheets read accents and commas right."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "score", "max_score", "numpy", "numpy_max", "torch", "torch_max", "written_max", "status"])
        for result in results:
            numpy, numpy_max = result.part_score("numpy")
            torch, torch_max = result.part_score("torch")
            status = "graded" if result.load.status == "ok" else f"not run: {result.load.status}"
            writer.writerow([spreadsheet_text(printable(result.submission.id)), f"{result.score:g}", f"{result.max_score:g}", f"{numpy:g}", f"{numpy_max:g}", f"{torch:g}", f"{torch_max:g}", f"{result.manual_points:g}", status])


def summary_table(results: list[SubmissionResult]) -> Table:
    table = Table(title="Grades")
    for column in ("submission", "total", "numpy", "torch", "failing checks"):
        table.add_column(column, justify="right" if column in ("total", "numpy", "torch") else "left")
    for result in results:
        failing = [c.check.id for c in result.checks if not c.passed]
        shown = ", ".join(failing[:4]) + (f" +{len(failing) - 4}" if len(failing) > 4 else "")
        if result.load.status != "ok":
            shown = f"not run ({result.load.status})"
        numpy, numpy_max = result.part_score("numpy")
        torch, torch_max = result.part_score("torch")
        table.add_row(plain(result.submission.id), f"{result.score:g}/{result.max_score:g}", f"{numpy:g}/{numpy_max:g}", f"{torch:g}/{torch_max:g}", plain(shown or "—"))
    return table


def check_table(result: SubmissionResult) -> Table:
    """Every check, what passed, what failed and by how much: the self-check shows the student's
    copy (`check`), the Gradescope staff log the full result."""
    table = Table(title=plain(f"{result.submission.id}: {result.score:g} / {result.max_score:g} points"), show_lines=False)
    for column in ("check", "points", "status", "max error", "what happened"):
        table.add_column(column)
    for check_result in result.checks:
        errors = [v.max_abs_error for v in check_result.verdicts if v.max_abs_error is not None]
        status = check_result.status
        style = {"passed": "green", "failed": "red"}.get(status, "yellow")
        table.add_row(
            check_result.check.id,
            f"{check_result.score:g}/{check_result.check.points:g}",
            f"[{style}]{status}[/{style}]",
            f"{max(errors):.2g}" if errors else "—",
            plain(check_result.message + "".join(f"\nLikely mistake: {d.title}" for d in check_result.diagnoses)) if not check_result.passed else "",
        )
    return table


def print_problems(console: Console, result: SubmissionResult) -> None:
    for problem in result.problems:
        console.print(Text.assemble(("problem:", "yellow"), " ", plain(problem)), highlight=False)
    for problem in result.load.problems:
        where = problem.get("where") or problem.get("file")
        cell = f" cell {problem['cell']}" if problem.get("cell") else ""
        console.print(Text.assemble(("while loading", "yellow"), " ", plain(f"{problem.get('file')}{cell}: {problem.get('message')} ({where})")), highlight=False)
    if result.load.status != "ok":
        console.print(Text.assemble(("not run:", "red"), " ", plain(result.load.message)), highlight=False)

"""Report: sibling renderers of the same results — results.json, grades.csv, the terminal.

Every file here is written by the grader, from `SubmissionResult` data, after
the submission's process is gone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader import html
from grader.score import CheckResult, SubmissionResult
from reference.spec import Spec

OUTPUT_FORMATS = ("text", "html")  # of the formats Gradescope renders, the ones written here
GRADESCOPE_STATUS = {"passed": "passed"}  # failed, error and timeout are all "failed" there
GRADES_FILE = "grades.csv"  # at the top of the output folder, beside one folder per submission


def _test_output(result: CheckResult, reveal_hidden: bool, output_format: str = "text") -> str:
    if output_format == "html":
        return html.check_fragment(result, reveal_hidden)  # the report page's feedback, escaped
    lines = [f"{result.call}", f"{result.check.message}", ""]
    for verdict in result.verdicts:
        label = "hidden case" if verdict.hidden else f"{verdict.case_id} case"
        lines.append(f"- {label}: {verdict.status} — {verdict.message}")
        for note in verdict.notes:
            lines.append(f"  note: {note}")
    for diagnosis in result.diagnoses:
        lines.append(f"\nLikely mistake — {diagnosis.title}: {diagnosis.explanation}")
    if result.diagnosis_note:
        lines.append(f"\n{result.diagnosis_note}")
    return "\n".join(lines)


def _drawn_output(result: CheckResult, reveal_hidden: bool, output_format: str) -> dict:
    """A test's `output` in `output_format`; where that cannot be drawn, its plain text; where
    neither can, a sentence saying so.  One check's feedback never costs the whole results.json."""
    reason = ""
    for form in dict.fromkeys((output_format, "text")):
        try:
            return {"output": _test_output(result, reveal_hidden, form), "output_format": form}
        except Exception as error:  # noqa: BLE001 - the next, plainer form
            reason = html.failure_reason(error, reveal_hidden)
    return {"output": f"The grader could not draw this check's feedback ({reason}); its score stands.", "output_format": "text"}


def gradescope_results(result: SubmissionResult, hidden_visibility: str, reveal_hidden: bool = False, output_format: str = "text") -> dict:
    """The Gradescope autograder `results.json` for one submission (format: grader/gradescope_schema.json)."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}")
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
                **_drawn_output(check_result, reveal_hidden, output_format),
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
    return {
        "score": result.score,
        "output": html.paragraphs(summary) if output_format == "html" else "\n".join(summary),
        "output_format": output_format,
        "visibility": "visible",
        "execution_time": round(result.seconds, 3),
        "tests": tests,
        # the total is not a documented top-level field: it travels in extra_data
        "extra_data": {"max_score": result.max_score, "manual_points": result.manual_points},
    }


def write_submission_outputs(result: SubmissionResult, folder: Path, hidden_visibility: str, reveal_hidden: bool) -> list[str]:
    """results.json and grading.json in `folder`; what could not be written, and why (each file
    that cannot be drawn is replaced by a small one saying so, so a reader always finds JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {
        "results.json": lambda: json.dumps(gradescope_results(result, hidden_visibility, reveal_hidden, output_format="html"), indent=2, allow_nan=False),
        "grading.json": lambda: json.dumps(result.to_dict(reveal_hidden), indent=2, default=str),
    }
    failures = []
    for name, draw in drawn.items():
        try:
            text = draw()
        except Exception as error:  # noqa: BLE001 - one submission's outputs must not stop the batch
            reason = html.failure_reason(error, reveal_hidden)
            failures.append(f"{name}: {reason}")
            text = json.dumps(_unwritten(result, reason), indent=2)
        (folder / name).write_text(text, encoding="utf-8")
    return failures


def _unwritten(result: SubmissionResult, reason: str) -> dict:
    """A results file the grader could not draw: no score to trust, and why."""
    return {
        "score": 0,
        "output": f"The grader could not write these results ({reason}); the course staff can grade this submission again.",
        "output_format": "text",
        "tests": [],
        "extra_data": {"id": result.submission.id, "not_written": reason},
    }


def write_outputs(result: SubmissionResult, spec: Spec, folder: Path, reveal_hidden: bool) -> list[str]:
    """One submission's results.json, grading.json and report.html; what could not be written.

    Whatever fails here fails for this submission only: its page then says the
    grader could not draw it, and the batch goes on to the class outputs."""
    failures = []
    try:
        failures += write_submission_outputs(result, folder, spec.hidden_visibility, reveal_hidden)
        html.write_report(result, spec, folder, reveal_hidden)
    except Exception as error:  # noqa: BLE001 - an unwritable folder, a full disk: this submission's loss alone
        reason = html.failure_reason(error, reveal_hidden)
        failures.append(reason)
        try:
            (folder / "report.html").write_text(html.unrendered_page(result.submission.id, reason), encoding="utf-8")
        except OSError as again:
            failures.append(f"report.html: {html.failure_reason(again, reveal_hidden)}")
    return failures


def _points(value) -> str:
    return html.format_number(value, "g")  # total over nan, inf and integers past a float


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
            writer.writerow([spreadsheet_text(result.submission.id), _points(result.score), _points(result.max_score), _points(numpy), _points(numpy_max), _points(torch), _points(torch_max), _points(result.manual_points), status])


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
        table.add_row(escape(result.submission.id), f"{_points(result.score)}/{_points(result.max_score)}", f"{_points(numpy)}/{_points(numpy_max)}", f"{_points(torch)}/{_points(torch_max)}", escape(shown) or "—")
    return table


def check_table(result: SubmissionResult) -> Table:
    """The self-check view: every check, what passed, what failed and by how much."""
    table = Table(title=f"{escape(result.submission.id)}: {_points(result.score)} / {_points(result.max_score)} points", show_lines=False)
    for column in ("check", "points", "status", "max error", "what happened"):
        table.add_column(column)
    for check_result in result.checks:
        errors = [v.max_abs_error for v in check_result.verdicts if v.max_abs_error is not None]
        status = check_result.status
        style = {"passed": "green", "failed": "red"}.get(status, "yellow")
        table.add_row(
            check_result.check.id,
            f"{_points(check_result.score)}/{_points(check_result.check.points)}",
            f"[{style}]{status}[/{style}]",
            html.error_size(max(errors)) if errors else "—",
            escape(check_result.message + "".join(f"\nLikely mistake: {d.title}" for d in check_result.diagnoses)) if not check_result.passed else "",
        )
    return table


def print_problems(console: Console, result: SubmissionResult) -> None:
    for problem in result.problems:
        console.print(f"[yellow]problem:[/yellow] {escape(problem)}", highlight=False)
    for problem in result.load.problems:
        where = problem.get("where") or problem.get("file")
        cell = f" cell {problem['cell']}" if problem.get("cell") else ""
        console.print(f"[yellow]while loading[/yellow] {escape(str(problem.get('file')))}{cell}: {escape(str(problem.get('message')))} ({escape(str(where))})", highlight=False)
    if result.load.status != "ok":
        console.print(f"[red]not run:[/red] {escape(result.load.message)}", highlight=False)

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

OUTPUT_FORMATS = ("text", "html")  # of the formats Gradescope renders, the ones written here
GRADESCOPE_STATUS = {"passed": "passed"}  # failed, error and timeout are all "failed" there


def _test_output(result: CheckResult, reveal_hidden: bool, output_format: str = "text") -> str:
    if output_format == "html":
        return html.check_fragment(result, reveal_hidden)  # the report page's feedback, escaped
    lines = [f"{result.call}", f"{result.check.message}", ""]
    lines += rule_lines(result.rule_findings)
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
                "status": "failed" if check_result.withheld else GRADESCOPE_STATUS.get(check_result.status, "failed"),
                "output": _test_output(check_result, reveal_hidden, output_format),
                "output_format": output_format,
                "visibility": "visible" if check.visibility == "visible" else hidden_visibility,
                "extra_data": {
                    "check": check.id,
                    "part": check.part,
                    "experiment": check.experiment,
                    "status": check_result.status,
                    "diagnoses": [d.id for d in check_result.diagnoses],
                    "rule_violations": check_result.rule_violations,
                },
            }
        )
    summary = [f"Score {result.score:g} / {result.max_score:g} (written answers: {result.manual_points:g} more points, graded by hand)."]
    if result.load.status != "ok":
        summary.append(f"The submission could not be run: {result.load.message}")
    for problem in result.problems:
        summary.append(f"Problem: {problem}")
    summary += [rule_sentence(rule) for rule in result.rule_summary]
    return {
        "score": result.score,
        "output": html.paragraphs(summary) if output_format == "html" else "\n".join(summary),
        "output_format": output_format,
        "visibility": "visible",
        "execution_time": round(result.seconds, 3),
        "tests": tests,
        # the total is not a documented top-level field: it travels in extra_data
        "extra_data": {"max_score": result.max_score, "manual_points": result.manual_points, "rule_violations": [r["rule"] for r in result.rule_summary]},
    }


def rule_sentence(rule: dict) -> str:
    """One rule broken (or unverifiable) in a submission, with where and the evidence, in one line."""
    effect = "the checks of these calls get no points" if rule["outcome"] == "withhold" else "points stay; flagged for the course staff"
    status = "could not be verified" if rule["status"] == "unverifiable" else "broken"
    return f"Rule {rule['rule']} {status} ({effect}): {rule['message']} In: {'; '.join(rule['calls'])}. Evidence: {rule['evidence']}."


def rule_lines(findings) -> list[str]:
    """Beside one check: the rules its calls broke."""
    lines = []
    for finding in findings[:4]:
        status = "could not be verified" if finding.status == "unverifiable" else "broken"
        lines.append(f"Rule {finding.rule} {status} in {finding.call} on {finding.case}: {finding.message} Evidence: {finding.evidence}.")
    if len(findings) > 4:
        lines.append(f"... and {len(findings) - 4} more findings of the rules")
    return lines + ([""] if lines else [])


def write_submission_outputs(result: SubmissionResult, folder: Path, hidden_visibility: str, reveal_hidden: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(gradescope_results(result, hidden_visibility, reveal_hidden, output_format="html"), indent=2, allow_nan=False), encoding="utf-8"
    )
    (folder / "grading.json").write_text(json.dumps(result.to_dict(reveal_hidden), indent=2, default=str), encoding="utf-8")


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
            writer.writerow([spreadsheet_text(result.submission.id), f"{result.score:g}", f"{result.max_score:g}", f"{numpy:g}", f"{numpy_max:g}", f"{torch:g}", f"{torch_max:g}", f"{result.manual_points:g}", status])


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
        table.add_row(escape(result.submission.id), f"{result.score:g}/{result.max_score:g}", f"{numpy:g}/{numpy_max:g}", f"{torch:g}/{torch_max:g}", escape(shown) or "—")
    return table


def check_table(result: SubmissionResult) -> Table:
    """The self-check view: every check, what passed, what failed and by how much."""
    table = Table(title=f"{result.submission.id}: {result.score:g} / {result.max_score:g} points", show_lines=False)
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
            escape(
                (check_result.message + "".join(f"\nLikely mistake: {d.title}" for d in check_result.diagnoses) if not check_result.passed else "")
                + "".join(f"\nRule {rule}: see above" for rule in check_result.rule_violations)
            ),
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
    for rule in result.rule_summary:
        console.print(f"[red]rule:[/red] {escape(rule_sentence(rule))}", highlight=False)

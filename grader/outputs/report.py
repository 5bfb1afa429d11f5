"""Report: sibling renderers of the same results — results.json and grades.csv (the terminal's
are in grader.outputs.terminal).

Every file here is written by the grader, from `SubmissionResult` data, after
the submission's process is gone.  results.json is a student view: it is drawn
from `grader.outputs.views.student_view`'s copy, whatever it is given.  Text from a
submission is made `printable` before it is written.
"""

from __future__ import annotations

import csv
import fcntl
import json
from pathlib import Path

from grader.core.spec import Spec
from grader.engine.rules import RULE_EFFECTS, RULE_STATUS_WORDS
from grader.engine.score import CheckResult, SubmissionResult
from grader.outputs import html
from grader.outputs.causes import causes_of
from grader.outputs.views import printable, printable_data, student_view

OUTPUT_FORMATS = ("text", "html")  # of the formats Gradescope renders, the ones written here
GRADESCOPE_STATUS = {"passed": "passed"}  # failed, error and timeout are all "failed" there
GRADES_FILE = "grades.csv"  # at the top of the output folder, beside one folder per submission


def _test_output(
    result: CheckResult, output_format: str = "text", explained: dict | None = None
) -> str:
    """One check's feedback in results.json, from the student's copy of the check; a mistake in
    `explained` (where an earlier test explains it, by `html.paragraph_key`) is named, not explained again."""
    if output_format == "html":
        return html.check_fragment(result, explained)  # the report page's feedback, escaped
    explained = explained or {}
    lines = [f"{result.call}", f"{result.check.message}", ""]
    lines += rule_lines(result.rule_findings)
    public = [v for v in result.verdicts if not v.hidden]
    for verdict in public:
        lines.append(f"- {verdict.case_id} case: {verdict.status} — {printable(verdict.message)}")
        for note in verdict.notes:
            lines.append(f"  note: {printable(note)}")
    line = html.check_context(result, redacted=True)["hidden_line"]
    if line:
        cases = " · ".join(
            f"{c['number']} {c['status_word']}" + (f" ({c['reason']})" if c["reason"] else "")
            for c in line["cases"]
        )
        lines.append(
            f"- hidden cases: {cases}" + (f" — {line['reason']}" if line["reason"] else "")
        )
    for diagnosis in result.diagnoses:
        if html.paragraph_key(diagnosis) in explained:
            where = explained[html.paragraph_key(diagnosis)]
            lines.append(f"\nLikely mistake — {diagnosis.title} (explained under {where} above)")
        else:
            lines.append(f"\nLikely mistake — {diagnosis.title}: {diagnosis.explanation}")
    if result.diagnosis_note:
        lines.append(f"\n{result.diagnosis_note}")
    return "\n".join(lines)


def _drawn_output(result: CheckResult, output_format: str, explained: dict | None = None) -> dict:
    """A test's `output` in `output_format`; where that cannot be drawn, its plain text; where
    neither can, a sentence saying so.  One check's feedback never costs the whole results.json."""
    reason = ""
    for form in dict.fromkeys((output_format, "text")):
        try:
            return {"output": _test_output(result, form, explained), "output_format": form}
        except Exception as error:  # noqa: BLE001 - the next, plainer form
            reason = html.failure_reason(error, False)  # a student view
    return {
        "output": f"The grader could not draw this check's feedback ({reason}); its score stands.",
        "output_format": "text",
    }


def gradescope_results(
    result: SubmissionResult, hidden_visibility: str, output_format: str = "text"
) -> dict:
    """The Gradescope autograder `results.json` for one submission (format: grader/gradescope/gradescope_schema.json),
    what the student sees: drawn from the student's copy of `result`."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(
            f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, not {output_format!r}"
        )
    result = student_view(result)
    tests = []
    explained: dict[str, str] = {}  # each mistake explained once, at the first test it explains
    for number, check_result in enumerate(result.checks, start=1):
        check = check_result.check
        drawn = _drawn_output(check_result, output_format, explained)
        for diagnosis in check_result.diagnoses:
            explained.setdefault(
                html.paragraph_key(diagnosis), f"test {check.experiment}.{number} ({check.id})"
            )
        tests.append(
            {
                "name": f"{check.id}: {check.message}",
                "number": f"{check.experiment}.{number}",
                "score": check_result.score,
                "max_score": check.points,
                "status": "failed"
                if check_result.withheld
                else GRADESCOPE_STATUS.get(check_result.status, "failed"),
                **drawn,
                "visibility": "visible" if check.visibility == "visible" else hidden_visibility,
                "extra_data": {
                    "check": check.id,
                    "part": check.part,
                    "experiment": check.experiment,
                    "status": check_result.status,
                    "diagnoses": [d.id for d in check_result.diagnoses],
                    "rule_violations": check_result.rule_violations,
                    "mode": check_result.mode,
                },
            }
        )
    by_hand = (
        f" (written answers: {result.manual_points:g} more points, graded by hand)"
        if result.manual_points
        else ""
    )
    summary = [f"Score {result.score:g} / {result.max_score:g}{by_hand}."]
    causes = causes_of(result)
    if any(c.mode == "free-form" for c in result.checks):
        summary.append(
            "This hand-in does not follow the template: it was graded free-form, "
            "from what its scripts did on their own setup (no hidden cases)."
        )
    if causes:
        summary.append(
            f"First thing to fix: {causes[0].summary}."
            + (
                f" ({len(causes) - 1} more cause{'s' if len(causes) > 2 else ''} below.)"
                if len(causes) > 1
                else ""
            )
        )
    if result.load.status != "ok":
        summary.append(f"The submission could not be run: {result.load.message}")
    for problem in result.problems:
        summary.append(f"Problem: {problem}")
    summary += [rule_sentence(rule) for rule in result.rule_summary]
    results = {
        "score": result.score,
        "output": html.paragraphs(summary)
        if output_format == "html"
        else printable("\n".join(summary)),
        "output_format": output_format,
        "visibility": "visible",
        "execution_time": round(result.seconds, 3),
        "tests": tests,
        # the total is not a documented top-level field: it travels in extra_data
        "extra_data": {
            "max_score": result.max_score,
            "manual_points": result.manual_points,
            "rule_violations": [r["rule"] for r in result.rule_summary],
        },
    }
    if result.ran_hidden:
        del results[
            "execution_time"
        ]  # the student's copy has none: timing on hidden cases can spell their inputs
    return results


def rule_sentence(rule: dict) -> str:
    """One rule broken (or unverifiable) in a submission, with where and the evidence, in one line."""
    effect, status = RULE_EFFECTS[rule["outcome"]], RULE_STATUS_WORDS[rule["status"]]
    return (
        f"Rule {rule['rule']} {status} ({effect}): {rule['message']} "
        f"In: {'; '.join(rule['calls'])}. Evidence: {rule['evidence']}."
    )


def rule_lines(findings) -> list[str]:
    """Beside one check: the rules its calls broke."""
    lines = []
    for finding in findings[:4]:
        status = RULE_STATUS_WORDS[finding.status]
        lines.append(
            f"Rule {finding.rule} {status} in {finding.call} on {finding.case}: "
            f"{finding.message} Evidence: {finding.evidence}."
        )
    if len(findings) > 4:
        lines.append(f"... and {len(findings) - 4} more findings of the rules")
    return lines + ([""] if lines else [])


def write_submission_outputs(
    result: SubmissionResult, folder: Path, hidden_visibility: str
) -> list[str]:
    """results.json (the student's view, in Gradescope's format) and grading.json (everything
    `result` holds) in `folder`; what could not be written, and why.  A file that cannot be
    drawn is replaced by a small one saying so, so a reader always finds JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {
        "results.json": (
            lambda: json.dumps(
                gradescope_results(result, hidden_visibility, output_format="html"),
                indent=2,
                allow_nan=False,
            ),
            False,
        ),
        "grading.json": (
            lambda: json.dumps(printable_data(result.to_dict()), indent=2, default=str),
            result.view != "student",
        ),
    }
    failures = []
    for name, (draw, reveal) in drawn.items():
        try:
            text = draw()
        except Exception as error:  # noqa: BLE001 - one submission's outputs must not stop the batch
            reason = html.failure_reason(error, reveal)
            failures.append(f"{name}: {reason}")
            text = json.dumps(_unwritten(result, reason), indent=2)
        (folder / name).write_text(text, encoding="utf-8")
    return failures


def _unwritten(result: SubmissionResult, reason: str) -> dict:
    """A results file the grader could not draw: no score to trust, and why."""
    return {
        "score": 0,
        "output": (
            f"The grader could not write these results ({reason}); "
            "the course staff can grade this submission again."
        ),
        "output_format": "text",
        "tests": [],
        "extra_data": {"id": printable(result.submission.id), "not_written": reason},
    }


def write_outputs(result: SubmissionResult, spec: Spec, folder: Path, book=None) -> list[str]:
    """One submission's results.json, grading.json and pages: the student's page always, the
    instructor's too unless `result` is already the student's copy (the self-check).  What
    could not be written, and why.

    Whatever fails here fails for this submission only: a page that cannot be written then
    says the grader could not draw it, and the batch goes on to the class outputs."""
    failures = []
    try:
        failures += write_submission_outputs(result, folder, spec.hidden_visibility)
    except Exception as error:  # noqa: BLE001 - an unwritable folder, a full disk: this submission's alone
        failures.append(html.failure_reason(error, result.view != "student"))
    views = [(student_view(result), None)] + ([(result, book)] if result.view != "student" else [])
    for view, cases in views:
        try:
            html.write_report(view, spec, folder, cases)
        except Exception as error:  # noqa: BLE001 - as above
            reason = html.failure_reason(error, view.view != "student")
            failures.append(reason)
            try:
                (folder / html.PAGES[view.view]).write_text(
                    html.unrendered_page(view.submission.id, reason), encoding="utf-8"
                )
            except OSError as again:
                failures.append(
                    f"{html.PAGES[view.view]}: {html.failure_reason(again, view.view != 'student')}"
                )
    return failures


def _points(value) -> str:
    return html.format_number(value, "g")  # total over nan, inf and integers past a float


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a cell beginning so is run by a spreadsheet


def spreadsheet_text(text: str) -> str:
    """A cell a spreadsheet shows as text: an id like `=HYPERLINK(...)` is not run as a formula."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def written_cells(total) -> list[str]:
    """written_score, written_marked, total: a student whose answers are not all marked has no total,
    and one with no mark at all says so, never 0."""
    if total is None or total.written is None and total.questions:
        written = "not marked"
    else:
        written = _points(total.written or 0.0)
    marked = f"{total.marked} of {total.questions}" if total is not None else "not marked"
    if total is not None and total.fully_marked:
        overall = _points(total.total)
    else:
        overall = "not marked" if total is None or total.written is None else "not fully marked"
    return [written, marked, overall]


def write_grades_csv(book, assignment: str, path: Path) -> None:
    """One row per submission of the gradebook's latest run, in the order they were graded:
    autograded totals, points per part, the written marks and the total, the status, the
    mistakes named (their ids, for sorting and counting), and points per check.  Drawn from
    the gradebook alone, so marking can rewrite it.  UTF-8 with a byte-order mark so
    spreadsheets read accents and commas right; every text cell is kept from being read as
    a formula; the file is replaced whole."""
    graded = book.autograded(assignment)
    totals = {total.student: total for total in book.totals(assignment)}
    written_max = sum(q.points for q in book.questions(assignment))
    parts = tuple(dict.fromkeys(part for summary in graded.values() for part in summary["parts"]))
    checks = tuple(
        dict.fromkeys(check for summary in graded.values() for check in summary["checks"])
    )
    per_part = [f"{part}{suffix}" for part in parts for suffix in ("", "_max")]
    header = [
        "id",
        "score",
        "max_score",
        *per_part,
        "written_max",
        "written_score",
        "written_marked",
        "total",
        "total_max",
        "status",
        "diagnoses",
    ]
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_text(printable(name)) for name in [*header, *checks]])
        for student, summary in graded.items():
            per_part = [
                _points(value) for part in parts for value in summary["parts"].get(part, ("", ""))
            ]
            per_check = [
                _points(summary["checks"][check]) if check in summary["checks"] else ""
                for check in checks
            ]
            diagnoses = " ".join(
                dict.fromkeys(name for names in summary["diagnoses"].values() for name in names)
            )
            total = totals.get(student)
            numbers = [
                _points(summary["points"]),
                _points(summary["max_points"]),
                *per_part,
                _points(written_max),
            ]
            after = [*written_cells(total), _points(summary["max_points"] + written_max)]
            texts = (printable(summary["status"]), printable(diagnoses))
            writer.writerow(
                [
                    spreadsheet_text(printable(student)),
                    *numbers,
                    *(spreadsheet_text(t) for t in after),
                    *(spreadsheet_text(t) for t in texts),
                    *per_check,
                ]
            )
    partial.replace(
        path
    )  # a reader (a spreadsheet, a second marker's refresh) never sees half a file


REFRESH_LOCK = (
    ".gradebook-refresh.lock"  # in the output folder: one redraw of the class outputs at a time
)


def refresh_class_outputs(out: Path, book, assignment: str) -> None:
    """Rewrite what shows written marks and totals from the gradebook: grades.csv, the
    dashboard's totals and each student's two pages.  `grade` calls it after its run; the
    marking page after each mark.  Redraws take turns (a lock file, across processes) and
    each reads one snapshot of the gradebook, so a slower redraw never puts older marks
    back over a newer one's."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / REFRESH_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with book.snapshot():
            write_grades_csv(book, assignment, out / GRADES_FILE)
            html.refresh_gradebook_views(out, book, assignment)

"""HTML reports: a page per submission and a class dashboard, siblings of results.json.

This module turns `SubmissionResult` data into plain values for the Jinja2
templates of templates/report/ (autoescaped; they draw, they decide nothing).
A page shows the view its result is: the student's page is drawn from
`grader.views.student_view`'s copy, which holds nothing of a hidden case but
its verdict and a generic reason, the instructor's from the full result.
Text that came from a submission (what it printed, exceptions, answers) is
made printable and clipped here, so a report stays well under 2 MB whatever
the submission did.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import statistics
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import jinja2
import numpy as np
from markupsafe import Markup

from grader.cases import CaseBook, draw_cases
from grader.charts import as_float, curve_chart, histogram
from grader.compare import element_names
from grader.rules import RULE_EFFECTS, RULE_STATUS_WORDS
from grader.score import CheckResult, SubmissionResult
from grader.spec import Spec
from grader.views import printable

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "report"

PAGES = {"student": "report.html", "instructor": "instructor.html"}  # OUT/<id>/ file of each view
STATUS_WORDS = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out"}

# Caps on text that came from a submission, in characters.
PRINTED_CHARS = 20_000  # each of stdout and stderr
TRACEBACK_CHARS = 4_000
MESSAGE_CHARS = 1_000
ANSWER_CHARS = 20_000
LOAD_PROBLEMS = 20
CURVE_ROWS = 10  # the off elements of a curve (or a long array) listed under it
LONG = 16  # a quantity of more elements lists only its worst off ones
FAILURE_MESSAGES = 12  # on the dashboard
DASHBOARD_FILE = "index.html"  # at the top of the output folder, beside one folder per submission

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?(?!\w)|\b(?:nan|inf)\b", re.IGNORECASE)
_DIRECTORIES = re.compile(r"(?<![\w.])(?:/[^/\s:,()'\"]+)+/")  # an absolute path's folders, not the "/" of dE/dw1


def clip(text: str | None, limit: int) -> str:
    """Printable text of at most about `limit` characters: its head and its tail, and how much is left out."""
    text = printable(text)
    if len(text) <= limit:
        return text
    tail = limit // 5
    return f"{text[: limit - tail]}\n[... {len(text) - limit:,} characters not shown ...]\n{text[-tail:]}"


def format_number(value, style: str = ".6g") -> str:
    """Any value as text, never an error: a number in `style`, nan/inf/-inf by name, "—" for none."""
    if value is None:
        return "—"
    value = as_float(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:{style}}"
    # a negative value that rounds to zero is shown as 0, never "-0"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def error_size(value) -> str:
    return format_number(value, ".2g")


def _vector(values) -> str:
    """A case's input as text: a vector in full; an array by its shape and first values."""
    array = np.asarray(values, dtype=float)
    if array.ndim <= 1:
        return "(" + ", ".join(format_number(v) for v in array.reshape(-1)) + ")"
    head = ", ".join(format_number(v) for v in array.reshape(-1)[:LONG])
    return f"array of shape {tuple(array.shape)}: ({head}{', …' if array.size > LONG else ''})"


def _diagnosis(diagnosis) -> dict:
    return {"id": diagnosis.id, "title": diagnosis.title, "explanation": diagnosis.explanation, "formula": getattr(diagnosis, "formula", "")}


def _rows(check, case: dict) -> tuple[list[dict], int]:
    """Element by element: observed, expected, errors, and whether it is off; for a curve or a
    long array only the worst of the values that are off, in order, and how many more there are."""
    expected, observed, compared = case["expected"], case["observed"], case["compared"]
    names = element_names(check, tuple(case.get("shape") or (len(expected),)))
    off = set(case["off"])
    rows, badness = [], []
    for index, name in enumerate(names):
        got, want = as_float(observed[index]), as_float(expected[index])
        difference = abs(got - want) if math.isfinite(got) and math.isfinite(want) else None
        relative = difference / max(abs(want), 1e-300) if difference is not None else None
        state = "off" if name in off else ("ok" if compared[index] else "not compared")
        rows.append({"name": name, "observed": format_number(got), "expected": format_number(want), "abs": error_size(difference), "rel": error_size(relative), "state": state})
        badness.append(math.inf if difference is None else difference)
    if not check.measure.curve and len(rows) <= LONG:
        return rows, 0
    off_rows = [index for index, row in enumerate(rows) if row["state"] == "off"]
    worst = sorted(sorted(off_rows, key=lambda index: -badness[index])[:CURVE_ROWS])
    return [rows[index] for index in worst], len(off_rows) - len(worst)


def _case(check_result: CheckResult, case: dict, inputs: dict, previous_traceback: str | None, nonfinite: bool) -> dict:
    """One case as the page shows it; `case` is a verdict of the view being drawn (a hidden one is bare in the student's)."""
    measure = check_result.check.measure
    shown = case["observed"] is not None
    error = case["error"] or None
    if error:
        traceback = clip(error.get("traceback"), TRACEBACK_CHARS)
        kind, message = clip(error.get("type"), 200), clip(error.get("message"), MESSAGE_CHARS)
        error = {
            "headline": message if message.startswith(kind) else f"{kind}: {message}".strip(": "),
            "where": clip(error.get("where"), 500),
            "traceback": traceback if traceback != previous_traceback else "",
            "same_traceback": bool(traceback) and traceback == previous_traceback,
        }
    rows, more_rows = _rows(check_result.check, case) if shown else ([], 0)
    chart = curve_chart(case["observed"], case["expected"], case["compared"], measure.axis, measure.step) if shown and measure.curve else None
    hidden_number = case["case"].removeprefix("hidden-")
    return {
        "label": f"hidden case {hidden_number}" if case["hidden"] else f"{case['case'].replace('-', ' ')} case",
        "hidden": case["hidden"],
        "status": case["status"],
        "status_word": STATUS_WORDS.get(case["status"], case["status"]),
        "message": clip(case["message"], MESSAGE_CHARS),
        "inputs": inputs.get((check_result.check.id, case["case"])),
        "max_abs": error_size(case["max_abs_error"]),
        "max_rel": error_size(case["max_rel_error"]),
        "off": case["off"],
        "values_shown": shown,
        "rows": rows,
        "more_rows": more_rows,
        "nonfinite": nonfinite,
        "curve": measure.curve,
        "chart": chart,
        "error": error,
        "notes": [clip(note, MESSAGE_CHARS) for note in case["notes"]],
    }


def case_inputs(spec: Spec, book: CaseBook | None = None) -> dict[tuple[str, str], dict[str, str]]:
    """Each case's inputs by (check id, case id), to reproduce a call: the public cases', and with
    the run's `book` (the instructor's view only) the hidden ones too."""
    book = book or draw_cases(spec, None)
    inputs = {}
    for check in spec.checks:
        for case in book.for_check(check):
            inputs[(check.id, case.id)] = {name: _vector(values) for name, values in case.inputs.items()}
    return inputs


def _rule(entry: dict) -> dict:
    """A rule finding or summary for a page: words clipped, the outcome said in full."""
    calls = entry.get("calls") or [f"{entry.get('call', '')} on {entry.get('case', '')}"]
    return {
        "rule": clip(entry["rule"], 200),
        "status_word": RULE_STATUS_WORDS[entry["status"]],
        "effect": RULE_EFFECTS[entry["outcome"]],
        "outcome": entry["outcome"],
        "message": clip(entry["message"], MESSAGE_CHARS),
        "calls": [clip(c, 300) for c in calls[:6]],
        "evidence": clip(entry["evidence"], MESSAGE_CHARS),
    }


def check_context(check_result: CheckResult, inputs: dict | None = None) -> dict:
    check = check_result.check
    withheld = check_result.withheld
    withholding = dict.fromkeys(f.rule for f in check_result.rule_findings if f.withholds)
    withheld_summary = clip(f"no points: its calls broke the rule {', '.join(withholding)} (see Rules of the assignment)", MESSAGE_CHARS)
    cases, previous = [], None
    for verdict in check_result.verdicts:
        # whether compared values came back nan/inf: a fact about the submission, not a hidden value
        nonfinite = verdict.observed is not None and any(
            compared and not math.isfinite(got) and math.isfinite(want) for got, want, compared in zip(verdict.observed, verdict.expected, verdict.compared)
        )
        case = _case(check_result, verdict.to_dict(), inputs or {}, previous, nonfinite)
        previous = clip((verdict.error or {}).get("traceback"), TRACEBACK_CHARS) or previous
        cases.append(case)
    return {
        "id": check.id,
        "description": check.message,
        "call": check_result.call,
        "quantity": check.quantity,
        "tolerance": str(check.tolerance),
        "visibility": check.visibility,
        # a check whose numbers are right but whose calls broke a withholding rule is not passed
        "status": "failed" if withheld else check_result.status,
        "status_word": "withheld" if withheld else STATUS_WORDS.get(check_result.status, check_result.status),
        "passed": check_result.passed and not withheld,
        "score": f"{check_result.score:g}",
        "points": f"{check.points:g}",
        "summary": withheld_summary if withheld else "" if check_result.passed else clip(check_result.message, MESSAGE_CHARS),
        "diagnoses": [_diagnosis(d) for d in check_result.diagnoses],
        "diagnosis_note": "" if check_result.passed else clip(getattr(check_result, "diagnosis_note", ""), MESSAGE_CHARS),
        "cases": cases,
        "rules": [_rule(f.to_dict()) for f in getattr(check_result, "rule_findings", ())[:4]],
        "withheld": withheld,
    }


def _load(result: SubmissionResult) -> dict:
    problems = []
    for problem in result.load.problems[:LOAD_PROBLEMS]:
        problems.append(
            {
                "file": clip(str(problem.get("file") or ""), 300),
                "cell": problem.get("cell"),
                "type": clip(str(problem.get("type") or ""), 200),
                "message": clip(str(problem.get("message") or ""), MESSAGE_CHARS),
                "traceback": clip(problem.get("traceback"), TRACEBACK_CHARS),
            }
        )
    return {
        "status": result.load.status,
        "message": clip(result.load.message, MESSAGE_CHARS),
        "problems": problems,
        "more_problems": max(0, len(result.load.problems) - LOAD_PROBLEMS),
    }


def report_context(result: SubmissionResult, spec: Spec, book: CaseBook | None = None) -> dict:
    """The page of `result`'s view; `book` (the run's cases) gives the instructor's view the hidden cases' inputs."""
    instructor = result.view != "student"
    inputs = case_inputs(spec, book if instructor else None)
    checks = {c.check.id: check_context(c, inputs) for c in result.checks}
    parts = []
    for part in dict.fromkeys(c.check.part for c in result.checks):
        experiments = []
        for experiment in sorted({c.check.experiment for c in result.checks if c.check.part == part}):
            members = [c for c in result.checks if c.check.part == part and c.check.experiment == experiment]
            experiments.append(
                {
                    "number": experiment,
                    "title": spec.experiment_title(experiment),
                    "score": f"{sum(c.score for c in members):g}",
                    "points": f"{sum(c.check.points for c in members):g}",
                    "checks": [checks[c.check.id] for c in members],
                }
            )
        got, possible = result.part_score(part)
        parts.append({"id": part, "title": spec.part(part).title, "score": f"{got:g}", "points": f"{possible:g}", "full": got == possible, "experiments": experiments})
    diagnoses: dict[str, dict] = {}
    for check_result in result.checks:
        for diagnosis in check_result.diagnoses:
            entry = diagnoses.setdefault(diagnosis.id, {**_diagnosis(diagnosis), "checks": []})
            entry["checks"].append(check_result.check.id)
    withheld = result.ran_hidden and not instructor  # the student's copy left out what ran on hidden cases
    return {
        "title": spec.title,
        "id": printable(result.submission.id),
        "kind": result.submission.kind,
        "instructor": instructor,
        "ran_hidden": result.ran_hidden,
        "student_page": PAGES["student"] if instructor else None,  # the student's page never points at the instructor's
        "score": f"{result.score:g}",
        "max_score": f"{result.max_score:g}",
        "percent": round(100 * result.score / result.max_score) if result.max_score else 0,
        "manual_points": f"{result.manual_points:g}",
        "parts": parts,
        "experiment_scores": [
            {"number": n, "title": spec.experiment_title(n), "score": f"{got:g}", "points": f"{possible:g}", "full": got == possible}
            for n, (got, possible) in result.experiment_scores().items()
        ],
        "failed": [checks[c.check.id] for c in result.checks if not c.passed or c.withheld],
        "diagnoses": list(diagnoses.values()),
        "load": _load(result),
        "problems": [clip(p, MESSAGE_CHARS) for p in result.problems],
        "questions": [
            {"id": q.id, "title": q.title, "points": f"{q.points:g}", "answer": clip(result.answers.get(q.id), ANSWER_CHARS) or None}
            for q in result.questions
        ],
        "rules": [_rule(entry) for entry in result.rule_summary],
        "withhold_printed": withheld,
        "stdout": clip(result.stdout, PRINTED_CHARS),
        "stderr": clip(result.stderr, PRINTED_CHARS),
        "seconds": "" if withheld else f"{result.seconds:.1f}",
    }


def _pattern(message: str) -> str:
    """A failure message with its numbers and folders blanked, so the same mistake groups across students."""
    return _NUMBER.sub("…", _DIRECTORIES.sub("", message))


def dashboard_context(results: list[SubmissionResult], spec: Spec) -> dict:
    totals = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0)
    parts = tuple(dict.fromkeys(part for result in results for part in result.parts))
    checks = []
    for check in spec.checks:
        ran = [c for r in results for c in r.checks if c.check.id == check.id]
        passed = sum(c.passed for c in ran)
        rate = passed / len(ran) if ran else 0.0
        checks.append({"id": check.id, "description": check.message, "part": check.part, "experiment": check.experiment, "passed": passed, "total": len(ran), "percent": round(100 * rate)})
    checks.sort(key=lambda c: (c["passed"] / c["total"] if c["total"] else 0.0, c["id"]))
    failures: dict[str, dict] = defaultdict(lambda: {"students": set(), "checks": Counter()})
    diagnoses: dict[str, dict] = {}
    for result in results:
        for check_result in result.checks:
            if not check_result.passed:
                entry = failures[_pattern(clip(check_result.message, MESSAGE_CHARS))]
                entry["students"].add(result.submission.id)
                entry["checks"][check_result.check.id] += 1
            for diagnosis in check_result.diagnoses:
                entry = diagnoses.setdefault(diagnosis.id, {"title": diagnosis.title, "students": set()})
                entry["students"].add(result.submission.id)
    frequent = sorted(failures.items(), key=lambda item: (-len(item[1]["students"]), item[0]))[:FAILURE_MESSAGES]
    rules: dict[str, dict] = {}
    for result in results:
        for entry in result.rule_summary:
            row = rules.setdefault(entry["rule"], {"rule": entry["rule"], "outcome": entry["outcome"], "broken": [], "unverifiable": []})
            row[entry["status"]].append(result.submission.id)
    students = []
    for result in results:
        students.append(
            {
                "id": printable(result.submission.id),
                "href": quote(result.submission.id, safe="") + "/" + PAGES["instructor"],
                "student_href": quote(result.submission.id, safe="") + "/" + PAGES["student"],
                "score": result.score,
                "max_score": result.max_score,
                "parts": [dict(zip(("score", "max"), result.part_score(part))) for part in parts],
                "failing": sum(not c.passed for c in result.checks),
                "answers": sum(1 for q in result.questions if result.answers.get(q.id)),
                "questions": len(result.questions),
                "status": "ran" if result.load.status == "ok" else f"not run: {result.load.status}",
                "renaming": result.submission.renaming,
            }
        )
    return {
        "title": spec.title,
        "count": len(results),
        "max_score": f"{max_score:g}",
        "mean": f"{statistics.fmean(totals):.1f}" if totals else "—",
        "median": f"{statistics.median(totals):g}" if totals else "—",
        "full_marks": sum(1 for r in results if r.max_score and r.score == r.max_score),
        "ran_hidden": any(r.ran_hidden for r in results),
        "histogram": histogram(totals, max_score),
        "checks": checks,
        "failures": [
            {"message": message, "students": len(entry["students"]), "checks": [c for c, _ in entry["checks"].most_common()]} for message, entry in frequent
        ],
        "diagnoses": sorted(({"title": d["title"], "students": len(d["students"])} for d in diagnoses.values()), key=lambda d: (-d["students"], d["title"])),
        "students": students,
        "parts": [{"id": part, "label": spec.part(part).label} for part in parts],
        "rules": sorted(rules.values(), key=lambda row: row["rule"]),
        "rule_violations": sum(1 for r in results if any(e["outcome"] == "withhold" for e in r.rule_summary)),
        "rule_flags": sum(1 for r in results if any(e["outcome"] == "flag" for e in r.rule_summary)),
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["points"] = lambda value: format_number(value, "g")
    return environment


def _script(name: str) -> dict:
    """An inline script from templates/report/ and its hash, which the page's Content-Security-Policy allows alone."""
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
    return {"source": Markup(source), "hash": f"'sha256-{digest}'"}


def render_report(result: SubmissionResult, spec: Spec, book: CaseBook | None = None) -> str:
    """The page of `result`'s view: pass `grader.views.student_view(result)` for the student's."""
    return _environment().get_template("report.html").render(report=report_context(result, spec, book), script=None)


def render_dashboard(results: list[SubmissionResult], spec: Spec) -> str:
    return _environment().get_template("dashboard.html").render(board=dashboard_context(results, spec), script=_script("sort.js"))


def check_fragment(check_result: CheckResult) -> str:
    """One check's feedback as an HTML fragment, for a results.json test `output` (output_format "html");
    results.json is a student view, so `check_result` comes from the student's copy."""
    return _environment().get_template("gradescope_check.html").render(check=check_context(check_result))


def paragraphs(lines: list[str]) -> str:
    """Plain lines as escaped HTML paragraphs."""
    return "".join(f"<p>{Markup.escape(clip(line, MESSAGE_CHARS))}</p>" for line in lines)


def failure_reason(error: BaseException, reveal: bool) -> str:
    """Why the grader could not draw or write something.  An exception's text may quote
    what a submission sent, so the student's view names only its type."""
    return clip(f"{type(error).__name__}: {error}" if reveal else type(error).__name__, MESSAGE_CHARS)


def unrendered_page(submission_id: str, reason: str) -> str:
    """The page of a report the grader could not draw: the id and the reason, nothing else to go wrong."""
    try:
        return _environment().get_template("unrendered.html").render(id=submission_id, error=reason)
    except Exception:  # noqa: BLE001 - even the template is unusable: the same page by hand
        return f"<!doctype html><meta charset=utf-8><title>report not drawn</title><h1>{Markup.escape(submission_id)}</h1><p>The grader could not draw this report ({Markup.escape(reason)}).</p>"


def write_report(result: SubmissionResult, spec: Spec, folder: Path, book: CaseBook | None = None) -> Path:
    """The page of `result`'s view, `folder/report.html` (the student's) or `folder/instructor.html`;
    a page that could not be drawn says why rather than stopping the batch."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PAGES["student" if result.view == "student" else "instructor"]
    try:
        page = render_report(result, spec, book)
    except Exception as error:  # noqa: BLE001 - one report must not stop the batch
        page = unrendered_page(result.submission.id, failure_reason(error, result.view != "student"))
    path.write_text(page, encoding="utf-8")
    return path


def write_dashboard(results: list[SubmissionResult], spec: Spec, out: Path) -> Path:
    """`out/index.html`; if the dashboard cannot be drawn, a plain list of the reports says why."""
    path = out / DASHBOARD_FILE
    try:
        page = render_dashboard(results, spec)
    except Exception as error:  # noqa: BLE001 - the class's page is written whatever one result holds
        links = "".join(f'<li><a href="{quote(r.submission.id, safe="")}/report.html">{Markup.escape(r.submission.id)}</a></li>' for r in results)
        page = (
            f"<!doctype html><meta charset=utf-8><title>Class dashboard not drawn</title><h1>Class dashboard</h1>"
            f"<p>The grader could not draw the dashboard ({Markup.escape(failure_reason(error, True))}); grades.csv holds the totals.</p><ul>{links}</ul>"
        )
    path.write_text(page, encoding="utf-8")
    return path

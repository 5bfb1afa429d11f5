"""HTML reports: a page per submission and a class dashboard, siblings of results.json.

This module turns `SubmissionResult` data into plain values for the Jinja2
templates of templates/report/ (autoescaped; they draw, they decide nothing).
Every verdict goes through `Verdict.to_dict(reveal_hidden)`, so the student
view never holds a hidden case's values.  Text that came from a submission
(what it printed, exceptions, answers) is clipped here, so a report stays
well under 2 MB whatever the submission did.
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
from markupsafe import Markup

from grader.charts import as_float, histogram, loss_chart
from grader.compare import element_names
from grader.score import CheckResult, SubmissionResult
from reference.cases import draw_cases
from reference.spec import Spec

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "report"

# Presentation labels for the course's numbering (ASSIGNMENT.md); grading never reads them.
PARTS = {"numpy": "Part A — NumPy, gradients by hand", "torch": "Part B — PyTorch autograd"}
EXPERIMENTS = {
    1: "NumPy by hand",
    2: "PyTorch autograd",
    3: "torch.sigmoid",
    4: "ReLU",
    5: "MSELoss",
    6: "CrossEntropyLoss",
    7: "Step size and epochs",
    8: "Random initial weights",
    9: "All-zero initial weights",
    10: "Written answers",
}
STATUS_WORDS = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out"}

# Caps on text that came from a submission, in characters.
PRINTED_CHARS = 20_000  # each of stdout and stderr
TRACEBACK_CHARS = 4_000
MESSAGE_CHARS = 1_000
ANSWER_CHARS = 20_000
LOAD_PROBLEMS = 20
CURVE_ROWS = 10  # the off elements of a loss curve listed under its chart
FAILURE_MESSAGES = 12  # on the dashboard

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?(?!\w)|\b(?:nan|inf)\b", re.IGNORECASE)
_DIRECTORIES = re.compile(r"(?<![\w.])(?:/[^/\s:,()'\"]+)+/")  # an absolute path's folders, not the "/" of dE/dw1


def clip(text: str | None, limit: int) -> str:
    """Printable text of at most about `limit` characters: its head and its tail, and how much is left out."""
    text = _CONTROL.sub("", text or "")
    if len(text) <= limit:
        return text
    tail = limit // 5
    return f"{text[: limit - tail]}\n[... {len(text) - limit:,} characters not shown ...]\n{text[-tail:]}"


def format_number(value) -> str:
    if value is None:
        return "—"
    value = as_float(value)
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def error_size(value) -> str:
    return "—" if value is None else f"{value:.2g}"


def _vector(values) -> str:
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def _diagnosis(diagnosis) -> dict:
    return {"id": diagnosis.id, "title": diagnosis.title, "explanation": diagnosis.explanation, "formula": getattr(diagnosis, "formula", "")}


def _rows(quantity: str, case: dict) -> tuple[list[dict], int]:
    """Element by element: observed, expected, errors, and whether it is off; for a loss
    curve only the worst of the losses that are off, in epoch order, and how many more there are."""
    expected, observed, compared = case["expected"], case["observed"], case["compared"]
    names = element_names(quantity, len(expected))
    off = set(case["off"])
    rows, badness = [], []
    for index, name in enumerate(names):
        got, want = as_float(observed[index]), as_float(expected[index])
        difference = abs(got - want) if math.isfinite(got) and math.isfinite(want) else None
        relative = difference / max(abs(want), 1e-300) if difference is not None else None
        state = "off" if name in off else ("ok" if compared[index] else "not compared")
        rows.append({"name": name, "observed": format_number(got), "expected": format_number(want), "abs": error_size(difference), "rel": error_size(relative), "state": state})
        badness.append(math.inf if difference is None else difference)
    if quantity != "loss_curve":
        return rows, 0
    off_rows = [index for index, row in enumerate(rows) if row["state"] == "off"]
    worst = sorted(sorted(off_rows, key=lambda index: -badness[index])[:CURVE_ROWS])
    return [rows[index] for index in worst], len(off_rows) - len(worst)


def _case(check_result: CheckResult, case: dict, inputs: dict, previous_traceback: str | None, nonfinite: bool) -> dict:
    quantity = check_result.check.quantity
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
    rows, more_rows = _rows(quantity, case) if shown else ([], 0)
    chart = loss_chart(case["observed"], case["expected"], case["compared"]) if shown and quantity == "loss_curve" else None
    hidden_number = case["case"].removeprefix("hidden-")
    return {
        "label": f"hidden case {hidden_number}" if case["hidden"] else f"{case['case'].replace('-', ' ')} case",
        "hidden": case["hidden"],
        "status": case["status"],
        "status_word": STATUS_WORDS.get(case["status"], case["status"]),
        "message": clip(case["message"], MESSAGE_CHARS),
        "inputs": inputs.get(case["case"]) if not case["hidden"] else None,
        "max_abs": error_size(case["max_abs_error"]),
        "max_rel": error_size(case["max_rel_error"]),
        "off": case["off"],
        "values_shown": shown,
        "rows": rows,
        "more_rows": more_rows,
        "nonfinite": nonfinite,
        "curve": quantity == "loss_curve",
        "chart": chart,
        "error": error,
        "notes": [clip(note, MESSAGE_CHARS) for note in case["notes"]],
    }


def public_inputs(spec: Spec) -> dict[str, dict[str, str]]:
    """The public cases' inputs by case id, for a student to reproduce a call (never a hidden one: no secret here)."""
    book = draw_cases(spec, None)
    inputs = {}
    for check in spec.checks:
        for case in book.for_check(check):
            inputs[case.id] = {"x": _vector(case.x), "y": _vector(case.y), "w": _vector(case.w)}
    return inputs


def _rule(entry: dict) -> dict:
    """A rule finding or summary for a page: words clipped, the outcome said in full."""
    calls = entry.get("calls") or [f"{entry.get('call', '')} on {entry.get('case', '')}"]
    return {
        "rule": clip(entry["rule"], 200),
        "status_word": "could not be verified" if entry["status"] == "unverifiable" else "broken",
        "effect": "no points for the checks of these calls" if entry["outcome"] == "withhold" else "points stay; flagged for the course staff",
        "outcome": entry["outcome"],
        "message": clip(entry["message"], MESSAGE_CHARS),
        "calls": [clip(c, 300) for c in calls[:6]],
        "evidence": clip(entry["evidence"], MESSAGE_CHARS),
    }


def check_context(check_result: CheckResult, reveal_hidden: bool, inputs: dict | None = None) -> dict:
    check = check_result.check
    cases, previous = [], None
    for verdict in check_result.verdicts:
        # whether compared values came back nan/inf: a fact about the submission, not a hidden value
        nonfinite = verdict.observed is not None and any(
            compared and not math.isfinite(got) and math.isfinite(want) for got, want, compared in zip(verdict.observed, verdict.expected, verdict.compared)
        )
        case = _case(check_result, verdict.to_dict(reveal_hidden), inputs or {}, previous, nonfinite)
        previous = clip((verdict.error or {}).get("traceback"), TRACEBACK_CHARS) or previous
        cases.append(case)
    return {
        "id": check.id,
        "description": check.message,
        "call": check_result.call,
        "quantity": check.quantity,
        "tolerance": str(check.tolerance),
        "visibility": check.visibility,
        "status": check_result.status,
        "status_word": STATUS_WORDS.get(check_result.status, check_result.status),
        "passed": check_result.passed,
        "score": f"{check_result.score:g}",
        "points": f"{check.points:g}",
        "summary": "" if check_result.passed else clip(check_result.message, MESSAGE_CHARS),
        "diagnoses": [_diagnosis(d) for d in check_result.diagnoses],
        "diagnosis_note": "" if check_result.passed else clip(getattr(check_result, "diagnosis_note", ""), MESSAGE_CHARS),
        "cases": cases,
        "rules": [_rule(f.to_dict()) for f in getattr(check_result, "rule_findings", ())[:4]],
        "withheld": getattr(check_result, "withheld", False),
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


def report_context(result: SubmissionResult, spec: Spec, reveal_hidden: bool) -> dict:
    inputs = public_inputs(spec)
    checks = {c.check.id: check_context(c, reveal_hidden, inputs) for c in result.checks}
    parts = []
    for part in dict.fromkeys(c.check.part for c in result.checks):
        experiments = []
        for experiment in sorted({c.check.experiment for c in result.checks if c.check.part == part}):
            members = [c for c in result.checks if c.check.part == part and c.check.experiment == experiment]
            experiments.append(
                {
                    "number": experiment,
                    "title": EXPERIMENTS.get(experiment, f"Experiment {experiment}"),
                    "score": f"{sum(c.score for c in members):g}",
                    "points": f"{sum(c.check.points for c in members):g}",
                    "checks": [checks[c.check.id] for c in members],
                }
            )
        got, possible = result.part_score(part)
        parts.append({"id": part, "title": PARTS.get(part, part), "score": f"{got:g}", "points": f"{possible:g}", "full": got == possible, "experiments": experiments})
    diagnoses: dict[str, dict] = {}
    for check_result in result.checks:
        for diagnosis in check_result.diagnoses:
            entry = diagnoses.setdefault(diagnosis.id, {**_diagnosis(diagnosis), "checks": []})
            entry["checks"].append(check_result.check.id)
    ran_hidden = any(v.hidden for c in result.checks for v in c.verdicts)
    withhold_printed = ran_hidden and not reveal_hidden  # what it printed on hidden cases would show their values
    return {
        "title": spec.title,
        "id": result.submission.id,
        "kind": result.submission.kind,
        "instructor": reveal_hidden,
        "ran_hidden": ran_hidden,
        "score": f"{result.score:g}",
        "max_score": f"{result.max_score:g}",
        "percent": round(100 * result.score / result.max_score) if result.max_score else 0,
        "manual_points": f"{result.manual_points:g}",
        "parts": parts,
        "experiment_scores": [
            {"number": n, "title": EXPERIMENTS.get(n, f"Experiment {n}"), "score": f"{got:g}", "points": f"{possible:g}", "full": got == possible}
            for n, (got, possible) in result.experiment_scores().items()
        ],
        "failed": [checks[c.check.id] for c in result.checks if not c.passed],
        "diagnoses": list(diagnoses.values()),
        "load": _load(result),
        "problems": [clip(p, MESSAGE_CHARS) for p in result.problems],
        "questions": [
            {"id": q.id, "title": q.title, "points": f"{q.points:g}", "answer": clip(result.answers.get(q.id), ANSWER_CHARS) or None}
            for q in result.questions
        ],
        "rules": [_rule(entry) for entry in result.rule_summary],
        "withhold_printed": withhold_printed,
        "stdout": "" if withhold_printed else clip(result.stdout, PRINTED_CHARS),
        "stderr": "" if withhold_printed else clip(result.stderr, PRINTED_CHARS),
        "seconds": f"{result.seconds:.1f}",
    }


def _pattern(message: str) -> str:
    """A failure message with its numbers and folders blanked, so the same mistake groups across students."""
    return _NUMBER.sub("…", _DIRECTORIES.sub("", message))


def dashboard_context(results: list[SubmissionResult], spec: Spec) -> dict:
    totals = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0)
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
        numpy_score, numpy_max = result.part_score("numpy")
        torch_score, torch_max = result.part_score("torch")
        students.append(
            {
                "id": result.submission.id,
                "href": quote(result.submission.id, safe="") + "/report.html",
                "score": result.score,
                "max_score": result.max_score,
                "numpy": numpy_score,
                "numpy_max": numpy_max,
                "torch": torch_score,
                "torch_max": torch_max,
                "failing": sum(not c.passed for c in result.checks),
                "answers": sum(1 for q in result.questions if result.answers.get(q.id)),
                "questions": len(result.questions),
                "status": "ran" if result.load.status == "ok" else f"not run: {result.load.status}",
            }
        )
    return {
        "title": spec.title,
        "count": len(results),
        "max_score": f"{max_score:g}",
        "mean": f"{statistics.fmean(totals):.1f}" if totals else "—",
        "median": f"{statistics.median(totals):g}" if totals else "—",
        "full_marks": sum(1 for r in results if r.max_score and r.score == r.max_score),
        "histogram": histogram(totals, max_score),
        "checks": checks,
        "failures": [
            {"message": message, "students": len(entry["students"]), "checks": [c for c, _ in entry["checks"].most_common()]} for message, entry in frequent
        ],
        "diagnoses": sorted(({"title": d["title"], "students": len(d["students"])} for d in diagnoses.values()), key=lambda d: (-d["students"], d["title"])),
        "students": students,
        "rules": sorted(rules.values(), key=lambda row: row["rule"]),
        "rule_violations": sum(1 for r in results if any(e["outcome"] == "withhold" for e in r.rule_summary)),
        "rule_flags": sum(1 for r in results if any(e["outcome"] == "flag" for e in r.rule_summary)),
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["points"] = lambda value: f"{value:g}"
    return environment


def _script(name: str) -> dict:
    """An inline script from templates/report/ and its hash, which the page's Content-Security-Policy allows alone."""
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
    return {"source": Markup(source), "hash": f"'sha256-{digest}'"}


def render_report(result: SubmissionResult, spec: Spec, reveal_hidden: bool) -> str:
    return _environment().get_template("report.html").render(report=report_context(result, spec, reveal_hidden), script=None)


def render_dashboard(results: list[SubmissionResult], spec: Spec) -> str:
    return _environment().get_template("dashboard.html").render(board=dashboard_context(results, spec), script=_script("sort.js"))


def check_fragment(check_result: CheckResult, reveal_hidden: bool) -> str:
    """One check's feedback as an HTML fragment, for a results.json test `output` (output_format "html")."""
    return _environment().get_template("gradescope_check.html").render(check=check_context(check_result, reveal_hidden))


def paragraphs(lines: list[str]) -> str:
    """Plain lines as escaped HTML paragraphs."""
    return "".join(f"<p>{Markup.escape(clip(line, MESSAGE_CHARS))}</p>" for line in lines)


def write_report(result: SubmissionResult, spec: Spec, folder: Path, reveal_hidden: bool) -> Path:
    """`folder/report.html`; a page that could not be drawn says why rather than stopping the batch."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    try:
        page = render_report(result, spec, reveal_hidden)
    except Exception as error:  # noqa: BLE001 - one report must not stop the batch
        page = _environment().get_template("unrendered.html").render(id=result.submission.id, error=f"{type(error).__name__}: {error}")
    path.write_text(page, encoding="utf-8")
    return path


def write_dashboard(results: list[SubmissionResult], spec: Spec, out: Path) -> Path:
    path = out / "index.html"
    path.write_text(render_dashboard(results, spec), encoding="utf-8")
    return path

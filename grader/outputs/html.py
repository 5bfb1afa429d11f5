"""HTML reports: a page per submission and a class dashboard, siblings of results.json.

This module turns `SubmissionResult` data into plain values for the Jinja2
templates of templates/report/ (autoescaped; they draw, they decide nothing).
A page shows the view its result is: the student's page is drawn from
`grader.outputs.views.student_view`'s copy, which holds nothing of a hidden case but
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
from collections import Counter
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import jinja2
import numpy as np
from markupsafe import Markup

from grader.core.cases import CaseBook, draw_cases
from grader.core.spec import Spec
from grader.engine.compare import element_names
from grader.engine.freeform import port_hints
from grader.engine.rules import RULE_EFFECTS, RULE_STATUS_WORDS
from grader.engine.score import CheckResult, SubmissionResult
from grader.outputs.causes import causes_of, scrubbed
from grader.outputs.charts import as_float, curve_chart, histogram
from grader.outputs.views import hidden_reason, printable, student_view, without_folders


def templates_folder(name: str) -> Path:
    """templates/<name>/: inside the grader where it is installed as a package (pyproject's
    package-dir), beside it in a clone of the repository."""
    here = Path(__file__).resolve().parents[1]  # grader/
    installed = here / "templates" / name
    return installed if installed.is_dir() else here.parent / "templates" / name


TEMPLATES = templates_folder("report")

PAGES = {"student": "report.html", "instructor": "instructor.html"}  # OUT/<id>/ file of each view
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "timeout": "timed out",
    "unstarted": "not started",
}

# Caps on text that came from a submission, in characters.
PRINTED_CHARS = 20_000  # each of stdout and stderr
TRACEBACK_CHARS = 4_000
MESSAGE_CHARS = 1_000
ANSWER_CHARS = 20_000
LOAD_PROBLEMS = 20
CURVE_ROWS = 10  # the off elements of a curve (or a long array) listed under it
FIRST_ROWS = 4  # of them, the first ones off: where the values part from the reference
PRINTED_ROWS = 3  # of a case's values off, those on paper; the page says how many it leaves out
LONG = 16  # a quantity of more elements lists only its worst off ones
FAILURE_MESSAGES = 12  # on the dashboard
OBSERVATIONS = 60  # of a free-form run, on its page
DASHBOARD_FILE = "index.html"  # at the top of the output folder, beside one folder per submission

_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?(?!\w)|\b(?:nan|inf)\b", re.IGNORECASE
)


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
    return {
        "id": diagnosis.id,
        "title": diagnosis.title,
        "explanation": diagnosis.explanation,
        "formula": getattr(diagnosis, "formula", ""),
    }


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
        state = "off" if name in off else ("ok" if compared[index] else "not compared")
        rows.append(
            {"index": index, "name": name, "observed": format_number(got),
             "expected": format_number(want), "abs": error_size(difference),
             "rel": error_size(_relative(got, want)), "state": state, "gap": False, "first": False,
             "printed": False}
        )  # fmt: skip
        badness.append(math.inf if difference is None else difference)
    if not check.measure.curve and len(rows) <= LONG:
        return rows, 0
    # where the values first part from the reference, then the worst of the rest
    off_rows = [index for index, row in enumerate(rows) if row["state"] == "off"]
    first = off_rows[:FIRST_ROWS]
    worst = sorted(
        first
        + sorted(off_rows[FIRST_ROWS:], key=lambda index: -badness[index])[
            : CURVE_ROWS - len(first)
        ]
    )
    shown = [
        dict(rows[index], gap=bool(number) and index != worst[number - 1] + 1, first=number == 0)
        for number, index in enumerate(worst)
    ]
    return shown, len(off_rows) - len(worst)


def _relative(got: float, want: float) -> float | None:
    """|got - want| / |want|; none where the expected value is 0 (or not finite), where only the
    absolute error says anything."""
    if not (math.isfinite(got) and math.isfinite(want)) or want == 0:
        return None
    return abs(got - want) / abs(want)


def _largest_relative(case: dict) -> float | None:
    """The largest relative error over the compared elements whose expected value is not 0."""
    errors = [
        _relative(as_float(got), as_float(want))
        for got, want, compared in zip(case["observed"], case["expected"], case["compared"])
        if compared
    ]
    errors = [e for e in errors if e is not None]
    return max(errors) if errors else None


def _case(
    check_result: CheckResult,
    case: dict,
    inputs: dict,
    previous_traceback: str | None,
    nonfinite: bool,
) -> dict:
    """One case as the page shows it; `case` is a verdict of the view being drawn (a hidden one is
    bare in the student's)."""
    measure = check_result.check.measure
    shown = case["observed"] is not None
    error = case["error"] or None
    if error:
        traceback = clip(error.get("traceback"), TRACEBACK_CHARS)
        kind, message = clip(error.get("type"), 200), scrubbed(error.get("message"), MESSAGE_CHARS)
        error = {
            "headline": message if message.startswith(kind) else f"{kind}: {message}".strip(": "),
            "where": scrubbed(error.get("where"), 500),
            "traceback": traceback if traceback != previous_traceback else "",
            "same_traceback": bool(traceback) and traceback == previous_traceback,
        }
    rows, more_rows = _rows(check_result.check, case) if shown else ([], 0)
    # on paper: the first values off; what it leaves out of them is counted, never dropped silently
    off_rows = [row for row in rows if row["state"] == "off"]
    for number, row in enumerate(off_rows):
        row["printed"] = number < PRINTED_ROWS
    print_more = max(0, len(off_rows) - PRINTED_ROWS) + more_rows
    parts_at = None
    if shown:
        names = element_names(
            check_result.check, tuple(case.get("shape") or (len(case["expected"]),))
        )
        off = set(case["off"])
        parts_at = next((index for index, name in enumerate(names) if name in off), None)
    chart = (
        curve_chart(
            case["observed"],
            case["expected"],
            case["compared"],
            measure.axis,
            measure.step,
            parts_at,
        )
        if shown and measure.curve
        else None
    )
    hidden_number = case["case"].removeprefix("hidden-")
    return {
        "label": f"hidden case {hidden_number}"
        if case["hidden"]
        else f"{case['case'].replace('-', ' ')} case",
        "hidden": case["hidden"],
        "status": case["status"],
        "status_word": STATUS_WORDS.get(case["status"], case["status"]),
        "message": scrubbed(case["message"], MESSAGE_CHARS),
        "inputs": inputs.get((check_result.check.id, case["case"])),
        "max_abs": error_size(case["max_abs_error"]),
        # over the elements whose expected value is not 0; "—" where every one is 0
        "max_rel": error_size(_largest_relative(case))
        if shown
        else error_size(case["max_rel_error"]),
        "off": case["off"],
        "values_shown": shown,
        "rows": rows,
        "more_rows": more_rows,
        "print_more": print_more,
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
            inputs[(check.id, case.id)] = {
                name: _vector(values) for name, values in case.inputs.items()
            }
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


def _hidden_line(cases: list[dict], reasons: list[str]) -> dict | None:
    """A check's hidden cases in one line, each by its number and verdict, with the fixed reason
    said once where every one that did not pass has the same."""
    if not cases:
        return None
    failing = {reason for case, reason in zip(cases, reasons) if case["status"] != "passed"}
    once = len(failing) == 1
    items = [
        {
            "number": case["label"].removeprefix("hidden case "),
            "status": case["status"],
            "status_word": case["status_word"],
            "reason": "" if once or case["status"] == "passed" else reason,
        }
        for case, reason in zip(cases, reasons)
    ]
    return {"cases": items, "reason": failing.pop() if once else ""}


FREEFORM_WORDS = {"passed": "right", "failed": "wrong", "error": "not found"}


def check_context(
    check_result: CheckResult, inputs: dict | None = None, redacted: bool = True
) -> dict:
    """One check as a page draws it; `redacted`: `check_result` is the student's copy, whose hidden
    cases hold their fixed reason as their message."""
    check = check_result.check
    withheld = check_result.withheld
    freeform = check_result.mode == "free-form"
    withholding = dict.fromkeys(f.rule for f in check_result.rule_findings if f.withholds)
    withheld_summary = clip(
        f"no points: its calls broke the rule {', '.join(withholding)} (see Rules of the assignment)",
        MESSAGE_CHARS,
    )
    cases, reasons, previous = [], [], None
    for verdict in check_result.verdicts:
        # whether compared values came back nan/inf: a fact about the submission, not a hidden value
        nonfinite = verdict.observed is not None and any(
            compared and not math.isfinite(got) and math.isfinite(want)
            for got, want, compared in zip(verdict.observed, verdict.expected, verdict.compared)
        )
        case = _case(check_result, verdict.to_dict(), inputs or {}, previous, nonfinite)
        previous = clip((verdict.error or {}).get("traceback"), TRACEBACK_CHARS) or previous
        cases.append(case)
        reasons.append(scrubbed(verdict.message, 200) if redacted else hidden_reason(verdict))
    # the first case that did not pass is the check's lead: shown in full, on screen and on paper
    lead = next((case for case in cases if case["status"] != "passed"), None)
    for case in cases:
        case["lead"] = case is lead
    hidden = [(case, reason) for case, reason in zip(cases, reasons) if case["hidden"]]
    status = "failed" if withheld else check_result.status
    return {
        "id": check.id,
        "description": check.message,
        "call": check_result.call,
        "quantity": check.quantity,
        "tolerance": str(check.tolerance),
        "visibility": check.visibility,
        # a check whose numbers are right but whose calls broke a withholding rule is not passed
        "status": status,
        "status_word": "withheld"
        if withheld
        else FREEFORM_WORDS.get(status, status)
        if freeform
        else STATUS_WORDS.get(status, status),
        "passed": check_result.passed and not withheld,
        "score": f"{check_result.score:g}",
        "points": f"{check.points:g}",
        "points_value": check.points,
        "summary": withheld_summary
        if withheld
        else ""
        if check_result.passed
        else clip(check_result.message, MESSAGE_CHARS),
        "diagnoses": [_diagnosis(d) for d in check_result.diagnoses],
        "diagnosis_note": ""
        if check_result.passed
        else clip(getattr(check_result, "diagnosis_note", ""), MESSAGE_CHARS),
        "cases": cases,
        # drawn as blocks: the public cases, and a hidden one with values (the instructor's) as lead
        "blocks": [c for c in cases if not c["hidden"] or (c["lead"] and c["values_shown"])],
        "hidden_line": _hidden_line([c for c, _ in hidden], [r for _, r in hidden]),
        # the instructor's other hidden cases, in full behind the line that lists them
        "hidden_in_full": [c for c, _ in hidden if c["values_shown"] and not c["lead"]],
        "freeform": freeform,
        "observations": [
            _observation(o) for o in check_result.observations if o.status != "not-found"
        ]
        if freeform
        else [],
        "rules": [_rule(f.to_dict()) for f in getattr(check_result, "rule_findings", ())[:4]],
        "withheld": withheld,
        "folded": False,  # its values behind a fold: its cause is shown in full above (report_context)
        "cause": None,  # the number of its cause on the page (report_context sets it)
        "cause_kind": "",
        "cause_title": "",
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
    causes = causes_of(result)
    checks = {c.check.id: check_context(c, inputs, not instructor) for c in result.checks}
    for number, cause in enumerate(causes, start=1):
        for check_id in cause.checks:
            checks[check_id] |= {
                "cause": number,
                "cause_kind": cause.kind,
                "cause_title": clip(cause.title, MESSAGE_CHARS),
            }
    parts = []
    for part in dict.fromkeys(c.check.part for c in result.checks):
        experiments = []
        for experiment in sorted(
            {c.check.experiment for c in result.checks if c.check.part == part}
        ):
            members = [
                c
                for c in result.checks
                if c.check.part == part and c.check.experiment == experiment
            ]
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
        parts.append(
            {
                "id": part,
                "title": spec.part(part).title,
                "score": f"{got:g}",
                "points": f"{possible:g}",
                "full": got == possible,
                "experiments": experiments,
            }
        )
    _fold(check for part in parts for e in part["experiments"] for check in e["checks"])
    diagnoses: dict[str, dict] = {}
    for check_result in result.checks:
        for diagnosis in check_result.diagnoses:
            entry = diagnoses.setdefault(diagnosis.id, {**_diagnosis(diagnosis), "checks": []})
            entry["checks"].append(check_result.check.id)
    withheld = (
        result.ran_hidden and not instructor
    )  # the student's copy left out what ran on hidden cases
    return {
        "title": spec.title,
        "id": printable(result.submission.id),
        "kind": result.submission.kind,
        "instructor": instructor,
        "ran_hidden": result.ran_hidden,
        "student_page": PAGES["student"]
        if instructor
        else None,  # the student's page never points at the instructor's
        "score": f"{result.score:g}",
        "max_score": f"{result.max_score:g}",
        "percent": round(100 * result.score / result.max_score) if result.max_score else 0,
        "manual_points": f"{result.manual_points:g}",
        "parts": parts,
        "experiment_scores": [
            {
                "number": n,
                "title": spec.experiment_title(n),
                "score": f"{got:g}",
                "points": f"{possible:g}",
                "full": got == possible,
            }
            for n, (got, possible) in result.experiment_scores().items()
        ],
        "failed": [checks[c.check.id] for c in result.checks if not c.passed or c.withheld],
        "causes": [
            _cause(number, cause)
            | {
                "every_check": len(cause.checks) == len(result.checks) > 1,
                # a cause of almost every check is said by the few it leaves out
                "all_but": _all_but(cause.checks, [c.check.id for c in result.checks]),
            }
            for number, cause in enumerate(causes, start=1)
        ],
        "none_ran": len(causes) == 1
        and causes[0].kind in ("load", "missing")
        and len(causes[0].checks) == len(result.checks),
        "diagnoses": list(diagnoses.values()),
        "load": _load(result),
        "problems": [clip(p, MESSAGE_CHARS) for p in result.problems],
        # what a free-form run found that no check's card shows (a check's own are on its card)
        "observations": [
            _observation(o) for o in getattr(result, "observations", ()) if o.check_id not in checks
        ][:OBSERVATIONS],
        "freeform": any(c.mode == "free-form" for c in result.checks),
        "questions": [
            {
                "id": q.id,
                "title": q.title,
                "points": f"{q.points:g}",
                "answer": clip(result.answers.get(q.id), ANSWER_CHARS) or None,
            }
            for q in result.questions
        ],
        "written": _written(result),
        "rules": [_rule(entry) for entry in result.rule_summary],
        "withhold_printed": withheld,
        "stdout": clip(result.stdout, PRINTED_CHARS),
        "stderr": clip(result.stderr, PRINTED_CHARS),
        "seconds": "" if withheld else f"{result.seconds:.1f}",
    }


ALL_BUT = 4  # a cause's list of checks is "all but" these few when that is shorter


def _all_but(of_cause, every) -> list[str]:
    others = [check for check in every if check not in set(of_cause)]
    return others if 0 < len(others) <= ALL_BUT and len(others) < len(of_cause) else []


def _fold(checks) -> None:
    """Fold the values of a failing check whose cause an earlier check on the page already shows in
    full: each cause's evidence once.  The first failing check is never folded."""
    shown: set[int] = set()
    for check in checks:
        unfound = check["freeform"] and check["status"] == "error"  # listed in a line, not drawn
        if check["passed"] or check["cause_kind"] in ("load", "missing") or unfound:
            continue
        check["folded"] = check["cause"] is not None and check["cause"] in shown
        shown.add(check["cause"])


# where the grader looks for written answers (grader.engine.answers), in the student's words
ANSWERS_WHERE = (
    "a markdown cell of the notebook under a heading that names the question, "
    "as in “## Question {id}”, or an answers.md beside the code with such headings"
)


def _written(result: SubmissionResult) -> dict | None:
    """The written answers as the run found them: none where the spec asks for none."""
    if not result.questions:
        return None
    missing = [q for q in result.questions if not (result.answers.get(q.id) or "").strip()]
    return {
        "found": len(result.questions) - len(missing),
        "questions": len(result.questions),
        "points": format_number(sum(q.points for q in result.questions), "g"),
        "missing": [q.id for q in missing],
        "missing_points": format_number(sum(q.points for q in missing), "g"),
        "where": ANSWERS_WHERE.format(id=result.questions[0].id),
    }


def _observation(observation) -> dict:
    """One quantity found in a free-form run, as the page lists it."""

    def shown(values) -> str:
        return ", ".join(format_number(v) for v in list(values)[:8]) + (
            ", …" if len(values) > 8 else ""
        )

    return {
        "where": scrubbed(observation.source, 300),
        "quantity": clip(observation.quantity, 200),
        "check": clip(observation.check_id, 200),
        "status": {"right": "right", "wrong": "wrong", "not-found": "not found"}.get(
            observation.status, clip(observation.status, 50)
        ),
        "mistakes": [clip(d, 200) for d in observation.diagnoses],
        "observed": shown(observation.observed),
        "expected": shown(observation.expected),
        "precision": clip(observation.precision, 100),
        "note": clip(observation.note, MESSAGE_CHARS),
    }


def _cause(number: int, cause) -> dict:
    return {
        "number": number,
        "kind": cause.kind,
        "title": clip(cause.title, MESSAGE_CHARS),
        "summary": clip(cause.summary, MESSAGE_CHARS),
        "advice": clip(cause.advice, 2 * MESSAGE_CHARS),
        "formula": clip(cause.formula, MESSAGE_CHARS),
        "detail": clip(cause.detail, 2 * MESSAGE_CHARS),
        "checks": list(cause.checks),
        "points": f"{cause.points:g}",
    }


def loaded(result: SubmissionResult) -> bool:
    """Whether the submission loaded at all: its files ran and at least one entry point was found
    (one call was made, or could have been)."""
    if result.load.status != "ok":
        return False
    made = any((v.error or {}).get("type") != "Missing" for c in result.checks for v in c.verdicts)
    return bool(result.load.entry_points) or made


def read_free_form(result: SubmissionResult) -> bool:
    """Whether the hand-in was graded free-form: it defines no entry point of the template, and the
    grader read what its scripts computed and printed instead (grader.engine.freeform)."""
    return any(c.mode == "free-form" for c in result.checks)


def run_status(result: SubmissionResult) -> str:
    """How the grader got at a submission's numbers, in a few words: "graded" (through the
    template's functions), "read free-form", or "did not load: " and why."""
    if loaded(result):
        return "graded"
    return (
        "read free-form" if read_free_form(result) else f"did not load: {load_failure_kind(result)}"
    )


def load_failure(result: SubmissionResult) -> str:
    """Why a submission did not load, in one line: the words of its cause (grader.outputs.causes)."""
    cause = next((c for c in causes_of(result) if c.kind in ("load", "missing", "free-form")), None)
    return clip(cause.title if cause else "no entry point found", 300)


def load_failure_kind(result: SubmissionResult) -> str:
    """What kind of failure kept a submission from loading, to group students by: a load status,
    the type of the first error raised while loading, or no entry point."""
    if result.load.status != "ok":
        return f"loading {STATUS_WORDS.get(result.load.status, result.load.status)}"
    if result.load.problems:
        return f"{clip(str(result.load.problems[0].get('type') or 'error'), 200)} while loading"
    return "no entry point found"


def load_failure_detail(result: SubmissionResult) -> str:
    """Where and how a submission failed to load, without the kind its group already says: the
    file, cell and line of the first error and its last line, or what the grader was told."""
    if result.load.problems:
        problem = result.load.problems[0]
        message = scrubbed(problem.get("message"), 2000)
        line = re.search(r"\bline (\d+)", message)
        kind = scrubbed(problem.get("type"), 100)
        last = next((t.strip() for t in reversed(message.splitlines()) if t.strip()), "")
        where = ", ".join(
            part
            for part in (
                scrubbed(str(problem.get("file") or ""), 200),
                f"cell {problem['cell']}" if problem.get("cell") is not None else "",
                f"line {line.group(1)}" if line else "",
            )
            if part
        )
        return clip(f"{where}: {last.removeprefix(f'{kind}: ')}".strip(": "), 300)
    if result.load.status != "ok":
        return clip(scrubbed(result.load.message, 300), 300)
    return load_failure(result)


_LISTED = re.compile(r"…(?:(?:,\s*|\s+and\s+)…)+(?:\s+more)?")


def _blanked(message: str) -> str:
    """A failure message as `_pattern` reads it: without folders and the list of functions defined."""
    return without_folders(message.split("; the submission defines ")[0])


def _pattern(message: str, check=None) -> str:
    """A failure message with its details blanked (numbers, folders, the names of elements, the
    list of functions a submission defines), so one cause groups across students and checks."""
    message = _blanked(message)
    words = check.measure.words if check is not None and check.measure is not None else ""
    if words:  # the quantity's own name may hold element names ("dE/dw1..dE/dw8"): kept whole
        message = message.replace(words, "\0")
    names = sorted(
        (check.measure.elements if check is not None and check.measure is not None else ()),
        key=len,
        reverse=True,
    )
    for name in names:
        message = re.sub(rf"(?<![\w/]){re.escape(name)}(?!\w)", "…", message)
    if check is not None and check.measure is not None:
        message = re.sub(rf"(?<!\w){re.escape(check.measure.member)}\[[^\]]*\]", "…", message)
    return _LISTED.sub("…", _NUMBER.sub("…", message)).replace("\0", words)


def _representative(members: list[tuple[str, str, str]]) -> dict:
    """One failure as a student of it saw it, in full: the most frequent of the messages grouped
    under it ((message, student, check) each), and whose it is where the others differ."""
    counts = Counter(message for message, _, _ in members)
    message, _ = counts.most_common(1)[0]
    _, student, check = next(member for member in members if member[0] == message)
    return {"text": message, "of": "" if len(counts) == 1 else f"{student}'s {check}"}


def _who(result: SubmissionResult) -> dict:
    """A student as the dashboard's lists name one: the id and the links to both views."""
    folder = quote(result.submission.id, safe="")
    return {
        "id": printable(result.submission.id),
        "key": folder,  # names the student's row to the gradebook's redraw
        "href": f"{folder}/{PAGES['instructor']}",
        "student_href": f"{folder}/{PAGES['student']}",
    }


def _kind(diagnosis) -> str:
    return getattr(diagnosis, "kind", "misconception")  # misconception | root-cause | consequence


def mistakes_of(result: SubmissionResult) -> list:
    """The catalogued mistakes named in a submission, once each; a root-cause finding (where the
    bug is) is not a mistake of its own and stands here only when no mistake was named."""
    found = {d.id: d for c in result.checks for d in c.diagnoses}
    named = [d for d in found.values() if _kind(d) == "misconception"]
    return named or [d for d in found.values() if _kind(d) == "root-cause"]


NAMED = 6  # students named in a row of the dashboard's lists; the others behind "and N more"


def _listed(students: list[dict]) -> dict:
    return {"shown": students[:NAMED], "more": students[NAMED:]}


def _grouped(entries: list[tuple[str, str, dict]]) -> list[dict]:
    """(reason, detail, student) into one group per reason: the detail said once where every
    student of the group shares it, else beside each student."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    for reason, detail, student in entries:
        groups.setdefault(reason, []).append((detail, student))
    said = []
    for reason, members in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        details = {detail for detail, _ in members}
        shared = details.pop() if len(details) == 1 else None
        said.append(
            {
                "reason": reason,
                "detail": shared or "",
                "students": [
                    {**student, "detail": "" if shared is not None else detail}
                    for detail, student in members
                ],
            }
        )
    return said


FOUND = {"right": "right", "wrong": "wrong", "not-found": "not found"}


def _found(result: SubmissionResult) -> dict[str, list[dict]]:
    """Each quantity the grader looked for in a hand-in read free-form, once: wrong where any of
    its observations is (with the mistakes that reproduce it), else right where any is, else not
    found."""
    titles = {d.id: d.title for c in result.checks for d in c.diagnoses}
    seen = result.observations or tuple(o for c in result.checks for o in c.observations)
    quantities: dict[str, tuple[set, dict]] = {}
    for observation in seen:
        statuses, mistakes = quantities.setdefault(clip(observation.quantity, 200), (set(), {}))
        statuses.add(observation.status)
        for mistake in observation.diagnoses:
            mistakes.setdefault(mistake, clip(titles.get(mistake, mistake), 200))
    found: dict[str, list[dict]] = {status: [] for status in FOUND}
    for quantity, (statuses, mistakes) in quantities.items():
        status = "wrong" if "wrong" in statuses else "right" if "right" in statuses else "not-found"
        found[status].append({"quantity": quantity, "mistakes": list(mistakes.values())})
    return found


def _free_forms(results: list[SubmissionResult]) -> list[dict]:
    """The hand-ins read free-form, those whose findings are the same as one entry: what was found
    of the homework, what their functions look like, and how their runs ended."""
    groups: dict[str, dict] = {}
    for result in results:
        found = _found(result)
        run = [
            p.removeprefix("free-form run: ") for p in result.problems if p.startswith("free-form")
        ]
        entry = {
            "score": f"{result.score:g}",
            "max_score": f"{result.max_score:g}",
            "right": found["right"],
            "wrong": found["wrong"],
            "not_found": found["not-found"],
            "mistakes": list(dict.fromkeys(m for q in found["wrong"] for m in q["mistakes"])),
            "looks_like": [clip(hint, 200) for hint in port_hints(result.checks)[:4]],
            "run": clip("; ".join(run), MESSAGE_CHARS),
        }
        key = repr(sorted(entry.items()))
        groups.setdefault(key, {**entry, "students": []})["students"].append(_who(result))
    return list(groups.values())


def _to_fix(result: SubmissionResult, causes: list) -> dict:
    """A row's first thing to fix, in a line: the first cause of a graded hand-in and what it
    costs (a rule by its name: its words are said once, under Rules), or how it was read."""
    if read_free_form(result):
        found = _found(result)
        words = ", ".join(f"{len(found[s])} {FOUND[s]}" for s in FOUND if found[s])
        return {
            "text": f"Read free-form: {words or 'nothing found'}",
            "anchor": "free-form",
        }
    if not loaded(result):
        return {"text": f"Did not load: {load_failure_kind(result)}", "anchor": "not-loaded"}
    if not causes:
        return {"text": "", "anchor": ""}
    first, more, anchor = causes[0], len(causes) - 1, ""
    title = clip(first.title, MESSAGE_CHARS)
    if first.kind == "rule":
        rule = next(
            (f.rule for c in result.checks if c.check.id in first.checks for f in c.rule_findings
             if f.withholds),
            "",
        )  # fmt: skip
        title, anchor = f"Rule {rule} broken: its checks give no points", f"rule-{rule}"
    checks = f"{len(first.checks)} check{'s' if len(first.checks) != 1 else ''}"
    points = f"{first.points:g} point{'s' if first.points != 1 else ''}"
    others = f"; +{more} more cause{'s' if more != 1 else ''}" if more else ""
    return {"text": f"{title.rstrip('.')} ({checks}, {points}{others})", "anchor": anchor}


def dashboard_context(results: list[SubmissionResult], spec: Spec) -> dict:
    """The class dashboard: one row per student, and each thing said of several students once,
    with the students under it.  Failures are read from each student's own view (grader.outputs.
    views), so a hidden case is said there as its verdict and reason, never with its values."""
    totals = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0)
    parts = tuple(dict.fromkeys(part for result in results for part in result.parts))
    ran = [r for r in results if loaded(r)]
    free = [r for r in results if not loaded(r) and read_free_form(r)]
    not_loaded = [r for r in results if not loaded(r) and not read_free_form(r)]
    checks, everyone = [], []
    for check in spec.checks:
        # the template's checks as its functions were called: a free-form hand-in, and one that
        # never loaded, were not asked them, and are not in the rate
        tried = [c for r in ran for c in r.checks if c.check.id == check.id]
        passed = sum(c.passed for c in tried)
        if tried and passed == len(tried):
            everyone.append(check.id)
            continue
        checks.append(
            {
                "id": check.id,
                "description": check.message,
                "passed": passed,
                "total": len(tried),
                "percent": round(100 * passed / len(tried)) if tried else 0,
            }
        )
    checks.sort(key=lambda c: (c["passed"] / c["total"] if c["total"] else 1.0, c["id"]))

    failures: dict[str, dict] = {}
    for result in ran:
        for check_result in student_view(result).checks:
            if check_result.passed:
                continue
            message = clip(check_result.message, MESSAGE_CHARS)
            entry = failures.setdefault(
                _pattern(message, check_result.check),
                {"messages": [], "students": {}, "checks": Counter()},
            )
            entry["messages"].append(
                (_blanked(message), printable(result.submission.id), check_result.check.id)
            )
            entry["students"].setdefault(result.submission.id, _who(result))
            entry["checks"][check_result.check.id] += 1
    frequent = sorted(failures.items(), key=lambda item: (-len(item[1]["students"]), item[0]))

    mistakes: dict[str, dict] = {}
    for result in results:
        for check_result in result.checks:
            for diagnosis in check_result.diagnoses:
                if _kind(diagnosis) != "misconception":
                    continue  # where the bug is, or what follows from it: not a mistake of its own
                entry = mistakes.setdefault(
                    diagnosis.id,
                    {"id": diagnosis.id, "title": diagnosis.title, "students": {}, "checks": []},
                )
                entry["students"].setdefault(result.submission.id, _who(result))
                if check_result.check.id not in entry["checks"]:
                    entry["checks"].append(check_result.check.id)
    rules: dict[str, dict] = {}
    for result in results:
        for entry in result.rule_summary:
            row = rules.setdefault(
                entry["rule"],
                {
                    "rule": entry["rule"],
                    "outcome": entry["outcome"],
                    "message": clip(entry["message"], MESSAGE_CHARS),
                    "broken": [],
                    "unverifiable": [],
                },
            )
            row[entry["status"]].append(_who(result))
    timed_out = []
    for result in results:
        if result.load.status == "timeout" and not read_free_form(result):
            timed_out.append(
                ("while loading", clip(without_folders(result.load.message), MESSAGE_CHARS),
                 {**_who(result), "checks": []})
            )  # fmt: skip
            continue
        stuck = [c for c in result.checks if c.status == "timeout"]
        if stuck:
            first = next(v for v in stuck[0].verdicts if v.status == "timeout")
            where = f"in {len(stuck)} check{'s' if len(stuck) != 1 else ''}"
            timed_out.append(
                (where, clip(without_folders(first.message), MESSAGE_CHARS),
                 {**_who(result), "checks": [c.check.id for c in stuck]})
            )  # fmt: skip
    students = []
    for result in results:
        causes = causes_of(result)
        terms = [run_status(result), *(d.title for d in mistakes_of(result))]
        terms += [d.id for d in mistakes_of(result)]
        terms += [f"rule {entry['rule']}" for entry in result.rule_summary]
        terms += ["timed out"] if any(c.status == "timeout" for c in result.checks) else []
        students.append(
            {
                **_who(result),
                "score": result.score,
                "max_score": result.max_score,
                "parts": [dict(zip(("score", "max"), result.part_score(part))) for part in parts],
                "status": run_status(result),
                "fix": _to_fix(result, causes),
                "terms": clip(" · ".join(dict.fromkeys(terms)), MESSAGE_CHARS),
                "renaming": result.submission.renaming,
            }
        )
    hidden_counts = sorted({c.hidden_cases for c in spec.checks})
    return {
        "title": spec.title,
        "count": len(results),
        "loaded": len(ran),
        "free_form": len(free),
        "not_loaded_count": len(not_loaded),
        "max_score": f"{max_score:g}",
        "mean": f"{statistics.fmean(totals):.1f}" if totals else "—",
        "median": f"{statistics.median(totals):g}" if totals else "—",
        "full_marks": sum(1 for r in results if r.max_score and r.score == r.max_score),
        "ran_hidden": any(r.ran_hidden for r in results),
        "hidden_cases": " or ".join(f"{n:g}" for n in hidden_counts),
        "histogram": histogram(totals, max_score),
        "checks": checks,
        "passed_by_all": everyone,
        "free_forms": _free_forms(free),
        "not_loaded": _grouped(
            [(load_failure_kind(r), load_failure_detail(r), _who(r)) for r in not_loaded]
        ),
        "timed_out": _grouped(
            [(f"{message}", where, student) for where, message, student in timed_out]
        ),
        "timed_out_count": len(timed_out),
        "failures": [
            {
                "message": _representative(entry["messages"]),
                "count": len(entry["students"]),
                "students": _listed(list(entry["students"].values())),
                "checks": [c for c, _ in entry["checks"].most_common()],
            }
            for pattern, entry in frequent[:FAILURE_MESSAGES]
        ],
        "more_failures": max(0, len(frequent) - FAILURE_MESSAGES),
        "mistakes": sorted(
            ({**m, "students": list(m["students"].values())} for m in mistakes.values()),
            key=lambda m: (-len(m["students"]), m["title"]),
        ),
        "students": students,
        "questions": len(spec.questions),
        "parts": [{"id": part, "label": spec.part(part).label} for part in parts],
        "rules": sorted(rules.values(), key=lambda row: row["rule"]),
        "rule_violations": sum(
            1 for r in results if any(e["outcome"] == "withhold" for e in r.rule_summary)
        ),
        "rule_flags": sum(
            1 for r in results if any(e["outcome"] == "flag" for e in r.rule_summary)
        ),
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["points"] = lambda value: format_number(value, "g")
    return environment


def _script(name: str) -> dict:
    """An inline script from templates/report/ and its hash, which the page's Content-Security-Policy allows alone."""
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
    return {"source": Markup(source), "hash": f"'sha256-{digest}'"}


def render_report(result: SubmissionResult, spec: Spec, book: CaseBook | None = None) -> str:
    """The page of `result`'s view: pass `grader.outputs.views.student_view(result)` for the student's."""
    return (
        _environment()
        .get_template("report.html")
        .render(report=report_context(result, spec, book), script=None)
    )


def render_dashboard(results: list[SubmissionResult], spec: Spec) -> str:
    return (
        _environment()
        .get_template("dashboard.html")
        .render(board=dashboard_context(results, spec), script=_script("sort.js"))
    )


def paragraph_key(diagnosis) -> tuple[str, str]:
    """What makes a mistake's paragraph the same one: its id and its words (a diagnosis that speaks
    of one check's own case says something else at each)."""
    return (diagnosis.id, diagnosis.explanation)


def check_fragment(check_result: CheckResult, explained: dict | None = None) -> str:
    """One check's feedback as an HTML fragment, for a results.json test `output` (output_format "html");
    results.json is a student view, so `check_result` comes from the student's copy.  `explained`:
    where an earlier test explains a mistake's paragraph (by `paragraph_key`); such a mistake is
    named here, not explained again."""
    check = check_context(check_result, redacted=True)
    for diagnosis, source in zip(check["diagnoses"], check_result.diagnoses):
        diagnosis["explained_at"] = (explained or {}).get(paragraph_key(source), "")
    return _environment().get_template("gradescope_check.html").render(check=check)


def paragraphs(lines: list[str]) -> str:
    """Plain lines as escaped HTML paragraphs."""
    return "".join(f"<p>{Markup.escape(clip(line, MESSAGE_CHARS))}</p>" for line in lines)


def failure_reason(error: BaseException, reveal: bool) -> str:
    """Why the grader could not draw or write something.  An exception's text may quote
    what a submission sent, so the student's view names only its type."""
    return clip(
        f"{type(error).__name__}: {error}" if reveal else type(error).__name__, MESSAGE_CHARS
    )


def unrendered_page(submission_id: str, reason: str) -> str:
    """The page of a report the grader could not draw: the id and the reason, nothing else to go wrong."""
    try:
        return _environment().get_template("unrendered.html").render(id=submission_id, error=reason)
    except Exception:  # noqa: BLE001 - even the template is unusable: the same page by hand
        return (
            "<!doctype html><meta charset=utf-8><title>report not drawn</title>"
            f"<h1>{Markup.escape(submission_id)}</h1>"
            f"<p>The grader could not draw this report ({Markup.escape(reason)}).</p>"
        )


def render_page(template: str, **context) -> str:
    """A page of templates/report/ drawn from plain data (the course tools' own pages)."""
    return _environment().get_template(template).render(script=None, **context)


def write_report(
    result: SubmissionResult, spec: Spec, folder: Path, book: CaseBook | None = None
) -> Path:
    """The page of `result`'s view, `folder/report.html` (the student's) or `folder/instructor.html`;
    a page that could not be drawn says why rather than stopping the batch."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PAGES["student" if result.view == "student" else "instructor"]
    try:
        page = render_report(result, spec, book)
    except Exception as error:  # noqa: BLE001 - one report must not stop the batch
        page = unrendered_page(
            result.submission.id, failure_reason(error, result.view != "student")
        )
    path.write_text(page, encoding="utf-8")
    return path


def write_dashboard(results: list[SubmissionResult], spec: Spec, out: Path) -> Path:
    """`out/index.html`; if the dashboard cannot be drawn, a plain list of the reports says why."""
    path = out / DASHBOARD_FILE
    try:
        page = render_dashboard(results, spec)
    except Exception as error:  # noqa: BLE001 - the class's page is written whatever one result holds
        links = "".join(
            f'<li><a href="{quote(r.submission.id, safe="")}/report.html">{Markup.escape(r.submission.id)}</a></li>'
            for r in results
        )
        page = (
            f"<!doctype html><meta charset=utf-8><title>Class dashboard not drawn</title>"
            f"<h1>Class dashboard</h1>"
            f"<p>The grader could not draw the dashboard "
            f"({Markup.escape(failure_reason(error, True))}); "
            f"grades.csv holds the totals.</p><ul>{links}</ul>"
        )
    path.write_text(page, encoding="utf-8")
    return path


GRADEBOOK_START, GRADEBOOK_END = (
    "<!-- gradebook -->",
    "<!-- /gradebook -->",
)  # the region of a page the gradebook redraws


def _spliced(page: str, fragment: str) -> str | None:
    """`page` with its gradebook region replaced by `fragment`; None if it has none (a page not drawn).
    The first markers are the template's own: a submission's text is escaped, so it holds none."""
    head, found, rest = page.partition(GRADEBOOK_START)
    _, closed, tail = rest.partition(GRADEBOOK_END)
    return f"{head}{GRADEBOOK_START}{fragment}{GRADEBOOK_END}{tail}" if found and closed else None


def _redraw(path: Path, fragment: str) -> None:
    """Replace the gradebook region of the page at `path`, whole (a reader never sees half a page)."""
    try:
        page = _spliced(path.read_text(encoding="utf-8"), fragment)
    except OSError:
        return  # a page that was not written: nothing to redraw
    if page is not None:
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)


_REGION = re.compile(r"<!-- gradebook:([\w.~%:-]+) -->.*?<!-- /gradebook:\1 -->", re.DOTALL)


def _spliced_regions(page: str, fragments: dict[str, str]) -> str:
    """`page` with each of its named gradebook regions (`<!-- gradebook:NAME -->`, the dashboard's)
    replaced by the fragment of that name; a region without one is left as it is.  The markers
    are the template's own: a submission's text is escaped, so it holds none."""

    def redrawn(match: re.Match) -> str:
        name = match.group(1)
        if name not in fragments:
            return match.group(0)
        return f"<!-- gradebook:{name} -->{fragments[name]}<!-- /gradebook:{name} -->"

    return _REGION.sub(redrawn, page)


def _redraw_regions(path: Path, fragments: dict[str, str]) -> None:
    """Replace the named gradebook regions of the page at `path`, whole."""
    try:
        page = path.read_text(encoding="utf-8")
    except OSError:
        return  # a page that was not written: nothing to redraw
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(_spliced_regions(page, fragments), encoding="utf-8")
    partial.replace(path)


def signed(value: float) -> str:
    """A change of points: +2, -0.5, 0."""
    return ("+" if value > 0 else "") + format_number(value, "g")


def _moves(movement) -> str:
    return ", ".join(
        f"{change.check} {format_number(change.before, 'g')} → {format_number(change.after, 'g')}"
        for change in movement.checks
    )


def gradebook_context(book, assignment: str) -> dict:
    """The dashboard's written marks, totals and movers, from the gradebook alone; each row is
    keyed by its student's folder name, as the dashboard's table names it."""
    runs = book.runs(assignment)
    moved = {m.student: m for m in book.movements(assignment)} if len(runs) > 1 else {}
    questions = book.questions(assignment)
    rows = []
    for total in book.totals(assignment):
        movement = moved.get(total.student)
        written = None if total.written is None and total.questions else total.written or 0
        rows.append(
            {
                "key": quote(total.student, safe=""),
                "written": "not marked"
                if written is None
                else f"{format_number(written, 'g')} / {format_number(total.written_max, 'g')}",
                "written_value": -1 if written is None else written,
                "marked": total.marked,
                "questions": total.questions,
                "total": f"{format_number(total.total, 'g')} / {format_number(total.maximum, 'g')}"
                if total.fully_marked
                else "not marked",
                "total_value": total.total if total.fully_marked else -1,
                "moved": signed(movement.delta) if movement else "",
            }
        )
    movers = [
        {
            "id": printable(m.student),
            "href": f"{quote(m.student, safe='')}/{PAGES['instructor']}",
            "before": format_number(m.before, "g"),
            "after": format_number(m.after, "g"),
            "delta": signed(m.delta),
            "checks": clip(_moves(m), 600),
        }
        for m in moved.values()
    ]
    return {
        "rows": rows,
        "questions": len(questions),
        "written_max": sum(q.points for q in questions),
        "fully_marked": sum(1 for t in book.totals(assignment) if t.fully_marked),
        "moved": movers,
        "previous": runs[-2].id if len(runs) > 1 else None,
        "latest": runs[-1].id if runs else None,
    }


def student_marks_context(
    total, questions, marks: dict, instructor: bool, answered: set[str] | None = None
) -> dict:
    """One student's written marks and total, for their pages; the marker's name on the instructor's
    only.  `answered`: the questions the run found an answer to (None: every one)."""
    answered = {q.id for q in questions} if answered is None else answered
    listed = []
    for question in questions:
        mark = marks.get(question.id)
        listed.append(
            {
                "question": question.id,
                "max": format_number(question.points, "g"),
                "points": None if mark is None else format_number(mark.points, "g"),
                "answered": question.id in answered,
                "comment": clip(mark.comment, 4000) if mark else "",
                "marker": mark.marker if mark else "",
                "when": mark.when if mark else "",
                "revision": mark.revision if mark else 0,
            }
        )
    # nothing to mark: no answer was found and none is marked (the page's top says so)
    nothing = bool(questions) and not answered and not total.marked
    return {
        "instructor": instructor,
        "written": None
        if total.written is None and total.questions
        else format_number(total.written or 0, "g"),
        "written_max": format_number(total.written_max, "g"),
        "marked": total.marked,
        "questions": total.questions,
        "complete": total.fully_marked,
        "nothing_to_mark": nothing,
        "total": None if not total.fully_marked else format_number(total.total, "g"),
        "so_far": format_number(total.total_so_far, "g"),
        "maximum": format_number(total.maximum, "g"),
        "autograded": format_number(total.autograded, "g"),
        "autograded_max": format_number(total.autograded_max, "g"),
        "marks": [] if nothing else listed,
    }


def refresh_gradebook_views(out: Path, book, assignment: str) -> None:
    """Redraw, from the gradebook, the written marks and totals of the dashboard and of each
    student's two pages."""
    macros = _environment().get_template("_gradebook.html").module
    board = gradebook_context(book, assignment)
    regions = {
        "progress": str(macros.class_progress(board)),
        "moved": str(macros.class_moved(board)),
    }
    regions |= {f"row:{row['key']}": str(macros.row_marks(row, board)) for row in board["rows"]}
    _redraw_regions(out / DASHBOARD_FILE, regions)
    questions = book.questions(assignment)
    marks: dict[str, dict] = {}
    for mark in book.marks(assignment):
        marks.setdefault(mark.student, {})[mark.question] = mark
    answered: dict[str, set[str]] = {}
    for question in questions:
        for row in book.answers(assignment, question.id):
            if row.text.strip():
                answered.setdefault(row.student, set()).add(question.id)
    for total in book.totals(assignment):
        folder = out / total.student
        if folder.parent != out or total.student in ("", ".", ".."):
            continue  # an id is a folder name of `out` or nothing
        for view, page in PAGES.items():
            entry = student_marks_context(
                total,
                questions,
                marks.get(total.student, {}),
                instructor=view == "instructor",
                answered=answered.get(total.student, set()),
            )
            _redraw(folder / page, str(macros.student_marks(entry)))

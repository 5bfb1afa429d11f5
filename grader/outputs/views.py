"""Views: the student's copy of a result, and a submission's text made safe to show.

A `SubmissionResult` holds everything the grader saw; the instructor's views
render it as it is.  Every student view (results.json, the self-check, the
student's page) renders `student_view(result)` instead: a copy in which each
hidden case keeps its verdict and one reason from `REASONS`, and nothing its
code wrote or chose there (values, shapes, error sizes, exception text,
which elements are off, what it printed, how long it took).  An absolute error
divided by a relative error gives back the expected value, so neither is kept.
A renderer cannot show what its input does not hold.

`printable` is the one filter for text that came from a submission on its way
to a terminal, a log, a page or a JSON file: escape sequences and control
characters would otherwise retitle a window, write the clipboard, clear the
screen or draw a fake "ALL CHECKS PASSED".
"""

from __future__ import annotations

import re
from dataclasses import replace

from grader.engine.compare import Verdict
from grader.engine.rules import HIDDEN_CASE, HIDDEN_EVIDENCE
from grader.engine.score import CheckResult, SubmissionResult

# The closed list of what a student is told about a hidden case that did not pass.
REASONS = {
    "wrong-value": "wrong value",
    "wrong-shape": "wrong shape or type",
    "exception": "raised an exception",
    "timeout": "timed out",
    "crash": "crashed",
    "missing": "not defined",
    "ambiguous": "defined more than once",
    "grader": "the grader failed; the course staff can see why",
}
PASSED = "matches the reference"
# error types the grader itself writes (grader.engine.execute, grader.engine.pipeline);
# anything else was raised by the code
_GRADER_ERRORS = {
    "Missing": "missing",
    "Ambiguous": "ambiguous",
    "Timeout": "timeout",
    "Crash": "crash",
    "LoadFailure": "crash",
    "SandboxFailure": "crash",
    "GraderFailure": "grader",
}

_ESCAPES = re.compile(
    r"""
      (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?             # CSI: cursor moves, clear screen, colours
    | (?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])       # OSC (title, clipboard), DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?         # ... up to their terminator, or the end
    | \x1b[ -/]*[0-~]?                              # any other escape
    """,
    re.VERBOSE,
)
# C0 but newline and tab, DEL, C1, the bidirectional overrides that reorder what is shown, lone surrogates
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


_FOLDERS = re.compile(
    r"(?<![\w.])(?:/[^/\s:,()'\"]+)+/"
)  # an absolute path's folders, not the "/" of dE/dw1


def without_folders(text: str) -> str:
    """A message without absolute folders: the sandbox's scratch folder means nothing to a reader."""
    return _FOLDERS.sub("", text)


def printable(text) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay; CR-LF is a newline)."""
    text = "" if text is None else str(text)
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))


def printable_data(tree):
    """A JSON-ready tree with every string in it (keys too) passed through `printable`."""
    if isinstance(tree, str):
        return printable(tree)
    if isinstance(tree, dict):
        return {
            printable(k) if isinstance(k, str) else k: printable_data(v) for k, v in tree.items()
        }
    if isinstance(tree, (list, tuple)):
        return [printable_data(item) for item in tree]
    return tree


def hidden_reason(verdict: Verdict) -> str:
    """The reason from `REASONS` for a hidden case's verdict; it reads the full verdict, and says only its kind."""
    if verdict.passed:
        return PASSED
    if verdict.status == "timeout":
        return REASONS["timeout"]
    if verdict.status == "failed":
        return REASONS["wrong-value" if verdict.observed is not None else "wrong-shape"]
    error = verdict.error or {}
    written_by_grader = "traceback" not in error or error.get("type") == "GraderFailure"
    return REASONS[
        _GRADER_ERRORS.get(str(error.get("type")), "exception")
        if written_by_grader
        else "exception"
    ]


def redacted_verdict(verdict: Verdict) -> Verdict:
    """A hidden case's verdict as a student may see it; a public case's unchanged."""
    if not verdict.hidden:
        return verdict
    return Verdict(
        case_id=verdict.case_id, hidden=True, status=verdict.status, message=hidden_reason(verdict)
    )


def student_check(result: CheckResult) -> CheckResult:
    # diagnoses keep the catalogue's own words: they are the grader's text, not the student's numbers;
    # a rule's finding on a hidden case keeps the rule and its message, not what the call did there
    findings = tuple(
        replace(f, evidence=HIDDEN_EVIDENCE) if f.case == HIDDEN_CASE else f
        for f in result.rule_findings
    )
    return replace(
        result, verdicts=tuple(redacted_verdict(v) for v in result.verdicts), rule_findings=findings
    )


def student_view(result: SubmissionResult) -> SubmissionResult:
    """The student's copy of `result`; the copy of a copy is the same."""
    if result.view == "student":
        return result
    ran_hidden = result.ran_hidden
    return replace(
        result,
        checks=tuple(student_check(c) for c in result.checks),
        # what it printed or how long it took on a hidden case can spell out that case's inputs
        stdout="" if ran_hidden else result.stdout,
        stderr="" if ran_hidden else result.stderr,
        seconds=0.0 if ran_hidden else result.seconds,
        view="student",
    )

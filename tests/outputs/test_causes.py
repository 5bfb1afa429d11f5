"""Feedback by cause: each failure said once, by what caused it, the first thing to fix first.

Read as a student would: the self-check in an 80-column terminal, and the pages
the real CLI wrote for the bundled hand-ins (graded once, with hidden cases),
measured in a real headless Chromium.  The counts a message states are
computed from the same run's grading.json, never typed in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.core.spec import load_spec, spec_path
from tests.conftest import SUBMISSIONS, grading, run_grader

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREEN = (1280, 900)  # a laptop's screen, in CSS pixels


def lost(record: dict) -> tuple[int, float]:
    """How many checks failed (or were withheld) and the points they cost."""
    failing = [c for c in record["checks"] if c["score"] < c["max_score"]]
    return len(failing), sum(c["max_score"] - c["score"] for c in failing)


def page_height(page: Path, tmp_path: Path) -> int:
    """The page's full height at the laptop's width, as Chromium lays it out.  The page's own policy
    forbids scripts, so a copy without it gets one line that writes the height into the title."""
    copy = tmp_path / f"measured-{page.parent.name}.html"
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
    copy.write_text(
        text + '<script>document.title = "HEIGHT=" + document.documentElement.scrollHeight</script>'
    )
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={SCREEN[0]},{SCREEN[1]}", "--dump-dom", copy.as_uri(),
    ]  # fmt: skip
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    return int(re.search(r"<title>HEIGHT=(\d+)", dom).group(1))


def test_the_self_check_of_the_classic_mistake_says_it_once_in_an_80_column_terminal(graded_class):
    _, out = graded_class
    completed = run_grader(
        "check", str(SUBMISSIONS / "hidden_delta_from_weight_grads.py"), env={"COLUMNS": "80"}
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) <= 25 and max(len(line) for line in lines) <= 80
    text = " ".join(completed.stdout.split())
    record = grading(out, "hidden_delta_from_weight_grads")
    checks, points = lost(record)  # the public cases fail the same checks
    first = f"First thing to fix: np_backward: Hidden-layer delta built from the output-weight gradients; fixing it should fix {checks} checks, {points:g} points."
    assert text.startswith(first)
    assert text.count("Hidden-layer delta built from the output-weight gradients") == 1  # once
    assert "Likely mistake" not in text and "\n2. " not in completed.stdout  # one cause, no second
    # its paragraph whole, every line of it under the same indent, and nothing of the isolation
    explanation = next(
        d["explanation"]
        for c in record["checks"]
        for d in c["diagnoses"]
        if d["kind"] == "misconception"
    )
    assert " ".join(explanation.split()) in text
    paragraph = lines[1 : next(n for n, line in enumerate(lines) if line.startswith("   Right:"))]
    assert paragraph and all(line.startswith("   ") and line[3] != " " for line in paragraph)
    assert "sandbox:" not in text and "for each of" not in text
    closing = lines[-1].strip("= ")  # the last line, as pytest's: the score of the public cases
    assert closing.startswith("hidden_delta_from_weight_grads.py: ") and closing.endswith(
        f" / {record['max_score']:g} points"
    )


@pytest.mark.parametrize("assignment", ["backprop", "conv2d"])
def test_a_correct_hand_in_is_a_line_of_congratulations_and_what_to_know(assignment, tmp_path):
    """At most 5 lines at 80 columns: its score, and the written answers said as they are (none
    found in a .py; nothing at all where the spec asks none: conv2d's, its question taken out)."""
    spec_file = spec_path(assignment)
    if assignment == "conv2d":
        text = spec_file.read_text()
        spec_file = tmp_path / "assignment.toml"
        spec_file.write_text(
            "".join(s for s in re.split(r"(?m)^(?=\[)", text) if not s.startswith("[[question]]"))
        )
    spec = load_spec(spec_file)
    assert bool(spec.questions) == (assignment == "backprop")
    name = "correct_scalar.py" if assignment == "backprop" else "correct_loops.py"
    completed = run_grader(
        "check",
        str(spec.reference.examples / name),
        "--spec",
        str(spec_file),
        env={"COLUMNS": "80"},
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    points = sum(c.points for c in spec.checks)
    assert len(lines) <= 5 and max(len(line) for line in lines) <= 80, completed.stdout
    assert (
        f"all {len(spec.checks)} checks passed, {points:g} / {points:g} points. Well done!"
        in (lines[-1])
    )
    text = " ".join(completed.stdout.split())
    if spec.questions:
        written = sum(q.points for q in spec.questions)
        assert f"No written answers found: {written:g} points depend on them (put them " in text
    else:
        assert "written" not in text.lower()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)")
def test_a_file_that_does_not_load_is_one_cause_on_a_page_of_at_most_two_screens(
    graded_class, tmp_path
):
    _, out = graded_class
    page = out / "syntax_error" / "report.html"
    text = page.read_text()
    record = grading(out, "syntax_error")
    checks, points = lost(record)
    assert checks == len(record["checks"])
    assert "Your submission did not load: SyntaxError in syntax_error.py, line " in text
    assert f"fixing it should fix {checks} checks, {points:g} points" in text
    assert 'id="cause-1"' in text and 'id="cause-2"' not in text
    assert (
        '<section class="check' not in text and "is not defined" not in text
    )  # no card per check, no echo of the error
    assert "grader-" not in text and "/work/" not in text  # the sandbox's scratch folder is noise
    assert page_height(page, tmp_path) <= 2 * SCREEN[1]


def test_the_classic_mistake_page_starts_with_the_one_thing_to_fix(graded_class):
    _, out = graded_class
    text = (out / "hidden_delta_from_weight_grads" / "report.html").read_text()
    checks, points = lost(grading(out, "hidden_delta_from_weight_grads"))
    banner = text.index('id="first-to-fix"')
    assert banner < text.index('id="score"') and text.index("</header>") < banner
    assert (
        f"np_backward: Hidden-layer delta built from the output-weight gradients; fixing it should fix {checks} checks, {points:g} points"
        in text
    )
    assert (
        text.count("Back-propagate the deltas, not the weight gradients.") == 1
    )  # the explanation, once


def test_the_textbook_numbering_reads_as_one_cause_in_the_forward_pass(graded_class):
    """The probes found the bug in np_forward (the gradients are its exact derivative): that leads the
    named mistake, and is not a second mistake."""
    completed, out = graded_class
    text = (out / "textbook_weight_numbering" / "report.html").read_text()
    checks, points = lost(grading(out, "textbook_weight_numbering"))
    assert 'id="cause-1"' in text and 'id="cause-2"' not in text
    assert (
        f"np_forward: Weights numbered the textbook way; fixing it should fix {checks} checks, {points:g} points"
        in text
    )
    row = next(
        line
        for line in completed.stdout.splitlines()
        if line.startswith("textbook_weight_numbering ")
    )
    assert "np_forward: Weights" in row  # grade's table: the first thing to fix, per student

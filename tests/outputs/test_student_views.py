"""Do the student's views hold nothing of a hidden case, and nothing that drives a terminal?

Hostile submissions from tests/hostile/ are graded with a secret the way a class
is (`grade`, its student's and instructor's pages) and the way Gradescope runs
one upload (the real run_autograder in a simulated /autograder tree, as in
tests/test_gradescope.py).  The hidden cases' inputs and expected values come
from the grader's own answer key (`python -m grader expected` with the secret);
every student-visible file is searched for them in several renderings, and the
instructor's views must still hold them.  The escape-sequence submission is
checked through `grader check` and the Gradescope staff log, byte by byte.
"""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_SECRET, run_grader
from tests.gradescope.test_gradescope import autograder_tree, run_autograder

HOSTILE = REPO / "tests" / "hostile"
RAISES = HOSTILE / "raises_hidden_inputs_in_its_exception.py"
RETURNS = HOSTILE / "returns_values_chosen_to_leak_hidden_cases.py"
ESCAPES = HOSTILE / "prints_terminal_escape_sequences.py"
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
CONTROL_BYTES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but newline and tab, DEL, C1
REASONS = ("raised an exception", "wrong value")


def renderings(value: float) -> set[str]:
    """The ways a page, a message or a JSON file could write `value`."""
    shown = {
        repr(value),
        str(value),
        f"{value:.6g}",
        f"{value:.5g}",
        f"{value:.4g}",
        f"{value:.6e}",
        f"{value:.3e}",
        f"{value:.8f}",
    }
    return shown | {s.lstrip("-") for s in shown} | {s.replace("e-0", "e-") for s in shown}


def tokens(text: str) -> set[str]:
    """Every number written in `text` (HTML entities undone; a chart's pixel positions left out), and the
    digits an exception type's name spells (0p123 for 0.123)."""
    text = unescape(
        re.sub(r'(points|c[xy]|[xy][12]?|width|height|viewBox|transform)="[^"]*"', "", text)
    )  # a chart's pixel positions
    found = set(NUMBER.findall(text))
    return (
        found
        | {t.lstrip("-+") for t in found}
        | {m.replace("p", ".") for m in re.findall(r"\d+p\d+", text)}
    )


@pytest.fixture(scope="module")
def answer_key() -> dict[str, set[str]]:
    """The renderings of every hidden input and hidden expected value, less any a public case also has."""
    completed = run_grader("expected", secret=TEST_SECRET)
    assert completed.returncode == 0, completed.stderr
    hidden, public = {"inputs": set(), "expected": set()}, set()
    for record in json.loads(completed.stdout):
        case = record["case"]
        values = {
            "inputs": [v for name in ("x", "y", "w") for v in case["inputs"][name]],
            "expected": [v for v in record["value"] if isinstance(v, float)],
        }
        for kind, numbers in values.items():
            for number in numbers:
                (hidden[kind] if case["hidden"] else public).update(renderings(float(number)))
    assert hidden["inputs"] and hidden["expected"], "the secret must draw hidden cases"
    # short renderings (0, 1, 0.5) and a public case's numbers can be written by anyone: not evidence of a leak
    return {
        kind: {s for s in shown - public if len(s.strip("-0.")) >= 4}
        for kind, shown in hidden.items()
    }


def leaked(text: str, key: dict[str, set[str]]) -> set[str]:
    return tokens(text) & (key["inputs"] | key["expected"])


def hidden_case_text(fragment: str) -> list[str]:
    """The text of every hidden case's block in a page or a results.json `output` (to the end of its
    check), and of every line listing a check's hidden cases."""
    blocks = []
    # a page's case is a <div class="case ...">; Gradescope's, without classes, a paragraph led by its
    # label; a check's hidden cases in one line, a paragraph led by "hidden cases"
    for block in re.split(
        r'<div class="case[^"]*">|(?=<p[^>]*><strong>[^<]*case[^<]*</strong>:)', fragment
    )[1:]:
        block = block.split("</section>")[0]
        if re.match(r"<p[^>]*><strong>hidden cases</strong>:", block):
            blocks.append(unescape(re.sub(r"<[^>]+>", " ", block.split("</p>")[0])))
        elif re.search(r"<strong>hidden case \d+</strong>", block):
            blocks.append(unescape(re.sub(r"<[^>]+>", " ", block)))
    return blocks


def without_case_numbers(block: str) -> str:
    """A hidden case's text without the numbers that name the cases ("hidden case 2", "2 failed")."""
    return re.sub(
        r"hidden case \d+|\b\d+(?=\s+(?:passed|failed|error|timed out|not started)\b)", "", block
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory, autograder_zip):
    """`grade` on the two leaking submissions, and each of the three on Gradescope, one after another (two graders at once can meet a grader failure under load, not the subject here)."""
    root = tmp_path_factory.mktemp("views")
    submissions = root / "submissions"
    submissions.mkdir()
    for path in (RAISES, RETURNS):
        shutil.copy(path, submissions / path.name)

    def grade():
        return run_grader("grade", str(submissions), "--out", str(root / "out"), secret=TEST_SECRET)

    def gradescope(path: Path):
        return run_autograder(
            autograder_tree(
                root / f"gs-{path.stem}", autograder_zip, {"homework.py": path}, secret=TEST_SECRET
            )
        )

    with ThreadPoolExecutor(1) as pool:
        graded = pool.submit(grade)
        containers = dict(
            zip(
                (RAISES.stem, RETURNS.stem, ESCAPES.stem),
                pool.map(gradescope, (RAISES, RETURNS, ESCAPES)),
            )
        )
        graded = graded.result()
    assert graded.returncode == 0, graded.stderr
    return root / "out", containers


@pytest.mark.parametrize("hostile", [RAISES, RETURNS], ids=lambda p: p.stem)
def test_on_gradescope_a_hidden_case_shows_only_its_verdict_and_a_generic_reason(
    runs, answer_key, hostile
):
    """Is results.json free of every hidden input and expected value, in any rendering, and of any number on a hidden case?"""
    _, containers = runs
    run = containers[hostile.stem]
    assert run.completed.returncode == 0, run.completed.stdout
    text = json.dumps(run.results)
    assert leaked(text, answer_key) == set()
    assert run.results["stdout_visibility"] == "hidden" and "execution_time" not in run.results
    blocks = [b for test in run.results["tests"] for b in hidden_case_text(test["output"])]
    assert blocks, "hidden cases ran and are listed"
    for block in blocks:
        assert not re.search(r"\d", without_case_numbers(block)), (
            block
        )  # no value, error size or shape
        assert any(reason in block for reason in REASONS), block
    assert all(t["status"] == "failed" for t in run.results["tests"])


@pytest.mark.parametrize("hostile", [RAISES, RETURNS], ids=lambda p: p.stem)
def test_grade_writes_a_student_page_without_hidden_values_and_an_instructor_page_with_them(
    runs, answer_key, hostile
):
    """Is OUT/<id>/report.html (and results.json) safe to hand out, while instructor.html and grading.json keep everything?"""
    out, _ = runs
    folder = out / hostile.stem
    student = {
        name: (folder / name).read_text(encoding="utf-8")
        for name in ("report.html", "results.json")
    }
    for name, text in student.items():
        assert leaked(text, answer_key) == set(), name
    page = student["report.html"]
    assert "Student's view: hidden cases ran" in page and "Not shown here" in page
    for block in hidden_case_text(page):
        assert not re.search(r"\d", without_case_numbers(block)), block
    instructor = (folder / "instructor.html").read_text(encoding="utf-8")
    grading = (folder / "grading.json").read_text(encoding="utf-8")
    assert "Instructor's view, not for students" in instructor
    assert tokens(instructor) & answer_key["inputs"], (
        "the instructor's page shows the hidden cases' inputs"
    )
    assert tokens(grading) & answer_key["expected"], "grading.json keeps the hidden expected values"
    board = (out / "index.html").read_text(encoding="utf-8")
    assert (
        f'href="{hostile.stem}/instructor.html"' in board
        and f'href="{hostile.stem}/report.html"' in board
    )


def test_terminal_escape_sequences_never_reach_the_self_check_output(tmp_path):
    """Does `grader check` print the submission's text without an escape, a bell or a control byte?"""
    completed = run_grader("check", str(ESCAPES), "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    printed = completed.stdout + completed.stderr
    assert CONTROL_BYTES.findall(printed) == [], sorted(set(CONTROL_BYTES.findall(printed)))
    assert "ALL CHECKS PASSED" in printed  # as plain text, inside the error it was raised in
    assert "0 / " in printed  # the real score stands
    for path in (tmp_path / ESCAPES.stem).iterdir():
        text = path.read_text(encoding="utf-8")
        assert (
            CONTROL_BYTES.findall(text) == [] and "\\u001b" not in text and "\\u0007" not in text
        ), path.name


def test_terminal_escape_sequences_never_reach_the_gradescope_staff_log_or_results(runs):
    """Is the staff log (run_autograder's output) free of control bytes, and results.json too?"""
    _, containers = runs
    run = containers[ESCAPES.stem]
    log = run.completed.stdout
    assert CONTROL_BYTES.findall(log) == [], sorted(set(CONTROL_BYTES.findall(log)))
    assert "results.json written: 0 /" in log
    text = json.dumps(run.results)
    assert "\\u001b" not in text and "\\u0007" not in text and "\\u009b" not in text
    assert CONTROL_BYTES.findall(json.dumps(run.results, ensure_ascii=False)) == []
    assert all(t["status"] == "failed" for t in run.results["tests"])

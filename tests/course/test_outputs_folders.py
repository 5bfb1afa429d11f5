"""One assignment, one outputs folder: what `grade` writes where, and what it refuses before
writing anything.  Through the real command line, in folders of the test's own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_grader

BACKPROP = REPO / "submissions" / "backprop"
CONV2D = REPO / "submissions" / "conv2d"
FROM_ELSEWHERE = {"PYTHONPATH": str(REPO)}  # the grader run from a course's own working folder


def _class(folder: Path, *hand_ins: Path) -> Path:
    folder.mkdir()
    for hand_in in hand_ins:
        shutil.copy(hand_in, folder / hand_in.name)
    return folder


@pytest.fixture(scope="module")
def two_homeworks(tmp_path_factory) -> Path:
    """`grade` without --out for each homework, from one working folder."""
    here = tmp_path_factory.mktemp("course")
    backprop = _class(here / "backprop-class", BACKPROP / "correct_scalar.py")
    conv2d = _class(here / "conv2d-class", CONV2D / "correct_loops.py")
    for assignment, folder in (("backprop", backprop), ("conv2d", conv2d)):
        completed = run_grader(
            "grade", str(folder), "--assignment", assignment, cwd=here, env=FROM_ELSEWHERE
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return here


def test_each_assignment_gets_its_own_outputs_folder(two_homeworks):
    reports = two_homeworks / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["backprop", "conv2d"]
    assert (reports / "backprop" / "correct_scalar" / "report.html").is_file()
    assert (reports / "conv2d" / "correct_loops" / "report.html").is_file()
    assert "correct_scalar" in (reports / "backprop" / "grades.csv").read_text()
    assert "correct_scalar" not in (reports / "conv2d" / "grades.csv").read_text()


def test_history_reads_each_folder_and_refuses_another_assignment(two_homeworks):
    for assignment in ("backprop", "conv2d"):
        completed = run_grader(
            "history", "--assignment", assignment, cwd=two_homeworks, env=FROM_ELSEWHERE
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
    out = str(two_homeworks / "reports" / "conv2d")
    completed = run_grader("history", "--out", out, "--assignment", "backprop")
    assert completed.returncode == 2
    assert "no assignment 'backprop' in it (assignments: conv2d)" in completed.stdout


def test_a_second_assignment_into_the_same_folder_is_refused_before_anything_is_written(
    two_homeworks, tmp_path
):
    out = two_homeworks / "reports" / "backprop"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    conv2d = _class(tmp_path / "conv2d-class", CONV2D / "correct_vectorised.py")
    completed = run_grader("grade", str(conv2d), "--assignment", "conv2d", "--out", str(out))
    assert completed.returncode == 2
    said = " ".join(completed.stdout.split())
    assert f"{out} holds the outputs of backprop: grade conv2d into a folder of its own" in said
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_no_submissions_to_grade_is_an_error_and_nothing_is_recorded(tmp_path, kind):
    folder = tmp_path / "class"
    if kind == "empty":
        folder.mkdir()
    out = tmp_path / "out"
    completed = run_grader("grade", str(folder), "--out", str(out))
    assert completed.returncode == 2, completed.stdout
    assert ("not a folder of submissions" if kind == "missing" else "no submissions in it") in (
        " ".join(completed.stdout.split())
    )
    assert not out.exists()


def test_without_a_folder_grade_takes_the_assignments_own_examples(tmp_path):
    """The examples folder the assignment declares is what `grade` grades when given none
    (a spec of two checks keeps it short)."""
    spec = tmp_path / "assignment.toml"
    text = (REPO / "reference" / "conv2d" / "assignment.toml").read_text()
    sections = re.split(r"(?m)^(?=\[)", text)
    kept = [s for s in sections if not s.startswith("[[check]]")]
    first = next(s for s in sections if s.startswith("[[check]]"))
    spec.write_text("".join(kept) + first)
    completed = run_grader("grade", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    graded = {p.parent.name for p in (tmp_path / "out").glob("*/grading.json")}
    assert graded == {p.stem for p in CONV2D.iterdir()}


def test_an_assignment_without_written_questions_shows_none(tmp_path):
    spec = tmp_path / "assignment.toml"
    text = (REPO / "reference" / "conv2d" / "assignment.toml").read_text()
    spec.write_text(
        "".join(s for s in re.split(r"(?m)^(?=\[)", text) if not s.startswith("[[question]]"))
    )
    folder = _class(tmp_path / "class", CONV2D / "correct_loops.py")
    completed = run_grader("grade", str(folder), "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    page = (tmp_path / "o" / "correct_loops" / "report.html").read_text()
    assert "Written answers" not in page and "graded by hand" not in page
    header = next(line for line in completed.stdout.splitlines() if "autograded" in line)
    assert "written" not in header and "total" not in header  # the grade table's columns
    assert "Written answers" not in completed.stdout
    assert "graded by hand" not in (tmp_path / "o" / "correct_loops" / "results.json").read_text()


def test_a_secret_file_inside_the_repository_is_refused_for_the_gradescope_zip(tmp_path):
    out = tmp_path / "autograder.zip"
    completed = run_grader(
        "autograder-zip", "--out", str(out), "--secret-file", str(REPO / "LICENSE")
    )
    assert completed.returncode == 2
    assert "is inside the repository" in " ".join(completed.stdout.split())
    assert not out.exists()


def test_expected_refuses_the_catalogue_entry_grade_refuses(tmp_path):
    """An outside assignment (through $GRADER_ASSIGNMENTS): the shipped homework with one more
    catalogue entry whose variation is the reference itself.  `expected` and `grade` both refuse
    it, naming the entry."""
    folder = tmp_path / "assignments" / "nomistake"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "import dataclasses\n"
        "from pathlib import Path\n"
        "from grader.core.catalog import Misconception\n"
        "from reference.backprop import REFERENCE as SHIPPED\n"
        "from reference.backprop.variations import Variation\n"
        "NONE = Misconception('not-a-mistake', 'Nothing', 'word ' * 30, 'f', ('numpy',), (Variation(),))\n"
        "REFERENCE = dataclasses.replace(SHIPPED, catalog=SHIPPED.catalog + (NONE,),"
        " source=Path(__file__).parent)\n"
    )
    text = (REPO / "reference" / "backprop" / "assignment.toml").read_text()
    (folder / "assignment.toml").write_text(
        re.sub(r'(?m)^name = "backprop"', 'name = "nomistake"', text, count=1)
    )
    env = {"GRADER_ASSIGNMENTS": str(tmp_path / "assignments")}
    hand_ins = _class(tmp_path / "class", BACKPROP / "correct_scalar.py")
    for command in (("expected",), ("grade", str(hand_ins), "--out", str(tmp_path / "out"))):
        completed = run_grader(*command, "--assignment", "nomistake", "--no-cache", env=env)
        assert completed.returncode == 2, (command, completed.stdout, completed.stderr)
        said = " ".join((completed.stdout + completed.stderr).split())
        assert "catalog['not-a-mistake'].variations[0]" in said and "it is not a mistake" in said

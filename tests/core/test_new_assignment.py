"""`python -m grader new-assignment NAME`: a course's start, a working assignment folder written
from the scaffold, graded right as written, through the real command line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET, run_grader


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("course")
    completed = run_grader("new-assignment", "layer", "--dir", str(folder))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return folder, {"GRADER_ASSIGNMENTS": str(folder)}


def test_the_new_assignment_grades_its_two_examples_right_with_hidden_cases(scaffolded, tmp_path):
    folder, env = scaffolded
    out = tmp_path / "out"
    completed = run_grader(
        "grade", "--assignment", "layer", "--out", str(out), secret=TEST_SECRET, env=env
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    correct = json.loads((out / "correct" / "grading.json").read_text())
    wrong = json.loads((out / "transposed_weight" / "grading.json").read_text())
    assert correct["score"] == correct["max_score"] > 0
    assert any(case["hidden"] for check in correct["checks"] for case in check["cases"])
    assert wrong["score"] == 0
    assert {d["id"] for c in wrong["checks"] for d in c["diagnoses"]} == {"transposed-weight"}


def test_its_starter_is_checked_as_a_student_would_and_its_answer_key_printed(scaffolded):
    folder, env = scaffolded
    starter = folder / "layer" / "starter" / "layer.py"
    completed = run_grader("check", str(starter), "--assignment", "layer", env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "np_affine raises NotImplementedError" in " ".join(completed.stdout.split())
    completed = run_grader("expected", "--assignment", "layer", env=env)
    assert completed.returncode == 0, completed.stderr
    assert [r["check"] for r in json.loads(completed.stdout)] == ["np-affine-output"]


def test_its_gradescope_zip_carries_it_and_none_of_its_examples(scaffolded, tmp_path):
    _, env = scaffolded
    out = tmp_path / "autograder.zip"
    completed = run_grader("autograder-zip", "--out", str(out), "--assignment", "layer", env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    names = set(zipfile.ZipFile(out).namelist())
    assert {"reference/layer/__init__.py", "reference/layer/assignment.toml"} <= names
    assert not any("examples" in n for n in names)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Layer", "lowercase letters, digits and _"),
        ("backprop", "is already an assignment"),
        ("layer", "already exists"),
    ],
)
def test_a_name_it_cannot_take_is_refused_and_nothing_is_written(scaffolded, name, says):
    folder, env = scaffolded
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    known = env if name != "layer" else {}  # a folder of that name, not yet on the search path
    completed = run_grader("new-assignment", name, "--dir", str(folder), env=known)
    assert completed.returncode == 2
    assert says in " ".join(completed.stdout.split())
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before

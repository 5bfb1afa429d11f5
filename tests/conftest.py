"""Shared helpers: the repository, and the real command line in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = REPO / "submissions" / "backprop"
TEST_SECRET = "a-secret-only-the-tests-know"
# A course's own homework (a linear layer with an MSE loss), written from docs/assignments.md
# alone by an author who had not seen the engine's code, kept as it was written.
COURSE_ASSIGNMENT = REPO / "tests" / "fixtures" / "assignments" / "linmse"


def run_grader(
    *args: str,
    secret: str | None = None,
    cwd: Path = REPO,
    timeout: float = 900,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """`python -m grader ARGS` as a user would run it (`env`: more environment variables)."""
    environment = (
        {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
        | {"COLUMNS": "200"}
        | (env or {})
    )
    if secret is not None:
        environment["GRADER_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """The grader's caches (answer keys, runs of unchanged code) live in the session's
    temporary folder: each session starts without them, and the user's home is left alone."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME")
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The bundled submissions, graded once through the real CLI with hidden cases."""
    out = tmp_path_factory.mktemp("graded")
    completed = run_grader("grade", str(SUBMISSIONS), "--out", str(out), secret=TEST_SECRET)
    return completed, out


def grading(out: Path, submission_id: str) -> dict:
    """What `grade --out out` wrote of one submission: everything the grader saw (grading.json)."""
    return json.loads((out / submission_id / "grading.json").read_text(encoding="utf-8"))


def build_zip(
    out: Path, secret_file: Path | None = None, assignment: str | None = None
) -> subprocess.CompletedProcess:
    """`make autograder` into `out`, as an instructor builds the Gradescope upload (of `assignment`)."""
    command = [
        "make",
        "-s",
        "-C",
        str(REPO),
        "-o",
        ".venv/.installed",
        "autograder",
        f"PY={sys.executable}",
        f"AUTOGRADER_ZIP={out}",
    ]
    if assignment is not None:
        command.append(f"ASSIGNMENT={assignment}")
    if secret_file is not None:
        command.append(f"SECRET_FILE={secret_file}")
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def autograder_zip(tmp_path_factory) -> Path:
    """The Gradescope upload without a secret, built once for the session."""
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    completed = build_zip(out)
    assert completed.returncode == 0, completed.stderr
    return out


def write_spec(
    folder: Path, checks: tuple[str, ...], limits: dict | None = None, credit: float | None = None
) -> Path:
    """reference/backprop/assignment.toml with one hidden case, only `checks`, these limits and (when given) this
    share of the points for a consistent backward pass: a smaller spec for a test."""
    text = (REPO / "reference" / "backprop" / "assignment.toml").read_text(encoding="utf-8")
    for key, value in (limits or {}).items():
        text = re.sub(rf"(?m)^{key}\s*=\s*[0-9.]+", f"{key} = {value}", text)
    text = re.sub(r"(?m)^hidden_cases\s*=\s*\d+", "hidden_cases = 1", text)
    if credit is not None:
        text = re.sub(
            r"(?m)^consistent_backward_credit\s*=\s*[0-9.]+",
            f"consistent_backward_credit = {credit}",
            text,
        )
    sections = re.split(r"(?m)^(?=\[)", text)
    kept = [
        s
        for s in sections
        if not s.startswith("[[check]]") or re.search(r'(?m)^id = "([^"]+)"', s).group(1) in checks
    ]
    path = folder / "assignment.toml"
    path.write_text("".join(kept), encoding="utf-8")
    return path


def course_assignment(folder: Path) -> tuple[Path, dict]:
    """The course's homework where a course keeps it: a folder outside the repository, named
    by $GRADER_ASSIGNMENTS (returned as the environment that finds it)."""
    home = folder / COURSE_ASSIGNMENT.name
    shutil.copytree(COURSE_ASSIGNMENT, home, ignore=shutil.ignore_patterns("__pycache__"))
    return home, {"GRADER_ASSIGNMENTS": str(folder)}

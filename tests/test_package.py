"""The grader as students get it: `pip install` of a clone and of its wheel into a fresh
environment that already has numpy and torch, the `backprop-grader` command run from
another folder, the isolation every system has ($GRADER_ISOLATION=process), and the
bad inputs of a self-check, each a message and never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader.core.assignment import DEFAULT_ASSIGNMENT, load_reference, names
from grader.core.spec import load_spec, spec_path
from grader.outputs import SELF_CHECK_FILE
from grader.selfcheck import REQUIREMENTS
from tests.conftest import REPO, SUBMISSIONS, run_grader

CORRECT = SUBMISSIONS / "correct_scalar.py"
MISTAKEN = SUBMISSIONS / "textbook_weight_numbering.py"
NOT_INSTALLED = ("submissions/", "tests/", "bench/")


def full_marks() -> str:
    points = sum(check.points for check in load_spec(spec_path("backprop")).checks)
    return f"{points:g} / {points:g} points"


def run(
    command: list[str], cwd: Path, env: dict | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    environment = (
        {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_SECRET")}
        | {"COLUMNS": "200"}
        | (env or {})
    )
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv seeing this environment's packages (torch, numpy, setuptools) through a .pth
    file (pip too), with the grader installed from a clone of the committed state, hermetically."""
    root = tmp_path_factory.mktemp("package")
    clone = root / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    venv = root / "venv"
    # without its own pip and setuptools, which would shadow the (newer) ones it is to reuse
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300
    )
    python = venv / "bin" / "python"
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root
    ).stdout.strip()
    (Path(purelib) / "project-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    installing = run([*pip, "install", "--no-index", "--no-build-isolation", str(clone)], root)
    return {
        "root": root,
        "clone": clone,
        "venv": venv,
        "python": python,
        "pip": pip,
        "install": installing,
        "purelib": Path(purelib),
    }


def test_a_clone_installs_without_an_index(installed):
    """Does `pip install --no-index --no-build-isolation <clone>` succeed, reusing the torch and numpy present?"""
    assert installed["install"].returncode == 0, (
        installed["install"].stdout[-2000:] + installed["install"].stderr[-2000:]
    )
    where = run(
        [
            str(installed["python"]),
            "-c",
            "import grader, reference; print(grader.__file__); print(reference.__file__)",
        ],
        installed["root"],
    )
    assert all(Path(line).is_relative_to(installed["purelib"]) for line in where.stdout.split()), (
        where.stdout + where.stderr
    )


def check_from_elsewhere(installed, name: str) -> subprocess.CompletedProcess:
    folder = installed["root"] / name
    folder.mkdir()
    shutil.copy(CORRECT, folder / "hw3.py")
    return run([str(installed["venv"] / "bin" / "backprop-grader"), "check", "hw3.py"], folder)


def test_the_installed_command_gives_full_marks_from_another_folder(installed):
    """Does `backprop-grader check` on a correct hand-in, run from the student's own folder, print full marks?"""
    completed = check_from_elsewhere(installed, "student")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert full_marks() in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr


def test_the_wheel_holds_the_engine_and_assignments_only_and_installs(installed):
    """Does the wheel built from a clone hold the templates, specs and starter files but no examples,
    tests or benchmarks, install, and grade as the clone's install does?"""
    wheels = installed["root"] / "wheels"
    built = run(
        [
            *installed["pip"],
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(wheels),
            str(installed["clone"]),
        ],
        installed["root"],
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    [wheel] = wheels.glob("backprop_grader-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith(NOT_INSTALLED)]
    tracked = subprocess.run(
        ["git", "ls-files", "reference", "templates"],
        cwd=installed["clone"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = {("grader/" + n) if n.startswith("templates/") else n for n in tracked}
    assert expected <= set(names), sorted(expected - set(names))
    reinstalled = run(
        [*installed["pip"], "install", "--no-index", "--no-deps", "--force-reinstall", str(wheel)],
        installed["root"],
    )
    assert reinstalled.returncode == 0, reinstalled.stdout[-2000:] + reinstalled.stderr[-2000:]
    completed = check_from_elsewhere(installed, "student-of-the-wheel")
    assert completed.returncode == 0 and full_marks() in completed.stdout, (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )


def test_a_notebook_self_checking_inside_the_grader_starts_nothing(installed):
    """Where the grader's package can be imported from a submission's process (the installed package,
    process-only isolation), does a notebook's own self_check cell start no grading of its own?"""
    folder = installed["root"] / "recursion"
    folder.mkdir()
    name = "notebook_self_checks_inside_the_grader.ipynb"
    shutil.copy(REPO / "tests" / "hostile" / name, folder / name)
    command = [
        str(installed["venv"] / "bin" / "backprop-grader"),
        "check",
        name,
        "--out",
        "out",
        "--no-cache",
    ]
    completed = run(command, folder, env={"GRADER_ISOLATION": "process"})
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    [grading] = [json.loads(path.read_text()) for path in (folder / "out").glob("*/grading.json")]
    points = sum(check.points for check in load_spec(spec_path("backprop")).checks)
    assert grading["score"] == grading["max_score"] == points
    assert "Not checked: this is the grader's own run of your file" in grading["stdout"]


def test_the_gradescope_zip_asks_for_a_clone_when_installed(installed):
    """Is building the Gradescope zip from an installed package a message naming what to do, not a traceback?"""
    completed = run(
        [str(installed["venv"] / "bin" / "backprop-grader"), "autograder-zip", "--out", "a.zip"],
        installed["root"],
    )
    assert completed.returncode == 2
    assert (
        "from a clone" in completed.stdout
        and "Traceback" not in completed.stdout + completed.stderr
    )


def test_the_declared_ranges_are_the_ones_checked():
    """Do pyproject.toml's numpy and torch ranges match what the self-check asks of an environment?"""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    ranges = {
        re.match(r"[A-Za-z0-9_.-]+", d).group().lower(): d[
            len(re.match(r"[A-Za-z0-9_.-]+", d).group()) :
        ]
        .split(";")[0]
        .strip()
        for d in declared
    }
    assert {name: ranges[name] for name in REQUIREMENTS} == REQUIREMENTS


@pytest.mark.parametrize("assignment", names())
def test_every_starter_file_says_how_to_self_check(assignment):
    """Does each starter file give, in one line, the command of its own kind and assignment?"""
    option = "" if assignment == DEFAULT_ASSIGNMENT else f" --assignment {assignment}"
    keyword = "" if assignment == DEFAULT_ASSIGNMENT else f', assignment="{assignment}"'
    for path in load_reference(assignment).starter:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        [line] = [line for line in text.splitlines() if "self_check(" in line]
        assert f"backprop-grader check {path.name}{option}" in line and "pip install" in line
        assert f'self_check("{path.stem}.ipynb"{keyword})' in line


def test_importing_the_package_loads_nothing_heavy():
    """Does `from grader import self_check` leave numpy, torch and the pipeline unloaded in a notebook's kernel?"""
    code = "import sys; from grader import self_check; print(sorted(m for m in ('numpy', 'torch', 'grader.engine.pipeline', 'grader.cli') if m in sys.modules))"
    completed = run([sys.executable, "-c", code], REPO)
    assert completed.stdout.strip() == "[]", completed.stdout + completed.stderr


# ------------------------------------------------------------------ the isolation every system has


def verdicts(out: Path) -> dict[str, str]:
    [results] = out.glob("*/results.json")
    return {
        t["extra_data"]["check"]: t["extra_data"]["status"]
        for t in json.loads(results.read_text())["tests"]
    }


def isolation_of(out: Path) -> str:
    """The isolation a `check --out OUT` had, as it wrote it for the notebook's self-check."""
    [written] = out.glob(f"*/{SELF_CHECK_FILE}")
    return json.loads(written.read_text())["isolation"]


@pytest.mark.parametrize("hand_in", [CORRECT, MISTAKEN], ids=["correct", "mistaken"])
def test_the_process_only_path_gives_the_same_verdicts(hand_in, tmp_path):
    """With $GRADER_ISOLATION=process (as on macOS, Windows, Linux without namespaces), are the verdicts
    those of the full sandbox, and does the check say which isolation it had?"""
    full = run_grader("check", str(hand_in), "--out", str(tmp_path / "full"), "--no-cache")
    forced = run_grader(
        "check",
        str(hand_in),
        "--out",
        str(tmp_path / "process"),
        "--no-cache",
        env={"GRADER_ISOLATION": "process"},
    )
    assert full.returncode == forced.returncode == 0, forced.stdout[-2000:] + forced.stderr[-2000:]
    assert verdicts(tmp_path / "process") == verdicts(tmp_path / "full")
    line = isolation_of(tmp_path / "process")
    assert (
        line.startswith("sandbox: process-group, rlimits; not used:")
        and "turned off by $GRADER_ISOLATION=process" in line
    )
    assert "$GRADER_ISOLATION" not in isolation_of(tmp_path / "full")
    assert (
        "sandbox:" not in forced.stdout
    )  # the student's terminal is spared it; the notebook folds it


# ------------------------------------------------------------------ bad input: a message, never a traceback


def self_check_in_a_process(cwd: Path, argument: str, env: dict | None = None) -> str:
    code = f"from grader import self_check; print(self_check({argument}))"
    completed = run([sys.executable, "-c", code], cwd, env={"PYTHONPATH": str(REPO), **(env or {})})
    assert completed.returncode == 0 and "Traceback" not in completed.stdout + completed.stderr, (
        completed.stderr[-2000:]
    )
    return completed.stdout


def test_a_folder_self_checked_from_python(tmp_path):
    """Is a folder hand-in self-checked from plain Python, its report kept where asked?"""
    folder = tmp_path / "hand-in"
    shutil.copytree(SUBMISSIONS / "correct_folder_sibling_import", folder)
    shown = self_check_in_a_process(tmp_path, "'hand-in', out='mine'")
    points = full_marks().removesuffix(" points")
    assert (
        f"Score {points}" in shown
        and "Every autograded check passed." in shown
        and "Checked the files as saved on disk: hand-in/" in shown
    )
    assert list((tmp_path / "mine").glob("*/report.html"))


def test_a_notebook_that_does_not_exist(tmp_path):
    """Is a missing notebook a message giving the folder looked in, from the command and from self_check?"""
    said = self_check_in_a_process(tmp_path, "'hw3.ipynb'")
    assert "Not checked:" in said and "does not exist" in said and str(tmp_path) in said
    completed = run_grader("check", str(tmp_path / "hw3.ipynb"))
    assert (
        completed.returncode == 2
        and "cannot check" in completed.stdout
        and "Traceback" not in completed.stdout + completed.stderr
    )


@pytest.mark.parametrize(
    "content, said",
    [
        ("", "is empty on disk: save the notebook"),
        ('{"cells": [{"cell_type": "code", "sou', "not a saved notebook (it is not valid JSON"),
        (
            json.dumps(
                {
                    "cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": []}],
                    "metadata": {},
                    "nbformat": 4,
                    "nbformat_minor": 5,
                }
            ),
            "has no code yet",
        ),
    ],
    ids=["empty", "invalid-json", "new-without-code"],
)
def test_an_unsaved_notebook(tmp_path, content, said):
    """Is a notebook not yet saved (empty, cut short, new) a message asking to save it, with nothing run?"""
    (tmp_path / "hw3.ipynb").write_text(content)
    shown = self_check_in_a_process(tmp_path, "'hw3.ipynb'")
    assert said in shown and "Score" not in shown


def test_no_path_outside_a_notebook(tmp_path):
    """Without a path where no front end names the notebook, does self_check ask for the path?"""
    shown = self_check_in_a_process(tmp_path, "", env={"JPY_SESSION_NAME": ""})
    assert 'give its file name, e.g. self_check("hw3.ipynb")' in shown


@pytest.mark.parametrize("starter", ["conv2d.ipynb", "conv2d.py"])
def test_another_assignments_hand_in_is_named(starter, tmp_path):
    """Is the convolution starter checked against backprop told which assignment it looks like, and how to check it?"""
    path = REPO / "reference" / "conv2d" / "starter" / starter
    completed = run_grader("check", str(path))
    assert completed.returncode == 2
    text = " ".join(completed.stdout.split())
    assert "looks like the conv2d assignment" in text and "--assignment conv2d" in text
    shown = " ".join(self_check_in_a_process(tmp_path, repr(str(path))).split())
    assert "looks like the conv2d assignment" in shown and "assignment='conv2d'" in shown


def test_a_numpy_too_old_is_what_to_install(tmp_path):
    """Does an environment whose numpy is too old get the version it needs, before anything is imported?"""
    info = tmp_path / "old" / "numpy-1.21.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 1.21.0\n")
    environment = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "old"), str(REPO)])}
    completed = run(
        [sys.executable, "-m", "grader", "check", str(CORRECT)], tmp_path, env=environment
    )
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert (
        f"numpy 1.21.0 is installed, and the grader needs numpy{REQUIREMENTS['numpy']}: pip install --upgrade 'numpy{REQUIREMENTS['numpy']}'"
        in completed.stderr
    )
    shown = self_check_in_a_process(tmp_path, repr(str(CORRECT)), env=environment)
    assert "Not checked: numpy 1.21.0 is installed" in shown

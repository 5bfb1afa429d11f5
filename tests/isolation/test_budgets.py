"""Budgets a submission cannot double or game.

- The wall-clock limit `submission_seconds` is one budget for the graded calls and
  the diagnosis' forward-pass probes together: the probes get what is left, a run
  read back from the cache counts the seconds it took when it ran, and a run kept
  in the cache under one budget is not read back under another.
- The share of the points for a backward pass consistent with its own forward pass
  needs a forward pass that is an attempt at this network: a "network" o = (w5, w6)
  with its exact derivative earns nothing, and is told why; a genuine forward-pass
  mistake with a consistent backward pass still earns its share.

Every run is the real command line on a small spec written to a temporary folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader.core.spec import load_spec
from reference.backprop import network
from tests.conftest import REPO, TEST_SECRET, grading, run_grader, write_spec

HOSTILE = REPO / "tests" / "hostile"
FIXTURES = REPO / "tests" / "fixtures" / "misconceptions"
SLACK_SECONDS = 1.5  # starting, stopping and cleaning up after the submission's processes


def grade(batch: Path, out: Path, spec: Path, *extra: str) -> None:
    completed = run_grader(
        "grade", str(batch), "--out", str(out), "--spec", str(spec), *extra, secret=TEST_SECRET
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def checks_of(out: Path, submission_id: str) -> dict[str, dict]:
    return {c["check"]: c for c in grading(out, submission_id)["checks"]}


# ------------------------------------------------------------------ one wall-clock budget

BUDGET_CHECKS = ("np-forward-output", "np-gradients")
BUDGET_LIMITS = {"load_seconds": 4, "call_seconds": 3, "submission_seconds": 8}
OUT_OF_TIME = "ran out of time"


@pytest.fixture(scope="module")
def budget_spec(tmp_path_factory) -> Path:
    return write_spec(tmp_path_factory.mktemp("budget-spec"), BUDGET_CHECKS, BUDGET_LIMITS)


def test_the_probes_get_only_what_the_graded_calls_left_of_the_budget(
    tmp_path: Path, budget_spec: Path
):
    """uses_its_whole_time_budget_twice: graded calls and probes together stay within
    submission_seconds (plus SLACK_SECONDS), the graded verdicts are as they would be
    without probes, and the diagnosis says its probes ran out of time.  Graded again
    from the cache, the reused graded run counts the seconds it took then, so the
    budget is not renewed either."""
    limit = load_spec(budget_spec).limits.submission_seconds
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(HOSTILE / "uses_its_whole_time_budget_twice.py", batch)
    cache = tmp_path / "cache"
    for attempt in ("first", "again from the cache"):
        out = tmp_path / f"out-{attempt.split()[0]}"
        grade(batch, out, budget_spec, "--cache", str(cache))
        record = grading(out, "uses_its_whole_time_budget_twice")
        assert record["seconds"] <= limit + SLACK_SECONDS, (attempt, record["seconds"])
        checks = checks_of(out, "uses_its_whole_time_budget_twice")
        assert checks["np-forward-output"]["status"] == "passed", attempt
        assert (
            checks["np-gradients"]["status"] == "failed" and checks["np-gradients"]["score"] == 0
        ), attempt
        assert all(
            v["status"] in ("passed", "failed") for c in checks.values() for v in c["cases"]
        ), attempt
        assert OUT_OF_TIME in checks["np-gradients"]["diagnosis_note"], attempt


def test_a_cached_probe_run_is_not_reused_under_a_smaller_budget(tmp_path: Path, budget_spec: Path):
    """A wrong backward pass with a fast forward pass (the budget hand-in without its sleep,
    NumPy only, so loading is quick): its probes run within the budget,
    and both runs are cached.  If the cached graded run says it took all but a
    millisecond of the budget, the probes get that millisecond, run out of time, and
    the probe run cached under the larger budget is not read back in their place."""
    batch = tmp_path / "batch"
    batch.mkdir()
    source = (HOSTILE / "uses_its_whole_time_budget_twice.py").read_text()
    assert source.count("SLEEP_SECONDS = 1.5") == 1
    (batch / "wrong_backward.py").write_text(
        source.replace("SLEEP_SECONDS = 1.5", "SLEEP_SECONDS = 0")
    )
    cache = tmp_path / "cache"
    grade(batch, tmp_path / "out-first", budget_spec, "--cache", str(cache))
    first = checks_of(tmp_path / "out-first", "wrong_backward")["np-gradients"]
    assert "backward-not-derivative-of-forward" in {
        d["id"] for d in first["diagnoses"]
    }  # the probes ran

    runs = sorted((cache / "runs").glob("*.json"))
    graded = [
        path
        for path in runs
        if any(not k.startswith("fd") for k in json.loads(path.read_text())["outcomes"])
    ]
    assert len(runs) == 2 and len(graded) == 1  # the graded run and the probe run
    record = json.loads(graded[0].read_text())
    record["seconds"] = (
        load_spec(budget_spec).limits.submission_seconds - 1e-3
    )  # too little to start a process in
    graded[0].write_text(json.dumps(record))

    grade(batch, tmp_path / "out-again", budget_spec, "--cache", str(cache))
    again = checks_of(tmp_path / "out-again", "wrong_backward")
    assert again["np-gradients"]["status"] == first["status"] == "failed"
    assert "backward-not-derivative-of-forward" not in {
        d["id"] for d in again["np-gradients"]["diagnoses"]
    }
    assert OUT_OF_TIME in again["np-gradients"]["diagnosis_note"]


# ------------------------------------------------------------------ credit for a consistent backward pass

CREDIT = 0.5
CREDIT_CHECKS = ("np-forward-output", "np-gradients", "torch-gradients")


@pytest.fixture(scope="module")
def credited(tmp_path_factory) -> Path:
    """The fake network and a genuine forward-pass mistake, graded with a share of the
    points for a consistent backward pass."""
    folder = tmp_path_factory.mktemp("credit")
    spec = write_spec(folder, CREDIT_CHECKS, credit=CREDIT)
    batch = folder / "batch"
    batch.mkdir()
    shutil.copy(HOSTILE / "fake_network_that_ignores_inputs.py", batch)
    shutil.copy(FIXTURES / "textbook_numbering.py", batch)
    grade(batch, folder / "out", spec, "--no-cache")
    return folder / "out"


def moves_the_network(name: str, act: str = "sigmoid", step: float = 1e-3) -> bool:
    """Does the reference's output at the given case move with this weight or input?"""
    given = load_spec().tables["given_case"]
    x, w = np.array(given["x"], dtype=float), np.array(given["w"], dtype=float)
    moved_x, moved_w = x.copy(), w.copy()
    (moved_x if name[0] == "x" else moved_w)[int(name[1:]) - 1] += step
    return bool(
        np.max(np.abs(network.forward(moved_x, moved_w, act).o - network.forward(x, w, act).o))
        > 1e-6
    )


def test_a_network_that_ignores_its_inputs_gets_no_credit_for_its_derivative(credited: Path):
    """fake_network_that_ignores_inputs: each backward check fails with 0 points; the
    diagnosis still finds the backward pass consistent, and its note names every
    weight and input the network's outputs move with and the fake's do not."""
    ignored = [f"w{i}" for i in (1, 2, 3, 4, 7, 8)] + ["x1", "x2"]
    assert all(moves_the_network(name) for name in ignored)
    checks = checks_of(credited, "fake_network_that_ignores_inputs")
    for check_id in ("np-gradients", "torch-gradients"):
        check = checks[check_id]
        assert check["status"] == "failed" and check["score"] == 0, check_id
        assert "forward-bug-backward-consistent" in {d["id"] for d in check["diagnoses"]}, check_id
        assert f"does not depend on {', '.join(ignored)}:" in check["diagnosis_note"], check_id
    assert grading(credited, "fake_network_that_ignores_inputs")["score"] == 0


def test_a_genuine_forward_mistake_with_a_consistent_backward_pass_keeps_its_credit(credited: Path):
    """textbook_numbering: its backward checks fail, and each earns CREDIT of its points,
    with no note about ignored inputs."""
    checks = checks_of(credited, "textbook_numbering")
    for check_id in ("np-gradients", "torch-gradients"):
        check = checks[check_id]
        assert check["status"] == "failed", check_id
        assert "forward-bug-backward-consistent" in {d["id"] for d in check["diagnoses"]}, check_id
        assert check["score"] == pytest.approx(CREDIT * check["max_score"]), check_id
        assert "does not depend on" not in check["diagnosis_note"], check_id

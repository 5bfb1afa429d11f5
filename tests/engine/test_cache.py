"""Is the cached answer key the answer key, and is a reused run the run?"""

from __future__ import annotations

import csv
import json
import shutil
import stat
import subprocess
import sys

import numpy as np

from grader.core.cases import draw_cases
from grader.core.spec import DEFAULT_SPEC, load_spec
from grader.engine.cache import cache_key, cached_expected_values
from tests.conftest import REPO, SUBMISSIONS, run_grader


def test_a_cached_answer_key_equals_the_computed_one_and_stays_private(tmp_path):
    spec = load_spec()
    book = draw_cases(spec, b"cache-test")
    computed = cached_expected_values(spec, book, tmp_path)
    [stored] = tmp_path.iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # it holds hidden expected values
    assert "cache-test" not in stored.read_text()  # keyed by the cases, never holding the secret
    cached = cached_expected_values(spec, book, tmp_path)
    assert [(e.check_id, e.case) for e in cached] == [(e.check_id, e.case) for e in computed]
    for fresh, again in zip(computed, cached):
        assert np.array_equal(fresh.value, again.value, equal_nan=True)
        assert np.array_equal(fresh.comparable, again.comparable)


def test_a_changed_spec_or_secret_misses_the_cache(tmp_path):
    spec = load_spec()
    edited = tmp_path / "assignment.toml"
    edited.write_text(DEFAULT_SPEC.read_text().replace("points = 4", "points = 5", 1))
    keys = {
        cache_key(spec, draw_cases(spec, b"one")),
        cache_key(spec, draw_cases(spec, b"two")),
        cache_key(load_spec(edited), draw_cases(spec, b"one")),
    }
    assert len(keys) == 3


def test_with_the_answer_key_cached_the_grader_never_loads_torch_itself(tmp_path):
    """torch is the submissions' (imported once by the warm worker): the grader's own
    process plans a run without it, about 2 s sooner and 200 MB smaller."""
    spec = load_spec()
    cached_expected_values(spec, draw_cases(spec, None), tmp_path)
    script = (
        "import sys\n"
        "from grader import cli\n"
        "from grader.engine.pipeline import plan_grading\n"
        "from grader.core.cases import draw_cases\n"
        "from grader.core.spec import load_spec\n"
        "spec = load_spec()\n"
        f"plan = plan_grading(spec, draw_cases(spec, None), {str(tmp_path)!r})\n"
        "print(len(plan.expected), 'torch' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    count, loaded_torch = completed.stdout.split()
    assert int(count) > 0 and loaded_torch == "False"


def _grades(out) -> dict[str, tuple[str, str]]:
    rows = csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig"))
    return {row["id"]: (row["score"], row["max_score"]) for row in rows}


def _reused(out) -> dict[str, bool]:
    return {
        folder.name: json.loads((folder / "grading.json").read_text())["reused_run"]
        for folder in out.iterdir()
        if folder.is_dir()
    }


def test_a_regrade_reuses_the_runs_of_unchanged_code_and_reruns_the_rest(tmp_path):
    """Re-grading after a change of points runs nothing again but what changed or may differ."""
    batch, cache = tmp_path / "batch", tmp_path / "cache"
    batch.mkdir()
    for name in (
        "correct_scalar.py",
        "hidden_delta_from_weight_grads.py",
    ):  # the second one needs the diagnosis' probes too
        shutil.copy(SUBMISSIONS / name, batch / name)
    (batch / "exits_while_loading.py").write_text(
        "import os\nos._exit(3)\n"
    )  # its process dies: a crash, never stored

    first = run_grader("grade", str(batch), "--out", str(tmp_path / "first"), "--cache", str(cache))
    again = run_grader("grade", str(batch), "--out", str(tmp_path / "again"), "--cache", str(cache))
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert "not run again" not in first.stdout
    assert "2 of 3 submissions were not run again" in again.stdout
    assert _reused(tmp_path / "again") == {
        "correct_scalar": True,
        "hidden_delta_from_weight_grads": True,
        "exits_while_loading": False,
    }
    assert _grades(tmp_path / "again") == _grades(tmp_path / "first")
    first_report = json.loads(
        (tmp_path / "first" / "hidden_delta_from_weight_grads" / "grading.json").read_text()
    )
    again_report = json.loads(
        (tmp_path / "again" / "hidden_delta_from_weight_grads" / "grading.json").read_text()
    )
    assert again_report["checks"] == first_report["checks"]  # verdicts and diagnoses alike
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (cache / "runs").iterdir())

    with (batch / "correct_scalar.py").open("a") as handle:
        handle.write("# one more comment\n")
    spec = tmp_path / "assignment.toml"
    spec.write_text(
        DEFAULT_SPEC.read_text().replace("points = 4", "points = 5", 1)
    )  # np-gradients is worth one more
    edited = run_grader(
        "grade",
        str(batch),
        "--out",
        str(tmp_path / "edited"),
        "--cache",
        str(cache),
        "--spec",
        str(spec),
    )
    assert edited.returncode == 0, edited.stderr
    assert _reused(tmp_path / "edited") == {
        "correct_scalar": False,
        "hidden_delta_from_weight_grads": True,
        "exits_while_loading": False,
    }
    total = (
        f"{sum(check.points for check in load_spec(spec).checks):g}"  # one more than the course's
    )
    assert _grades(tmp_path / "edited")["correct_scalar"] == (total, total)
    assert _grades(tmp_path / "edited")["hidden_delta_from_weight_grads"][1] == total
    assert (
        _grades(tmp_path / "edited")["hidden_delta_from_weight_grads"][1]
        != _grades(tmp_path / "again")["hidden_delta_from_weight_grads"][1]
    )


def test_a_student_checking_unchanged_code_again_is_told_its_answers_were_reused(tmp_path):
    submission, cache = SUBMISSIONS / "correct_scalar.py", tmp_path / "cache"
    first = run_grader("check", str(submission), "--cache", str(cache))
    again = run_grader("check", str(submission), "--cache", str(cache))
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert "answers reused" not in first.stdout
    assert "its answers reused (--no-cache runs it again)" in again.stdout
    reused = "Unchanged since an earlier check: its answers reused (--no-cache runs it again).\n"
    assert again.stdout.replace(reused, "") == first.stdout  # the same self-check otherwise


def test_a_regrade_with_another_secret_runs_the_code_again_on_its_own_hidden_cases(tmp_path):
    """Runs are cached with the inputs of their calls: a correct hand-in graded with one secret,
    then with another from the same cache, is run again on the new hidden cases and keeps
    full marks (a run keyed without its inputs would be reused and compared with the new
    secret's expected values)."""
    cache, folder = tmp_path / "cache", tmp_path / "class"
    folder.mkdir()
    shutil.copy(SUBMISSIONS / "correct_scalar.py", folder)
    runs = []
    for secret in ("one-secret", "another-secret"):
        out = tmp_path / secret
        completed = run_grader(
            "grade", str(folder), "--out", str(out), "--cache", str(cache), secret=secret
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        runs.append((completed, json.loads((out / "correct_scalar" / "grading.json").read_text())))
    (_, first), (again, second) = runs
    assert "were not run again" not in again.stdout
    assert not second["reused_run"]
    assert first["score"] == second["score"] == second["max_score"]

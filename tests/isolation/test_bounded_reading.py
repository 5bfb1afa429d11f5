"""Is everything a submission sends held to its bounds while it is read, and is the run cache bounded?

The scanner's counts are checked against what `json` itself parses; the hostile
submissions of tests/hostile/ that attack the result channel are graded by the
grader's own functions in this process (so its file descriptors can be counted)
and, for the grader's peak memory, by the real command line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
import zipfile

import pytest

from grader.core.cases import draw_cases
from grader.core.spec import load_spec
from grader.engine.cache import RUN_RECORD_BYTES, cached_run
from grader.engine.discover import submission_at
from grader.engine.execute import (
    RESULT_BOUNDS,
    SUBMISSION_CHANNEL_VALUES,
    Execution,
    LoadReport,
    Outcome,
)
from grader.engine.load import load_submission
from grader.engine.pipeline import grade_submission, plan_grading
from grader.isolation import bounded_json
from grader.isolation.launchers import FreshLauncher, WarmLauncher, can_fork
from grader.isolation.sandbox import probe_layers
from tests.conftest import REPO, SUBMISSIONS
from tests.isolation.test_sandbox import small_spec

HOSTILE = REPO / "tests" / "hostile"
BOUNDS = bounded_json.Bounds("the line", 64 * 2**20, 1000, 8)


def values_in(tree) -> int:
    """Every value json built (containers, keys and scalars), an empty container twice."""
    if isinstance(tree, list):
        return 1 + (not tree) + sum(map(values_in, tree))
    if isinstance(tree, dict):
        return 1 + (not tree) + len(tree) + sum(map(values_in, tree.values()))
    return 1


# ------------------------------------------------------------------ the scan, before any parsing


@pytest.mark.parametrize(
    "value",
    [
        {
            "message": 'a "quoted" [list, {of: brackets}], and \\ a backslash \\"',
            "where": ["x.py, line 3", ":,[{"],
        },
        [[], {}, [[1.5, -2e-300]], "\\\\", '\\"[', None, True],
        {"seq": [{"array": [0.1, 0.2], "shape": [2], "dtype": "float64"}], "type": "tuple"},
        "ends with a backslash \\",
    ],
)
def test_the_scan_counts_exactly_the_values_json_builds(value):
    """Brackets, commas and quotes inside strings (escaped or not) are not values."""
    line = json.dumps(value).encode()
    parsed, counted = bounded_json.loads(line, BOUNDS)
    assert parsed == value and counted == values_in(value)


def test_a_16_mib_line_of_empty_lists_is_refused_without_being_built():
    """json.loads would build 5.6 million lists (over 300 MB); the scan looks at the bytes only."""
    line = b"[" + b"[]," * (16 * 2**20 // 3) + b"[]]"
    tracemalloc.start()
    try:
        with pytest.raises(
            bounded_json.Refused, match="the line holds too many values: [0-9]+, limit 1000"
        ):
            bounded_json.loads(line, BOUNDS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * len(line)


def test_a_line_over_its_byte_limit_is_refused_by_its_length():
    line = json.dumps({"value": "x" * 2000}).encode()
    with pytest.raises(
        bounded_json.Refused, match=f"the line was too large: {len(line)} bytes, limit 1000"
    ):
        bounded_json.loads(line, bounded_json.Bounds("the line", 1000, 1000, 8))


def test_nesting_one_level_past_the_limit_is_refused():
    deep = lambda levels: b"[" * levels + b"1" + b"]" * levels  # noqa: E731
    assert bounded_json.loads(deep(BOUNDS.depth), BOUNDS)[0] == json.loads(deep(BOUNDS.depth))
    with pytest.raises(
        bounded_json.Refused, match=f"nested too deeply: more than {BOUNDS.depth} levels"
    ):
        bounded_json.loads(deep(BOUNDS.depth + 1), BOUNDS)


@pytest.mark.parametrize("number", ["9" * 401, "-" + "1" * 40, "0." + "1" * 400, "1" * 4301])
def test_a_number_longer_than_any_float_is_refused_and_never_overflows(number):
    with pytest.raises(bounded_json.Refused, match=f"holds a number of {len(number)} characters"):
        bounded_json.loads(f'{{"seconds": {number}}}'.encode(), BOUNDS)


def test_the_numbers_a_float_can_hold_are_read():
    parsed, _ = bounded_json.loads(
        f"[{sys.float_info.max!r}, 5e-324, -0.0, 1e999, NaN, -Infinity, 12345678901234567890]".encode(),
        BOUNDS,
    )
    assert (
        parsed[:3] == [sys.float_info.max, 5e-324, 0.0]
        and parsed[3] == float("inf")
        and parsed[4] != parsed[4]
    )
    assert parsed[-1] == 12345678901234567890


def test_a_line_that_is_not_json_is_refused_saying_so():
    with pytest.raises(bounded_json.Refused, match="the line is not JSON"):
        bounded_json.loads(b'{"event": "result", "id": ', BOUNDS)


# ------------------------------------------------------------------ graded: real child processes


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    spec = load_spec(small_spec(tmp_path_factory.mktemp("spec")))
    return plan_grading(spec, draw_cases(spec, b"bounded-reading"))


@pytest.fixture(scope="module")
def launcher():
    chosen = WarmLauncher() if can_fork() is None else FreshLauncher()
    yield chosen
    chosen.close()


@pytest.fixture(scope="module")
def sandbox():
    return probe_layers()


def graded(name: str, plan, launcher, sandbox, **options):
    return grade_submission(
        submission_at(HOSTILE / name), plan, launcher=launcher, sandbox=sandbox, **options
    )


def verdicts(result) -> dict[str, tuple[str, str]]:
    return {
        c.check.id: (c.status, " | ".join(v.message for v in c.verdicts)) for c in result.checks
    }


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_correct_submission_is_read_whole(plan, launcher, sandbox):
    result = grade_submission(
        submission_at(SUBMISSIONS / "correct_scalar.py"), plan, launcher=launcher, sandbox=sandbox
    )
    assert {status for status, _ in verdicts(result).values()} == {"passed"}


@pytest.mark.parametrize(
    "name, reason",
    [
        (
            "writes_16mib_of_empty_lists_on_the_result_channel.py",
            f"the answer was too large: more than [0-9]+ bytes, limit {RESULT_BOUNDS.bytes}",
        ),
        ("sends_a_401_digit_integer_as_seconds.py", "the answer holds a number of 401 characters"),
        (
            "deeply_nested_answer.py",
            f"the answer is nested too deeply: more than {RESULT_BOUNDS.depth} levels",
        ),
        (
            "floods_the_result_channel_with_well_formed_lines.py",
            f"sent more than {SUBMISSION_CHANNEL_VALUES} values on the grader's result channel",
        ),
    ],
)
def test_a_refused_answer_is_that_calls_verdict_and_nothing_is_left_open(
    name, reason, plan, launcher, sandbox
):
    """The call gets the refusal as its verdict, the submission goes on, and every pipe is closed."""
    before = open_descriptors()
    result = graded(name, plan, launcher, sandbox)
    assert open_descriptors() == before
    found = verdicts(result)
    assert found["np-forward-output"][0] == "passed"
    status, message = found["np-gradients"]
    assert status == "error"
    assert re.search(reason, message), message


def test_after_the_channel_budget_the_remaining_calls_are_not_made(plan, launcher, sandbox):
    result = graded("floods_the_result_channel_with_well_formed_lines.py", plan, launcher, sandbox)
    status, message = verdicts(result)["np-one-step-loss"]
    assert status == "error" and message.startswith(
        "not called: the submission's processes sent more than"
    )


def test_a_name_the_file_system_refuses_is_a_load_error_without_the_graders_paths(
    tmp_path, plan, launcher, sandbox
):
    archive = tmp_path / "name_too_long.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("x" * 300 + ".py", (SUBMISSIONS / "correct_scalar.py").read_text())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = grade_submission(
        submission_at(archive), plan, scratch, launcher=launcher, sandbox=sandbox
    )
    assert (
        result.load.status == "empty"
        and "could not be written (File name too long: xxx" in result.load.message
    )
    assert str(scratch) not in json.dumps(result.to_dict())


# ------------------------------------------------------------------ loading


@pytest.mark.parametrize(
    "source, said",
    [
        (42, "a number"),
        ([1, 2], "TypeError"),
        ([["x = 1"]], "TypeError"),
        ({"code": "x = 1"}, "a mapping"),
        (None, "missing"),
    ],
)
def test_a_notebook_cell_whose_source_is_not_text_is_a_load_error(tmp_path, source, said):
    notebook = json.loads((HOSTILE / "notebook_cell_source_is_a_number.ipynb").read_text())
    notebook["cells"][-1]["source"] = source
    path = tmp_path / "odd_cell.ipynb"
    path.write_text(json.dumps(notebook))
    loaded = load_submission(submission_at(path))
    assert loaded.runnable == () and len(loaded.problems) == 1
    assert (
        loaded.problems[0].startswith("odd_cell.ipynb: not a valid notebook (")
        and said in loaded.problems[0]
    )


def test_a_zip_holding_a_file_and_a_folder_of_the_same_name_is_a_load_error():
    loaded = load_submission(
        submission_at(HOSTILE / "zip_holds_a_file_and_a_folder_of_the_same_name.zip")
    )
    assert loaded.runnable == ()
    assert loaded.problems == (
        "a.py is in the submission both as a file and as a folder (holding a.py/b.py); nothing of it is used",
    )


# ------------------------------------------------------------------ the run cache


def test_a_submission_answering_1_mib_per_call_puts_nothing_over_the_bound_into_the_cache(
    tmp_path, plan, launcher, sandbox
):
    cache = tmp_path / "cache"
    result = graded("answers_1mib_per_call.py", plan, launcher, sandbox, cache_dir=cache)
    assert {status for status, _ in verdicts(result).values()} == {
        "failed"
    }  # read, compared, wrong
    stored = sum(path.stat().st_size for path in cache.rglob("runs/*"))
    assert stored <= RUN_RECORD_BYTES
    assert (
        "this run was not cached: its record is" in result.stderr
        and f"over the cache's {RUN_RECORD_BYTES / 2**20:g} MiB" in result.stderr
    )
    assert not graded(
        "answers_1mib_per_call.py", plan, launcher, sandbox, cache_dir=cache
    ).reused_run
    correct = submission_at(SUBMISSIONS / "correct_scalar.py")
    grade_submission(correct, plan, launcher=launcher, sandbox=sandbox, cache_dir=cache)
    assert grade_submission(
        correct, plan, launcher=launcher, sandbox=sandbox, cache_dir=cache
    ).reused_run  # within its bound: kept


def _run(number: int) -> Execution:
    return Execution(LoadReport("ok"), {"c1": Outcome("ok", value={"seq": [float(number)] * 1000})})


def test_the_cache_keeps_its_total_dropping_the_least_recently_used(tmp_path):
    size = len(json.dumps(_run(0).to_record()))
    bound = {"total_bytes": 3 * size + size // 2}
    for key in ("a", "b", "c"):
        cached_run(tmp_path, key, lambda: _run(0), **bound)
    assert cached_run(
        tmp_path, "a", lambda: pytest.fail("a run that is stored is read back"), **bound
    ).reused
    cached_run(tmp_path, "d", lambda: _run(0), **bound)
    assert sorted(path.stem for path in (tmp_path / "runs").iterdir()) == ["a", "c", "d"]


# ------------------------------------------------------------------ the grader's own memory


def test_the_graders_peak_memory_stays_small_under_every_channel_attack(tmp_path):
    """The real command line, two submissions at a time; its own peak resident size, read by itself at exit."""
    batch, out = tmp_path / "batch", tmp_path / "out"
    batch.mkdir()
    attacks = (
        "writes_16mib_of_empty_lists_on_the_result_channel.py",
        "floods_the_result_channel_with_well_formed_lines.py",
        "answers_1mib_per_call.py",
        "deeply_nested_answer.py",
        "sends_a_401_digit_integer_as_seconds.py",
    )
    for name in attacks:
        shutil.copy(HOSTILE / name, batch / name)
    shutil.copy(SUBMISSIONS / "correct_scalar.py", batch / "correct_scalar.py")
    spec = small_spec(tmp_path)
    measured = (
        "import atexit, resource, runpy, sys\n"
        "atexit.register(lambda: print('peak-rss-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
        "sys.argv = ['grader', *sys.argv[1:]]\n"
        "runpy.run_module('grader', run_name='__main__', alter_sys=True)\n"
    )
    environment = {**os.environ, "GRADER_SECRET": "bounded-reading", "COLUMNS": "200"}
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            measured,
            "grade",
            str(batch),
            "--out",
            str(out),
            "--spec",
            str(spec),
            "--no-cache",
            "--jobs",
            "2",
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    peak_mib = int(completed.stderr.rsplit("peak-rss-kib", 1)[1].split()[0]) / 1024
    print(f"grader peak RSS under the channel attacks: {peak_mib:.0f} MiB")
    assert peak_mib < 600
    assert json.loads((out / "correct_scalar" / "results.json").read_text())["score"] > 0

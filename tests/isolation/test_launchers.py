"""Do warm workers grade exactly like fresh interpreters, and survive losing their server?"""

from __future__ import annotations

import os
import signal
import time

import pytest

from grader.core.cases import draw_cases
from grader.core.spec import load_spec, spec_path
from grader.engine.discover import submission_at
from grader.engine.pipeline import grade_submission, plan_grading
from grader.isolation.launchers import FreshLauncher, WarmLauncher, can_fork
from grader.isolation.sandbox import probe_layers
from tests.conftest import SUBMISSIONS

pytestmark = pytest.mark.skipif(
    can_fork() is not None, reason=f"warm workers are not used here: {can_fork()}"
)


@pytest.fixture(scope="module")
def plan():
    """The public cases' plan, with its answer key, computed once for this module."""
    spec = load_spec()
    return plan_grading(spec, draw_cases(spec, None))


def _scores(result) -> dict[str, str]:
    return {c.check.id: c.status for c in result.checks}


def test_a_forked_submission_is_graded_exactly_like_one_in_a_fresh_interpreter(plan):
    sandbox = probe_layers()
    submission = submission_at(SUBMISSIONS / "hidden_delta_from_weight_grads.py")
    warm = WarmLauncher()
    try:
        forked = grade_submission(submission, plan, launcher=warm, sandbox=sandbox)
    finally:
        warm.close()
    fresh = grade_submission(submission, plan, launcher=FreshLauncher(), sandbox=sandbox)
    assert _scores(forked) == _scores(fresh)
    assert [c.message for c in forked.checks] == [c.message for c in fresh.checks]


def test_a_fork_server_that_dies_is_replaced_and_the_batch_goes_on(plan):
    warm = WarmLauncher()
    try:
        first = warm.server_pid
        os.kill(first, signal.SIGKILL)
        time.sleep(0.2)
        result = grade_submission(
            submission_at(SUBMISSIONS / "correct_vectorised_float32.py"),
            plan,
            launcher=warm,
            sandbox=probe_layers(),
        )
        assert result.score == result.max_score
        assert warm.replaced == 1 and warm.server_pid != first
    finally:
        warm.close()


def test_the_out_of_memory_killer_takes_the_submission_first(tmp_path, plan):
    """In a container smaller than the memory limit (Gradescope: 768 MB), the kernel's
    OOM killer must pick the student's process, never the grader."""
    source = (SUBMISSIONS / "correct_scalar.py").read_text()
    probe = tmp_path / "oom_probe.py"
    probe.write_text(
        source + "\nprint('oom_score_adj', open('/proc/self/oom_score_adj').read().strip())\n"
    )
    warm = WarmLauncher()
    try:
        result = grade_submission(submission_at(probe), plan, launcher=warm, sandbox=probe_layers())
    finally:
        warm.close()
    assert "oom_score_adj 1000" in result.stdout
    assert open("/proc/self/oom_score_adj").read().strip() != "1000"


def test_a_fault_of_the_grader_on_one_submission_is_that_submission_s_verdict(plan):
    """Does the batch go on, with a message for staff, when the grader itself fails on one submission?"""
    from grader.engine.pipeline import grade_all

    class Broken:
        def start(self, *args, **kwargs):
            raise ValueError("no processes left")

        def stop(self, child, wait=True):
            return 0

    submissions = (submission_at(SUBMISSIONS / "correct_scalar.py"),)
    [result] = grade_all(submissions, plan, launcher=Broken(), sandbox=probe_layers())
    assert result.score == 0 and result.load.status == "crash"
    assert (
        "the grader failed on this submission (ValueError: no processes left)"
        in result.checks[0].message
    )


@pytest.mark.parametrize("launcher_kind", ["fresh", "warm"])
def test_inputs_arrive_as_the_element_type_the_contract_declares(tmp_path, launcher_kind):
    """Integer labels and a boolean mask arrive as int64 and bool arrays, in NumPy and in torch;
    an input with no declared type stays float64."""
    from grader.core.cases import Case
    from grader.core.contract import inputs
    from grader.engine.execute import Call, execute_submission
    from grader.engine.load import load_submission

    hand_in = tmp_path / "hand_in.py"
    hand_in.write_text(
        "def kinds(x, labels, mask):\n"
        "    # 1 where each argument is of its declared element type\n"
        "    return [float(str(v.dtype).endswith(t)) for v, t in ((x, 'float64'), (labels, 'int64'), (mask, 'bool'))]\n"
    )
    declared = inputs("x", "labels", "mask", dtypes={"labels": "int64", "mask": "bool"})
    dtypes = tuple((p.name, p.dtype) for p in declared if p.dtype != "float64")
    case = Case.of("given", {"x": [0.5, 0.3], "labels": [2.0, 0.0], "mask": [1.0, 0.0]})
    calls = [
        Call(f"c{framework}", "kinds", {}, case, arguments=("x", "labels", "mask"),
             framework=framework, dtypes=dtypes)
        for framework in ("numpy", "torch")
    ]  # fmt: skip
    spec = load_spec(spec_path("backprop"))
    (tmp_path / "s").mkdir()
    launcher = WarmLauncher() if launcher_kind == "warm" else FreshLauncher()
    try:
        execution = execute_submission(
            load_submission(submission_at(hand_in)),
            calls,
            spec.limits,
            tmp_path / "s",
            launcher,
            probe_layers(),
        )
    finally:
        launcher.close()
    for call in calls:
        outcome = execution.outcomes[call.id]
        assert outcome.status == "ok", outcome.error
        assert outcome.value["seq"] == [1.0, 1.0, 1.0] or outcome.value == [1.0, 1.0, 1.0], (
            outcome.value
        )

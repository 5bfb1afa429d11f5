"""A course's own homework, end to end: a linear layer with an MSE loss
(tests/fixtures/assignments/linmse), written from docs/assignments.md alone and kept in a
folder outside the repository, graded with hidden cases through the real command line.
Correct hand-ins keep full marks, each catalogued mistake is named by its cause, and the
Part A and Part B rules judge its own entry points right (its zip in the Gradescope image:
tests/container)."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_SECRET, course_assignment, grading, run_grader


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    _, env = course_assignment(tmp_path_factory.mktemp("course"))
    out = tmp_path_factory.mktemp("graded")
    completed = run_grader(
        "grade", "--assignment", "linmse", "--out", str(out), secret=TEST_SECRET, env=env
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out


def _broken(result: dict) -> set[str]:
    return {rule["rule"] for rule in result["rules"] if rule["status"] == "broken"}


def _scores(result: dict, part: str) -> dict[str, tuple[float, float]]:
    return {c["check"]: (c["score"], c["max_score"]) for c in result["checks"] if c["part"] == part}


@pytest.mark.parametrize("name", ["correct", "correct_detached_clones_in_torch_part"])
def test_a_correct_hand_in_keeps_full_marks_on_the_hidden_cases(graded, name):
    result = grading(graded, name)
    assert result["score"] == result["max_score"] > 0
    assert all(any(case["hidden"] for case in check["cases"]) for check in result["checks"])
    assert not _broken(result)
    assert not [d for check in result["checks"] for d in check["diagnoses"]]


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("gradient_of_sum", "gradient-of-the-sum"),
        ("bias_not_summed", "bias-gradient-not-summed"),
        ("dW_transposed", "weight-gradient-transposed"),
    ],
)
def test_each_catalogued_mistake_is_named_by_its_cause_on_every_check_it_fails(graded, name, cause):
    result = grading(graded, name)
    failed = [check for check in result["checks"] if check["status"] != "passed"]
    assert failed and result["score"] < result["max_score"]
    assert all([d["id"] for d in check["diagnoses"]] == [cause] for check in failed)
    assert not _broken(result)


def test_part_a_by_autograd_gives_the_numpy_checks_no_points_and_part_b_keeps_its_own(graded):
    result = grading(graded, "autograd_in_numpy_part")
    assert _broken(result) == {"no-autograd-in-numpy-part"}
    assert all(score == 0 < most for score, most in _scores(result, "numpy").values())
    assert all(score == most for score, most in _scores(result, "torch").values())


def test_part_b_gradients_by_hand_lose_the_gradient_checks_and_the_loss_keeps_its_point(graded):
    result = grading(graded, "hand_derived_gradients_in_torch_part")
    assert _broken(result) == {"gradients-from-autograd"}
    torch = _scores(result, "torch")
    loss, most = torch.pop("torch-loss")
    assert loss == most > 0  # the spec's `rules = []`: the loss is judged by its value alone
    assert torch and all(score == 0 for score, _ in torch.values())
    assert all(score == most for score, most in _scores(result, "numpy").values())

"""Diagnosis where the catalogue is silent or half right: the first thing to fix is in the
function with the bug, a catalogued mistake is named only where no passing check contradicts
it, and the failures that follow from another function's bug are that function's cause.

The hand-ins (tests/fixtures/diagnosis/<assignment>/) each state their bug in their docstring;
they are graded by the real CLI, with hidden cases, and read from the student's report page.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_SECRET, run_grader

HAND_INS = REPO / "tests" / "fixtures" / "diagnosis"
CATALOGUED = REPO / "tests" / "fixtures" / "misconceptions"

# hand-in -> (the function with the bug, the catalogued mistakes that must be named, exactly)
BACKPROP = {
    "hidden_error_untransposed": ("np_backward", set()),
    "hidden_delta_without_o2_path": ("np_backward", set()),  # not ignores-arguments
    "hidden_delta_o1_path_unit_derivative": (
        "np_backward",
        {"hidden-delta-o1-path-unit-derivative"},
    ),
    "sequential_update_in_a_helper": ("np_train", {"sequential-update"}),
    "two_mistakes_forward_and_loss_curve": (
        "np_forward",
        {"textbook-numbering", "loss-after-update"},
    ),
    "sigmoid_sign_fails_every_sigmoid_check": ("np_forward", set()),
    "raises_on_hidden_cases_only": ("np_backward", set()),
}
CONV2D = {
    "dx_cropped_on_the_wrong_side": ("conv2d_backward", set()),  # not padding-one-side
    "dweight_rotated": ("conv2d_backward", set()),  # not kernel-flipped
}
CAUSE = re.compile(r'id="cause-(\d+)" class="cause (\w[\w-]*)"><p><strong>(.*?)</strong>', re.S)


def _grade(tmp_path_factory, assignment: str, extra: tuple[Path, ...] = ()) -> Path:
    folder = tmp_path_factory.mktemp(f"hand-ins-{assignment}")
    for source in (*sorted((HAND_INS / assignment).glob("*.py")), *extra):
        shutil.copy(source, folder / source.name)
    out = folder.parent / f"{folder.name}-out"
    completed = run_grader(
        "grade", str(folder), "--out", str(out), "--assignment", assignment, secret=TEST_SECRET
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Path]:
    return {
        "backprop": _grade(
            tmp_path_factory,
            "backprop",
            (CATALOGUED / "hidden_delta_o1_path_unit_derivative.py",),
        ),
        "conv2d": _grade(tmp_path_factory, "conv2d"),
    }


def _causes(out: Path, hand_in: str) -> list[tuple[str, str]]:
    """(kind, title) of every cause on the student's page, in its order."""
    text = (out / hand_in / "report.html").read_text()
    return [(kind, html.unescape(title)) for _, kind, title in CAUSE.findall(text)]


def _function(title: str) -> str:
    return re.match(r"[A-Za-z_][A-Za-z0-9_]*", title).group(0)


def _named(out: Path, hand_in: str) -> set[str]:
    grading = json.loads((out / hand_in / "grading.json").read_text())
    return {
        d["id"]
        for check in grading["checks"]
        for d in check["diagnoses"]
        if d["kind"] == "misconception"
    }


CASES = [("backprop", name, *want) for name, want in BACKPROP.items()] + [
    ("conv2d", name, *want) for name, want in CONV2D.items()
]


@pytest.mark.parametrize(("assignment", "hand_in", "function", "named"), CASES)
def test_the_first_thing_to_fix_is_in_the_function_with_the_bug(
    graded, assignment, hand_in, function, named
):
    out = graded[assignment]
    causes = _causes(out, hand_in)
    assert causes, "the bug costs no points"
    assert _function(causes[0][1]) == function, causes
    assert _named(out, hand_in) == named


@pytest.mark.parametrize(
    "hand_in",
    [
        "hidden_error_untransposed",
        "hidden_delta_without_o2_path",
        "hidden_delta_o1_path_unit_derivative",
    ],
)
def test_training_that_steps_with_wrong_gradients_is_the_backward_functions_cause(graded, hand_in):
    """np_train steps with np_backward's gradients: its failures are said once, under np_backward."""
    out = graded["backprop"]
    causes = _causes(out, hand_in)
    assert [_function(title) for _, title in causes] == ["np_backward"], causes
    page = html.unescape((out / hand_in / "report.html").read_text())
    assert "Your np_train takes its steps with the gradients of your np_backward" in page


def test_two_mistakes_are_both_named_in_the_order_the_code_runs(graded):
    causes = _causes(graded["backprop"], "two_mistakes_forward_and_loss_curve")
    assert [(kind, _function(title)) for kind, title in causes] == [
        ("mistake", "np_forward"),
        ("mistake", "np_train"),
    ]


def test_a_function_that_raises_on_hidden_cases_only_is_an_error_not_a_formula(graded):
    causes = _causes(graded["backprop"], "raises_on_hidden_cases_only")
    assert {kind for kind, _ in causes} == {"error"}, causes

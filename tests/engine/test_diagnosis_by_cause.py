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
    "records_a_million_element_local_and_ten_thousand_lines": ("np_backward", set()),
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
# the catalogued hidden-delta family, beside the hand-ins whose hidden delta is wrong uncatalogued
HIDDEN_DELTA = (
    "hidden_delta_o1_path_unit_derivative",
    "hidden_delta_from_weight_grads",
    "hidden_delta_raw_error",
    "hidden_delta_wrong_unit_derivative",
)
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
            tuple(CATALOGUED / f"{n}.py" for n in (*HIDDEN_DELTA, "sequential_update")),
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


def test_a_step_taken_twice_is_not_called_a_loss_the_passing_gradients_contradict(graded):
    out = graded["backprop"]
    causes = _causes(out, "learning_rate_applied_twice_in_torch_train")
    assert causes and _function(causes[0][1]) == "torch_train", causes
    assert "mseloss-as-half-sse" not in _named(out, "learning_rate_applied_twice_in_torch_train")


def test_two_mistakes_are_both_named_in_the_order_the_code_runs(graded):
    causes = _causes(graded["backprop"], "two_mistakes_forward_and_loss_curve")
    assert [(kind, _function(title)) for kind, title in causes] == [
        ("mistake", "np_forward"),
        ("mistake", "np_train"),
    ]


def test_a_function_that_raises_on_hidden_cases_only_is_an_error_not_a_formula(graded):
    causes = _causes(graded["backprop"], "raises_on_hidden_cases_only")
    assert {kind for kind, _ in causes} == {"error"}, causes


LINE_NAMED = (
    "hidden_error_untransposed",
    "hidden_delta_without_o2_path",
    "records_a_million_element_local_and_ten_thousand_lines",
    *HIDDEN_DELTA,
)


@pytest.mark.parametrize("hand_in", LINE_NAMED)
def test_the_report_names_the_line_that_computes_the_hidden_delta(graded, hand_in):
    """The traced backward call's locals against the chain rule's intermediate values: the first
    to depart is the hidden delta, on the line of its file that assigns it."""
    source = next(
        f
        for f in (HAND_INS / "backprop" / f"{hand_in}.py", CATALOGUED / f"{hand_in}.py")
        if f.exists()
    )
    lines = source.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def np_backward"))
    line = (
        next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("delta_h =")) + 1
    )
    page = html.unescape((graded["backprop"] / hand_in / "report.html").read_text())
    assert f"departs from the chain rule: line {line}, `delta_h` = " in page
    assert "no value of the call equals delta_h (the hidden deltas" in page


def test_a_trace_beyond_its_bound_says_what_it_left_out(graded):
    page = html.unescape(
        (
            graded["backprop"]
            / "records_a_million_element_local_and_ten_thousand_lines"
            / "report.html"
        ).read_text()
    )
    assert re.search(r"Not recorded: \d+ later values and scratch \(too large\)", page)


def test_a_traced_calls_record_is_bounded_and_typed_as_it_is_read():
    """What the submission's process sends as its locals is a claim: records of the wrong shape,
    non-finite or oversized numbers and names beyond their bounds are left out or cut."""
    from grader.engine.execute import MAX_LOCAL_NUMBERS, MAX_LOCALS, read_locals

    good = ["np_backward", 42, "delta_h", [0.5, -0.25]]
    raw = {
        "records": [good] * (MAX_LOCALS + 50)
        + [
            ["f", 1, "x", [float("nan")]],
            ["f", True, "x", [1.0]],
            ["f", 1, "x", [1.0] * (MAX_LOCAL_NUMBERS + 1)],
            ["f", 1, "x"],
            "a string",
        ],
        "dropped": -5,
        "large": ["scratch" * 40, 3],
    }
    read = read_locals(raw)
    assert len(read["records"]) == MAX_LOCALS
    assert read["records"][0] == ("np_backward", 42, "delta_h", (0.5, -0.25))
    assert read["dropped"] == 0 and read["large"] == [("scratch" * 40)[:64]]
    malformed = {"records": [["f", 1, "x", [float("inf")]], ["f", 1, "x", [1e301]], "x"]}
    assert read_locals(malformed)["records"] == []
    assert read_locals("not a record") is None and read_locals({"records": "x"}) is None


def _line_of(source: Path, function: str, assignment: str) -> int:
    lines = source.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {function}"))
    return next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith(assignment)) + 1


def test_a_training_functions_own_bug_is_named_by_its_line_in_it(graded):
    """sequential-update written in np_train: one traced update departs first at the hidden
    delta computed with the already updated output weights, on its line in np_train."""
    line = _line_of(CATALOGUED / "sequential_update.py", "np_train", "delta_h =")
    grading = json.loads((graded["backprop"] / "sequential_update" / "grading.json").read_text())
    notes = [c["diagnosis_note"] for c in grading["checks"] if c["entry"] == "np_train"]
    said = f"The first value your np_train computes that departs from one step of gradient descent: line {line}, `delta_h` = "
    assert any(said in note for note in notes), notes

"""Does `python -m grader grade` give every bundled submission the verdicts it deserves?

One run of the real CLI over submissions/ (with hidden cases); each test reads
the files it wrote.  The expected values come from the reference, never from here.
"""

from __future__ import annotations

import csv
import json
import re
from html import unescape

import pytest

from grader.core.cases import draw_cases
from grader.core.spec import load_spec
from grader.engine.rules import HIDDEN_CASE, HIDDEN_EVIDENCE
from tests.conftest import SUBMISSIONS, TEST_SECRET, run_grader

CORRECT = sorted(p.stem for p in SUBMISSIONS.iterdir() if p.name.startswith("correct_"))


def results(out, submission_id: str) -> dict:
    return json.loads((out / submission_id / "results.json").read_text())


def checks_by_status(out, submission_id: str) -> dict[str, dict]:
    return {t["extra_data"]["check"]: t for t in results(out, submission_id)["tests"]}


def failing(out, submission_id: str) -> set[str]:
    return {
        check
        for check, test in checks_by_status(out, submission_id).items()
        if test["status"] != "passed"
    }


def test_the_batch_completes_with_exit_code_zero(graded_class):
    completed, out = graded_class
    assert completed.returncode == 0, completed.stderr
    graded = {p.name for p in out.iterdir() if p.is_dir()}
    assert graded == {p.stem if p.suffix else p.name for p in SUBMISSIONS.iterdir()}


@pytest.mark.parametrize("submission_id", CORRECT)
def test_every_correct_style_scores_full_marks(graded_class, submission_id):
    """Scalar, vectorised float32, torch.optim, a notebook with magics and a failing
    cell, a folder with a sibling import, a zip with a file named numpy.py."""
    _, out = graded_class
    result = results(out, submission_id)
    assert result["score"] == result["extra_data"]["max_score"] > 0, failing(out, submission_id)


def test_the_classic_hidden_layer_mistake_costs_only_numpy_gradient_checks(graded_class):
    _, out = graded_class
    tests = checks_by_status(out, "hidden_delta_from_weight_grads")
    lost = failing(out, "hidden_delta_from_weight_grads")
    assert "np-gradients" in lost and "np-one-step-weights" in lost
    assert all(
        tests[c]["extra_data"]["part"] == "numpy" for c in lost
    )  # the torch part keeps full marks
    assert {"np-forward-hidden", "np-forward-output", "np-one-step-loss"}.isdisjoint(
        lost
    )  # forward pass is right
    output = tests["np-gradients"]["output"]
    assert (
        "dE/dw1, dE/dw2, dE/dw3, dE/dw4" in output
        and "dE/dw5" not in output.split("are off")[1].split(")")[0]
    )


def test_an_infinite_loop_costs_its_time_limit_and_only_its_own_checks(graded_class):
    _, out = graded_class
    tests = checks_by_status(out, "infinite_loop")
    lost = failing(out, "infinite_loop")
    assert lost and all(
        c.startswith("np-") and tests[c]["extra_data"]["status"] == "timeout" for c in lost
    )
    assert all("np_train" in tests[c]["output"] for c in lost)
    assert "did not return within" in tests["np-one-step-loss"]["output"]
    assert "np-gradients" not in lost and not any(c.startswith("torch-") for c in lost)


def test_a_missing_entry_point_lists_what_the_submission_defined(graded_class):
    _, out = graded_class
    tests = checks_by_status(out, "missing_entry_point")
    lost = failing(out, "missing_entry_point")
    assert lost == {c for c in tests if c.startswith("np-")}
    message = tests["np-forward-output"]["output"]
    assert (
        "np_forward is not defined" in message
        and "forward_propagate(x1, x2, y1, y2, w1," in message
    )


def test_a_syntax_error_is_reported_with_its_line(graded_class):
    _, out = graded_class
    result = results(out, "syntax_error")
    assert result["score"] == 0
    grading = json.loads((out / "syntax_error" / "grading.json").read_text())
    [problem] = grading["load"]["problems"]
    assert problem["type"] == "SyntaxError" and "line" in problem["where"]
    assert "SyntaxError" in checks_by_status(out, "syntax_error")["np-gradients"]["output"]


def test_the_textbook_numbering_fails_the_gradient_checks(graded_class):
    _, out = graded_class
    assert {"np-forward-output", "np-gradients", "torch-gradients"} <= failing(
        out, "textbook_weight_numbering"
    )


def test_results_json_has_the_gradescope_fields(graded_class):
    _, out = graded_class
    for folder in (p for p in out.iterdir() if p.is_dir()):
        result = results(out, folder.name)
        assert result["score"] == sum(t["score"] for t in result["tests"])
        for test in result["tests"]:
            assert {
                "name",
                "score",
                "max_score",
                "status",
                "output",
                "visibility",
                "extra_data",
            } <= set(test)
            assert test["status"] in ("passed", "failed") and test["visibility"] in (
                "visible",
                "after_published",
            )
            assert {"check", "part", "status"} <= set(test["extra_data"])


def test_grades_csv_has_one_row_per_submission_with_part_totals(graded_class):
    _, out = graded_class
    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {p.name for p in out.iterdir() if p.is_dir()}
    for submission_id, row in rows.items():
        assert float(row["score"]) == results(out, submission_id)["score"]
        assert float(row["numpy"]) + float(row["torch"]) == float(row["score"])


def test_the_self_check_shows_public_cases_only(tmp_path):
    """Does `check` print a table and keep hidden cases to itself, even with the secret in the environment?"""
    completed = run_grader(
        "check",
        str(SUBMISSIONS / "hidden_delta_from_weight_grads.py"),
        "--out",
        str(tmp_path),
        secret=TEST_SECRET,
    )
    assert completed.returncode == 0, completed.stderr
    assert "np-gradients" in completed.stdout and "failed" in completed.stdout
    spec = load_spec()
    hidden_inputs = [
        repr(v) for draw in draw_cases(spec, TEST_SECRET.encode()).hidden for v in draw.x
    ]
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    for text in (completed.stdout, written):
        assert "hidden-1" not in text and not any(value in text for value in hidden_inputs)
    grading = json.loads((tmp_path / "hidden_delta_from_weight_grads" / "grading.json").read_text())
    assert all(not case["hidden"] for check in grading["checks"] for case in check["cases"])


# ------------------------------------------------------------------ the rules of each part

SHORTCUTS = {  # hand-in -> (the rule it breaks, the checks it breaks it in)
    # Part A's calls run without PyTorch: autograd there fails at its first tensor
    "autograd_in_numpy_part": ("no-torch-in-numpy-part", ("np_backward", "np_train")),
    "finite_differences_in_numpy_part": ("no-numerical-differentiation", ("np_backward",)),
    "numpy_gradients_in_torch_part": ("gradients-from-autograd", ("torch_backward",)),
}


@pytest.mark.parametrize("submission_id", sorted(SHORTCUTS))
def test_each_shortcut_gets_its_rules_outcome_with_the_message(graded_class, submission_id):
    """Withheld: no points for the checks whose calls broke it; flagged: points stay. Said at the top and beside each
    check, and in the class's table in the terminal."""
    completed, out = graded_class
    spec = load_spec()
    rule_id, entries = SHORTCUTS[submission_id]
    rule = next(r for r in spec.rules if r.id == rule_id)
    result = results(out, submission_id)
    assert rule_id in result["extra_data"]["rule_violations"]
    assert rule.message.split(";")[0].replace("'", "&#39;") in result["output"]
    affected = {
        t["extra_data"]["check"]: t
        for t in result["tests"]
        if rule_id in t["extra_data"]["rule_violations"]
    }
    covered = {c.id for c in spec.checks if c.entry in entries and rule_id in c.rules}
    statuses = {t["extra_data"]["check"]: t["extra_data"]["status"] for t in result["tests"]}
    # a call that ran out of time under the recording sent no record, and scores nothing anyway
    assert set(affected) <= covered and all(
        statuses[c] == "timeout" for c in covered - set(affected)
    )
    assert {c.id for c in spec.checks if c.entry == entries[0]} <= set(affected)
    for check_id, test in affected.items():
        assert "Evidence:" in test["output"]
        assert test["score"] == (0 if rule.outcome == "withhold" else spec.check(check_id).points)
    page = (out / submission_id / "report.html").read_text()
    assert f"Rule {rule_id} broken" in page
    if (
        rule.outcome == "withhold"
    ):  # right numbers, no points: the page must not call the checks passed
        assert (
            "Every autograded check passed" not in page and 'class="badge failed">withheld' in page
        )
    said = (
        f"rule {rule_id} broken (points withheld)"
        if rule.outcome == "withhold"
        else f"rule {rule_id} (flagged)"
    )  # a withholding rule is a cause: the table's first thing to fix, in the staff's words
    assert said in " ".join(completed.stdout.split())
    board = (out / "index.html").read_text()
    assert rule_id in board and submission_id in board.split('id="rules"')[1].split("</ul>")[0]


def test_the_finite_differences_evidence_counts_the_evaluations(graded_class):
    _, out = graded_class
    grading = json.loads((out / "finite_differences_in_numpy_part" / "grading.json").read_text())
    [rule] = [r for r in grading["rules"] if r["rule"] == "no-numerical-differentiation"]
    assert (
        "times" in rule["evidence"] and "1e-06" in rule["evidence"]
    )  # the runtime count, then the step constant


def test_no_correct_hand_in_breaks_a_rule(graded_class):
    """Every correct example, float64 and float32, loops and all: no rule finds anything."""
    _, out = graded_class
    for folder in sorted(out.glob("correct_*")):
        grading = json.loads((folder / "grading.json").read_text())
        assert [r for r in grading["rules"] if r["status"] == "broken"] == [], folder.name


def test_a_rule_broken_on_a_hidden_case_shows_the_student_the_rule_and_not_the_evidence(
    graded_class,
):
    """What a call did on a hidden case (counts, names the code chose) is the instructor's to see."""
    _, out = graded_class
    grading = json.loads((out / "autograd_in_numpy_part" / "grading.json").read_text())
    hidden = [
        f for check in grading["checks"] for f in check["rule_findings"] if f["case"] == HIDDEN_CASE
    ]
    assert hidden and all(
        f["evidence"] != HIDDEN_EVIDENCE for f in hidden
    )  # the instructor's view has it all
    # beside each check of the student's views, every finding on a hidden case gives the fixed evidence
    outputs = [test["output"] for test in results(out, "autograd_in_numpy_part")["tests"]]
    texts = [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", output))) for output in outputs]
    found = [f for text in texts for f in re.findall(r"on a hidden case : .*?Evidence: (.*)", text)]
    assert found and all(f.startswith(HIDDEN_EVIDENCE) for f in found)


@pytest.mark.parametrize("submission_id", CORRECT)
def test_no_correct_submission_is_flagged(graded_class, submission_id):
    """Torch imported at the top of a one-file hand-in, tensors kept and printed in Part A, torch.autograd.grad,
    torch.optim: none of it breaks a rule."""
    _, out = graded_class
    result = results(out, submission_id)
    assert result["extra_data"]["rule_violations"] == []
    assert all(t["extra_data"]["rule_violations"] == [] for t in result["tests"])

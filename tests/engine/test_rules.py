"""Are the rules of each part declared in the spec, validated like the rest of it, and
kept even by a submission that switches the grader's recording off?

The three shortcuts in submissions/ (autograd, finite differences, NumPy gradients
in the torch part) are graded with the bundled class in tests/test_grading.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from grader.core.spec import DEFAULT_SPEC, RULE_KINDS, SpecError, load_spec
from tests.conftest import REPO, SUBMISSIONS, run_grader

HOSTILE = REPO / "tests" / "hostile" / "disables_the_call_recording.py"


def test_the_spec_declares_a_rule_of_every_kind_with_its_default_outcome():
    """Do the autograd rules withhold and numerical differentiation flag, and which checks does
    each cover?  No torch in a part that runs without it withholds: there it fails the call."""
    spec = load_spec()
    rules = {rule.id: rule for rule in spec.rules}
    assert {rule.kind for rule in spec.rules} == set(RULE_KINDS)
    for rule in spec.rules:
        without = rule.kind == "no-torch" and not spec.part(rule.part).torch
        assert rule.message and rule.outcome == (
            "withhold" if without else RULE_KINDS[rule.kind][1]
        )
    assert not spec.part("numpy").torch and spec.part("torch").torch
    assert rules["no-numerical-differentiation"].entries == ("np_backward",)
    assert rules["gradients-from-autograd"].entries == ("torch_backward", "torch_train")
    for check in spec.checks:
        covered = {rule.kind for rule in spec.rules_of(check)}
        assert ("no-autograd" in covered) == (check.part == "numpy")
        assert ("gradients-from-autograd" in covered) == (
            check.entry in ("torch_backward", "torch_train")
        )


def test_a_rule_without_entries_or_outcome_takes_its_part_and_its_kind_default(tmp_path: Path):
    text = DEFAULT_SPEC.read_text().replace(
        'outcome = "flag"\nmin_evaluations = 16', "min_evaluations = 16"
    )
    text = text.replace('part = "numpy"\noutcome = "withhold"\n', 'part = "numpy"\n', 1)
    (tmp_path / "assignment.toml").write_text(text)
    spec = load_spec(tmp_path / "assignment.toml")
    rules = {rule.id: rule for rule in spec.rules}
    assert rules["no-autograd-in-numpy-part"].outcome == "withhold"
    assert rules["no-autograd-in-numpy-part"].entries == ("np_forward", "np_backward", "np_train")
    assert rules["no-numerical-differentiation"].outcome == "flag"


def test_a_check_may_hold_its_calls_to_rules_of_its_own(tmp_path: Path):
    """Does `rules = []` exempt one check, and does a check's list replace its part's rules?"""
    text = DEFAULT_SPEC.read_text().replace('quantity = "h"\n', 'quantity = "h"\nrules = []\n', 1)
    text = text.replace(
        'id = "np-gradients"\n', 'id = "np-gradients"\nrules = ["no-autograd-in-numpy-part"]\n', 1
    )
    (tmp_path / "assignment.toml").write_text(text)
    spec = load_spec(tmp_path / "assignment.toml")
    assert spec.check("np-forward-hidden").rules == ()
    assert spec.check("np-gradients").rules == ("no-autograd-in-numpy-part",)
    assert "no-autograd-in-numpy-part" in spec.check("np-forward-output").rules


@pytest.mark.parametrize(
    "change, key",
    [
        (('kind = "no-autograd"', 'kind = "no-gpu"'), "rule[0].kind"),
        (('outcome = "withhold"', 'outcome = "fail"'), "rule[0].outcome"),
        (
            ('entries = ["np_backward"]', 'entries = ["np_forward"]'),
            "rule[2].entries",
        ),  # a forward pass has no gradients
        (
            ('entries = ["torch_backward", "torch_train"]', 'entries = ["np_backward"]'),
            "rule[3].entries",
        ),  # another part's entry point
        (("min_evaluations = 16", "min_evaluations = 1"), "rule[2].min_evaluations"),
        (('id = "no-torch-in-numpy-part"', 'id = "no-autograd-in-numpy-part"'), "rule[1].id"),
        (
            (
                'kind = "no-torch"\npart = "numpy"\n',
                'kind = "no-torch"\npart = "numpy"\nmin_evaluations = 3\n',
            ),
            "rule[1].min_evaluations",
        ),
        (('quantity = "h"\n', 'quantity = "h"\nrules = ["no-such-rule"]\n'), "check[0].rules"),
        (
            ('quantity = "h"\n', 'quantity = "h"\nrules = ["gradients-from-autograd"]\n'),
            "check[0].rules",
        ),
        (('message = """Part A is NumPy only', 'words = """Part A is NumPy only'), "rule[1]"),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_key(tmp_path: Path, change, key):
    old, new = change
    text = DEFAULT_SPEC.read_text()
    assert old in text
    (tmp_path / "assignment.toml").write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as error:
        load_spec(tmp_path / "assignment.toml")
    assert f": {key}" in str(error.value) and "assignment.toml" in str(error.value)


@pytest.fixture(scope="module")
def hostile_graded(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("recording")
    shutil.copy(HOSTILE, folder / HOSTILE.name)
    out = folder / "out"
    completed = run_grader("grade", str(folder), "--out", str(out), "--no-cache")
    assert completed.returncode == 0, completed.stderr
    return out / HOSTILE.stem


def test_a_call_that_switches_the_recording_off_is_unverifiable_and_withheld(hostile_graded):
    """Removing the profile hook or popping torch's modes is never taken as a clean call."""
    results = json.loads((hostile_graded / "results.json").read_text())
    grading = json.loads((hostile_graded / "grading.json").read_text())
    spec = load_spec()
    checks = {c["check"]: c for c in grading["checks"]}
    for check in spec.checks:
        rules = spec.rules_of(check)
        findings = checks[check.id]["rule_findings"]
        if check.entry in ("np_backward", "np_train", "torch_backward"):
            assert findings and {f["status"] for f in findings} == {"unverifiable"}, check.id
            assert {f["rule"] for f in findings} == {r.id for r in rules}
            if any(r.outcome == "withhold" for r in rules):
                assert checks[check.id]["score"] == 0, check.id
        else:  # np_forward and torch_train never switch anything off
            assert not findings, check.id
    assert set(results["extra_data"]["rule_violations"]) == {r.id for r in spec.rules}
    evidence = " ".join(f["evidence"] for c in grading["checks"] for f in c["rule_findings"])
    assert (
        "setprofile" in evidence
        and "another thread" in evidence
        and "_pop_torch_dispatch_stack" in evidence
        and "switches the grader" in evidence
    )
    assert "could not be verified" in results["output"]


def test_the_next_call_is_recorded_again_after_one_switched_the_recording_off(hostile_graded):
    """The forward calls that follow a tampering np_backward in the same process still pass clean."""
    grading = json.loads((hostile_graded / "grading.json").read_text())
    forward = [c for c in grading["checks"] if c["entry"] == "np_forward"]
    assert forward and all(
        c["status"] == "passed" and c["score"] == c["max_score"] and not c["rule_findings"]
        for c in forward
    )


def test_the_record_of_a_call_is_read_bounded_and_typed():
    """What the submission's process says a call did is data from untrusted code: cut to size, wrong types dropped."""
    from grader.engine.rules import read_evidence

    forged = {
        "watched": ["no-autograd"] * 1000 + [7],
        "autograd": ["x" * 10_000],
        "torch_count": float("nan"),
        "evaluations": 10**30,
        "not_from_backward": [True, -1, 3, "2"] + list(range(1000)),
        "small_constants": [1e-6, "eps", None],
        "tampered": {"not": "a list"},
    }
    evidence = read_evidence(forged)
    assert len(evidence["watched"]) <= 12 and all(isinstance(k, str) for k in evidence["watched"])
    assert len(evidence["autograd"][0]) <= 200
    assert evidence["torch_count"] == 0 and evidence["evaluations"] == 10**9
    assert evidence["not_from_backward"][:2] == [3, 0] and len(evidence["not_from_backward"]) <= 64
    assert evidence["small_constants"] == [1e-6] and evidence["tampered"] == []
    assert read_evidence("evidence") is None and read_evidence(None) is None


LAUNDERING = REPO / "tests" / "hostile" / "launders_hand_gradients_through_a_backward_pass.py"
TORCH_FUNC_PART_B = REPO / "tests" / "fixtures" / "styles" / "torch_func_part_b.py"
INLINE_DIFFERENCES = (
    REPO / "tests" / "fixtures" / "styles" / "inline_forward_differences_np_backward.py"
)


@pytest.fixture(scope="module")
def laundering_graded(tmp_path_factory) -> Path:
    """The laundering hand-in beside correct ones, with the full spec."""
    folder = tmp_path_factory.mktemp("laundering")
    for source in (
        LAUNDERING,
        SUBMISSIONS / "correct_scalar.py",
        SUBMISSIONS / "correct_torch_optim.py",
    ):
        shutil.copy(source, folder / source.name)
    (folder / "correct_with_torch_func.py").write_text(  # correct_scalar's Part B by torch.func
        (SUBMISSIONS / "correct_scalar.py").read_text() + TORCH_FUNC_PART_B.read_text()
    )
    (folder / "finite_differences_inline.py").write_text(  # its np_backward written inline
        (SUBMISSIONS / "finite_differences_in_numpy_part.py").read_text()
        + INLINE_DIFFERENCES.read_text()
    )
    out = folder / "out"
    completed = run_grader("grade", str(folder), "--out", str(out), "--no-cache")
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def test_gradients_laundered_through_a_backward_pass_and_training_without_one_are_withheld(
    laundering_graded,
):
    """Expected verdict of tests/hostile/launders_hand_gradients_through_a_backward_pass.py."""
    spec = load_spec()
    rule = next(r for r in spec.rules if r.kind == "gradients-from-autograd")
    checks = {
        c["check"]: c
        for c in json.loads((laundering_graded / LAUNDERING.stem / "grading.json").read_text())[
            "checks"
        ]
    }
    for check in spec.checks:
        found = checks[check.id]
        if check.entry == "torch_backward" and found["status"] == "failed":
            # its hand derivatives are wrong here (cross-entropy): the values lose the points, and
            # a graph without the call's inputs is held against right values only
            assert found["score"] == 0 and not found["rule_findings"], check.id
        elif check.entry in ("torch_backward", "torch_train"):
            [finding] = [f for f in found["rule_findings"] if f["rule"] == rule.id][:1]
            assert finding["status"] == "broken" and found["score"] == 0, check.id
            words = (
                "no tensor saved in its graph"
                if check.entry == "torch_backward"
                else ("no backward pass ran during the training call")
            )
            assert words in finding["evidence"], finding
        elif check.part == "numpy":
            assert found["score"] == check.points, check.id


@pytest.mark.parametrize(
    "correct", ["correct_scalar", "correct_torch_optim", "correct_with_torch_func"]
)
def test_correct_part_b_beside_it_keeps_every_point_and_no_finding(laundering_graded, correct):
    grading = json.loads((laundering_graded / correct / "grading.json").read_text())
    assert all(not c["rule_findings"] for c in grading["checks"])
    assert grading["score"] == grading["max_score"] > 0


def test_inline_finite_differences_are_flagged_by_their_repeated_line_and_their_accuracy(
    laundering_graded,
):
    """No helper is called 16 times: the evidence is a line run once per weight, and float64
    values that agree with the reference only as a finite difference does; its points stay."""
    spec = load_spec()
    grading = json.loads(
        (laundering_graded / "finite_differences_inline" / "grading.json").read_text()
    )
    [rule] = [r for r in grading["rules"] if r["rule"] == "no-numerical-differentiation"]
    assert rule["status"] == "broken" and rule["outcome"] == "flag"
    assert re.search(r"the calls on line \d+ of np_backward \d+ times", rule["evidence"])
    assert "agree with the reference only to" in rule["evidence"]
    backward = [c for c in grading["checks"] if c["entry"] == "np_backward"]
    assert backward and all(c["score"] == spec.check(c["check"]).points for c in backward)


def test_no_correct_hand_in_beside_it_breaks_a_rule(laundering_graded):
    for name in ("correct_scalar", "correct_torch_optim", "correct_with_torch_func"):
        grading = json.loads((laundering_graded / name / "grading.json").read_text())
        assert [r for r in grading["rules"] if r["status"] == "broken"] == [], name

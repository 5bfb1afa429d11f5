"""Hand-ins that ignore the template, graded free-form through the real command line.

Each example states in its docstring what it must get; the expected values come from
the reference at the script's own setup (reference.backprop.variations)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from reference.backprop.variations import CORRECT, Variation, quantities
from tests.conftest import REPO, SUBMISSIONS, grading, run_grader, write_spec

GIVEN = ((0.5, 0.3), (0.23, -0.07), (0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8))
EXAMPLES = ("freeform_published", "freeform_weight_list.py", "freeform_matrices.py", "freeform_nn_linear.py", "freeform_nn_module.py",
            "freeform_printed_only.py", "freeform_changed_targets.py", "freeform_crash_halfway.py",
            "freeform_loss_list.py", "freeform_scalar_o1_path.py")  # fmt: skip
HOSTILE = ("freeform_loops_forever_after_one_update.py", "freeform_opens_a_window_and_writes_files.py", "freeform_asks_for_the_step_size.py",
           "freeform_training_loop_at_module_level.py", "freeform_trains_for_60000_updates.py",
           "freeform_forges_an_epoch_count_of_10_to_the_30.py")  # fmt: skip


FED_X = """import numpy as np

x = np.array([0.5, 0.3])
y = np.array([0.23, -0.07])
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


h = sigmoid(np.array([w1 * x[0] + w3 * x[1], w2 * x[0] + w4 * x[1]]))
o = sigmoid(np.array([w5 * x[0] + w7 * x[1], w6 * x[0] + w8 * x[1]]))  # fed x, not h
print("hidden:", h)
print("outputs:", o)
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("freeform-class")
    for name in EXAMPLES:
        source = SUBMISSIONS / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / name)
    for name in HOSTILE:
        shutil.copy(REPO / "tests" / "hostile" / name, folder / name)
    # a script that feeds x to the output layer (a catalogued mistake) and only prints
    (folder / "freeform_prints_outputs_fed_x.py").write_text(FED_X)
    # the scalar hand-in with a bug no catalogued mistake has: o2's path left out of d_h1
    scalar = (SUBMISSIONS / "freeform_scalar_o1_path.py").read_text()
    (folder / "freeform_scalar_uncatalogued.py").write_text(
        scalar.replace(
            "d_h1 = ((out_o1 - y1) * out_h1 * (1 - out_h1) * w5 + d_o2 * w6)",
            "d_h1 = (d_o1 * w5)",
        ).replace("(out_o1 - y1) * out_h2 * (1 - out_h2) * w7", "d_o1 * w7")
    )
    spec = write_spec(
        tmp_path_factory.mktemp("spec"),
        (
            "np-forward-output",
            "np-one-step-loss",
            "np-gradients",
            "np-one-step-weights",
            "torch-forward-output",
            "torch-gradients",
        ),
        {"load_seconds": 5},
    )
    out = tmp_path_factory.mktemp("out")
    completed = run_grader("grade", str(folder), "--out", str(out), "--spec", str(spec))
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def observations(out, submission: str) -> dict:
    """(check id or "", quantity) -> observation, over the submission's files."""
    result = json.loads((out / submission.removesuffix(".py") / "grading.json").read_text())
    found = {}
    for check in result["checks"]:
        assert check["mode"] == "free-form"
        for o in check["observations"]:
            found[(o["check_id"], o["quantity"])] = o
    for o in result["observations"]:  # those no check of the spec covers, too
        found.setdefault((o["check_id"], o["quantity"]), o)
    return found


def checks(out, submission: str) -> dict:
    return {c["check"]: c for c in grading(out, submission.removesuffix(".py"))["checks"]}


HIDDEN, OUTPUT = "hidden-layer gradients dE/dw1..w4", "output-layer gradients dE/dw5..w8"


def test_the_published_hand_in_is_graded_as_its_issue_says(graded):
    """NumPy forward and loss right, output-layer gradients right, hidden ones wrong and named; PyTorch right."""
    seen = checks(graded, "freeform_published")
    assert seen["np-forward-output"]["status"] == "passed"
    assert seen["np-one-step-loss"]["status"] == "passed"
    numpy_part = {o["quantity"]: o for o in seen["np-gradients"]["observations"]}
    assert numpy_part[OUTPUT]["status"] == "right"
    assert (
        numpy_part[HIDDEN]["status"] == "wrong"
        and "hidden-delta-from-weight-grads" in numpy_part[HIDDEN]["diagnoses"]
    )
    right = quantities(CORRECT, "np_backward", {"act": "sigmoid", "loss": "mse"}, *GIVEN)[
        "gradients"
    ]
    mistaken = quantities(
        Variation(hidden_delta="weight-grads"),
        "np_backward",
        {"act": "sigmoid", "loss": "mse"},
        *GIVEN,
    )["gradients"]
    assert np.allclose(numpy_part[HIDDEN]["observed"], mistaken[:4]) and np.allclose(
        numpy_part[HIDDEN]["expected"], right[:4]
    )
    assert [d["id"] for d in seen["np-gradients"]["diagnoses"]] == [
        "hidden-delta-from-weight-grads"
    ]
    assert seen["torch-gradients"]["status"] == "passed"
    assert all(o["status"] == "right" for o in seen["torch-gradients"]["observations"])
    assert (
        seen["np-gradients"]["score"] == 0 and seen["torch-gradients"]["score"] == 0
    )  # default credit: feedback only


# submission -> {(check id, quantity): (status, diagnosis named or None)}
EXPECTED = {
    "freeform_weight_list.py": {("np-forward-output", "forward outputs o"): ("right", None), ("np-gradients", HIDDEN): ("right", None),
                                ("np-gradients", OUTPUT): ("right", None)},
    "freeform_matrices.py": {("np-forward-output", "forward outputs o"): ("right", None), ("np-gradients", HIDDEN): ("wrong", "missing-output-derivative"),
                             ("np-gradients", OUTPUT): ("wrong", "missing-output-derivative")},
    "freeform_nn_linear.py": {("torch-gradients", HIDDEN): ("right", None), ("torch-gradients", OUTPUT): ("right", None)},
    "freeform_nn_module.py": {("torch-forward-output", "forward outputs o"): ("right", None), ("torch-gradients", HIDDEN): ("wrong", "no-half-in-loss"),
                              ("torch-gradients", OUTPUT): ("wrong", "no-half-in-loss")},
    "freeform_printed_only.py": {("np-forward-output", "forward outputs o"): ("right", None), ("np-one-step-loss", "loss"): ("right", None),
                                 ("np-gradients", HIDDEN): ("right", None), ("np-gradients", OUTPUT): ("right", None)},
    "freeform_changed_targets.py": {("np-forward-output", "forward outputs o"): ("right", None), ("np-gradients", HIDDEN): ("right", None),
                                    ("np-gradients", OUTPUT): ("right", None)},
    "freeform_crash_halfway.py": {("torch-gradients", HIDDEN): ("right", None), ("torch-gradients", OUTPUT): ("right", None)},
    "freeform_loss_list.py": {("np-forward-output", "forward outputs o"): ("right", None), ("np-gradients", HIDDEN): ("right", None),
                              ("", "weights at the end (after 200 updates)"): ("right", None), ("", "loss curve (200 epochs)"): ("wrong", "loss-after-update")},
    "freeform_scalar_o1_path.py": {("np-forward-output", "forward outputs o"): ("right", None), ("np-gradients", OUTPUT): ("right", None),
                                   ("np-gradients", HIDDEN): ("wrong", "hidden-delta-o1-path-unit-derivative")},
}  # fmt: skip


@pytest.mark.parametrize("submission", sorted(EXPECTED))
def test_each_free_form_style_gets_the_observations_its_docstring_states(graded, submission):
    """Is each style's quantity found on its own setup, right or wrong with the named mistake?"""
    seen = observations(graded, submission)
    for key, (status, mistake) in EXPECTED[submission].items():
        assert key in seen, f"{key} not observed: {sorted(seen)}"
        assert seen[key]["status"] == status, (key, seen[key])
        if mistake:
            assert mistake in seen[key]["diagnoses"], (key, seen[key])


def test_wrong_gradients_printed_beside_right_ones_are_wrong_and_the_check_fails(graded):
    """The scalar hand-in prints all eight gradients on one line, four of them wrong (the o1-path
    unit derivative): are those four wrong, at the reference's setup, and the check failed?"""
    seen = checks(graded, "freeform_scalar_o1_path.py")["np-gradients"]
    assert seen["status"] == "failed" and seen["score"] == 0
    hidden = next(o for o in seen["observations"] if o["quantity"] == HIDDEN)
    mistaken = quantities(
        Variation(hidden_delta="o1-hidden-slope"), "np_backward", {"act": "sigmoid"}, *GIVEN
    )["gradients"]
    assert np.allclose(hidden["observed"], mistaken[:4])


def test_uncatalogued_wrong_values_beside_right_ones_are_wrong_not_missing(graded):
    """o2's path left out of d_h1, a mistake the catalogue does not have, printed on one line with
    the right output-layer gradients: the hidden ones are wrong, never "not found"."""
    seen = checks(graded, "freeform_scalar_uncatalogued.py")["np-gradients"]
    assert seen["status"] == "failed"
    found = {o["quantity"]: o for o in seen["observations"]}
    assert found[OUTPUT]["status"] == "right"
    assert found[HIDDEN]["status"] == "wrong" and not found[HIDDEN]["diagnoses"]
    right = quantities(CORRECT, "np_backward", {"act": "sigmoid"}, *GIVEN)["gradients"]
    observed = np.array(found[HIDDEN]["observed"])
    assert np.allclose(observed[[1, 3]], right[[1, 3]]) and not np.allclose(observed, right[:4])


def test_a_catalogued_mistake_a_script_only_printed_is_reported_as_a_cause(graded):
    seen = checks(graded, "freeform_prints_outputs_fed_x.py")["np-forward-output"]
    assert seen["status"] == "failed"
    assert [d["id"] for d in seen["diagnoses"]] == ["output-layer-fed-inputs"]
    page = (graded / "freeform_prints_outputs_fed_x" / "report.html").read_text()
    assert (
        'class="cause mistake"><p><strong>np_forward: The output layer reads x instead of h' in page
    )


def test_changed_targets_are_checked_at_the_scripts_own_targets(graded):
    """Are the gradients of a script with y = (0.9, 0.1) compared with the reference at that y?"""
    seen = observations(graded, "freeform_changed_targets.py")[("np-gradients", OUTPUT)]
    assert seen["setup"]["y"] == [0.9, 0.1]
    right = quantities(
        CORRECT, "np_backward", {"act": "sigmoid", "loss": "mse"}, GIVEN[0], (0.9, 0.1), GIVEN[2]
    )["gradients"]
    assert np.allclose(seen["observed"], right[4:], rtol=1e-6)


def test_a_crash_half_way_is_reported_and_observed_up_to_there(graded):
    result = grading(graded, "freeform_crash_halfway")
    assert any("stopped half-way: ValueError" in p for p in result["problems"])
    assert checks(graded, "freeform_crash_halfway.py")["torch-gradients"]["status"] == "passed"


def test_results_json_says_free_form(graded):
    results = json.loads((graded / "freeform_published" / "results.json").read_text())
    assert {t["extra_data"]["mode"] for t in results["tests"]} == {"free-form"}
    assert "does not follow the template" in results["output"]


def test_a_script_that_loops_forever_is_cut_and_observed_up_to_there(graded):
    """Expected verdict of tests/hostile/freeform_loops_forever_after_one_update.py."""
    result = grading(graded, "freeform_loops_forever_after_one_update")
    assert any("time limit" in p for p in result["problems"])
    assert (
        checks(graded, "freeform_loops_forever_after_one_update.py")["np-forward-output"]["status"]
        == "passed"
    )


def test_windows_plots_files_and_10_mb_of_output_do_nothing(graded):
    """Expected verdict of tests/hostile/freeform_opens_a_window_and_writes_files.py."""
    result = grading(graded, "freeform_opens_a_window_and_writes_files")
    assert len(result["stdout"]) < 70 * 1024
    assert (
        checks(graded, "freeform_opens_a_window_and_writes_files.py")["np-gradients"]["status"]
        == "passed"
    )


def test_credit_gives_points_to_free_form_observations(tmp_path):
    """With [freeform] credit = 1, does a right free-form quantity earn its check's points?"""
    spec = write_spec(tmp_path, ("np-forward-output", "np-gradients"))
    spec.write_text(spec.read_text() + "\n[freeform]\ncredit = 1\n")
    completed = run_grader(
        "check",
        str(SUBMISSIONS / "freeform_weight_list.py"),
        "--out",
        str(tmp_path / "out"),
        "--spec",
        str(spec),
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads((tmp_path / "out" / "freeform_weight_list" / "grading.json").read_text())
    assert {c["check"]: c["score"] for c in result["checks"]} == {
        "np-forward-output": 1,
        "np-gradients": 4,
    }


def test_a_training_loop_at_the_top_level_is_observed_after_loading_times_out(graded):
    """Expected verdict of tests/hostile/freeform_training_loop_at_module_level.py."""
    result = grading(graded, "freeform_training_loop_at_module_level")
    assert result["load"]["status"] == "timeout"
    assert any("time limit" in p for p in result["problems"])
    seen = checks(graded, "freeform_training_loop_at_module_level.py")
    assert {seen[c]["status"] for c in ("np-forward-output", "np-gradients")} == {"passed"}
    assert {c["mode"] for c in seen.values()} == {"free-form"}


def test_input_gets_the_step_size_then_end_of_input_and_the_report_says_so(graded):
    """Expected verdict of tests/hostile/freeform_asks_for_the_step_size.py."""
    result = grading(graded, "freeform_asks_for_the_step_size")
    assert any("EOFError" in p for p in result["problems"])
    assert any(
        "input() was asked for a value at the prompt 'step size?' and given 0.5" in p
        for p in result["problems"]
    )
    assert not any("freeform.py, line" in p for p in result["problems"])  # the student's line only
    seen = checks(graded, "freeform_asks_for_the_step_size.py")
    assert {seen[c]["status"] for c in ("np-forward-output", "np-gradients")} == {"passed"}


def test_the_published_hand_ins_weights_at_the_end_are_checked_and_every_observation_is_on_its_page(
    graded,
):
    """Training 1000 epochs: the NumPy part's final weights carry the hidden-layer mistake, the
    PyTorch part's are right; no check of the spec covers that run, and the page still lists it."""
    result = grading(graded, "freeform_published")
    at_end = {
        o["source"].split(":")[0]: o
        for o in result["observations"]
        if o["quantity"].startswith("weights at the end")
    }
    assert (
        at_end["part_a.py"]["status"] == "wrong"
        and "hidden-delta-from-weight-grads" in at_end["part_a.py"]["diagnoses"]
    )
    assert at_end["part_b.py"]["status"] == "right"
    setup = at_end["part_b.py"]["setup"]
    final = quantities(
        CORRECT,
        "torch_train",
        {"act": "sigmoid", "loss": "mse", "lr": setup["lr"], "epochs": setup["epochs"]},
        GIVEN[0],
        GIVEN[1],
        GIVEN[2],
    )["final_weights"]
    assert np.allclose(
        at_end["part_b.py"]["observed"], final, rtol=1e-4
    )  # the reference at the script's own step size and epochs
    page = (graded / "freeform_published" / "report.html").read_text()
    assert 'id="free-form"' in page and page.count("weights at the end (after") == 2


def test_a_count_of_updates_beyond_the_homeworks_bound_is_not_re_run(graded):
    """Expected verdict of tests/hostile/freeform_trains_for_60000_updates.py: the class
    finished (the fixture), the first update is graded, the end is not compared, and says why."""
    from reference.backprop.freeform import MAX_EPOCHS

    seen = observations(graded, "freeform_trains_for_60000_updates.py")
    assert seen[("np-one-step-weights", "weights after the first update")]["status"] == "right"
    end = seen[("", "weights at the end")]
    assert end["status"] == "not-found"
    assert "60000 updates counted" in end["note"] and f"homework's {MAX_EPOCHS}" in end["note"]


def test_forged_records_with_huge_counts_end_the_run_and_what_came_before_is_graded(graded):
    """Expected verdict of tests/hostile/freeform_forges_an_epoch_count_of_10_to_the_30.py."""
    result = grading(graded, "freeform_forges_an_epoch_count_of_10_to_the_30")
    assert any("not a record" in p for p in result["problems"]), result["problems"]
    seen = observations(graded, "freeform_forges_an_epoch_count_of_10_to_the_30.py")
    assert seen[("np-one-step-weights", "weights after the first update")]["status"] == "right"
    assert not any("10000000000" in o.get("note", "") for o in seen.values())

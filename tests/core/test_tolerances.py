"""Are the tolerances derived, not guessed?  Loose enough for every correct
float32 run, tight enough for the classic hidden-layer mistake."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from grader.core.cases import draw_cases
from grader.core.expected import expected_from_runs, expected_values
from grader.core.spec import load_spec
from grader.engine.compare import judge
from reference.backprop import network
from reference.backprop.answers import reference_quantities, reference_runs
from reference.backprop.cases import xyw
from tests.conftest import TEST_SECRET

SPEC = load_spec()


@pytest.fixture(scope="module")
def every_expected():
    """The answer key of every check on the given and hidden cases, computed once for this module."""
    return expected_values(SPEC, draw_cases(SPEC, TEST_SECRET.encode()))


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_every_tolerance_accepts_a_float32_run(engine, every_expected):
    """Is a float32 implementation (NumPy, or torch for Part B) given every point, on every check and case?"""
    failures = []
    for expected in every_expected:
        check = SPEC.check(expected.check_id)
        if engine == "torch" and check.part == "numpy":
            continue  # a NumPy part is written in NumPy
        run = reference_quantities(check, expected.case, np.float32, engine)[check.quantity]
        verdict = judge(check, expected, np.atleast_1d(np.asarray(run, dtype=np.float64)))
        if not verdict.passed:
            failures.append((check.id, expected.case.id, verdict.message))
    assert not failures


def test_well_conditioned_checks_compare_every_element_on_the_given_case(every_expected):
    """Only ill-conditioned runs may leave elements out; the given case is compared whole."""
    for expected in every_expected:
        assert expected.comparable.any(), (expected.check_id, expected.case.id)
        if not expected.case.hidden:
            assert expected.comparable.all(), expected.check_id


def test_ill_conditioned_runs_are_handled_on_purpose():
    """ReLU with MSELoss at lr 5 for 1000 epochs: float32 and float64 part ways;
    the curve is compared up to that point and a float32 run still passes."""
    case = draw_cases(SPEC, None).given_case
    template = SPEC.check("torch-relu-mseloss-curve")
    check = replace(template, args=dict(template.args, lr=5.0, epochs=1000))
    runs = reference_runs(check, case)
    w64, w32 = runs[0]["final_weights"], runs[1]["final_weights"]
    assert np.max(np.abs(w32 - w64) / np.abs(w64)) > 0.05  # the runs really do part
    expected = expected_from_runs(check, case, runs, SPEC.float32_margin)
    assert 0 < expected.comparable.sum() < expected.comparable.size
    assert judge(check, expected, np.asarray(runs[1]["loss_curve"], dtype=np.float64)).passed
    assert judge(
        check, expected, np.asarray(runs[2]["loss_curve"], dtype=np.float64)
    ).passed  # torch float32


def _hidden_delta_from_weight_grads(x, y, w):
    """The classic mistake of ASSIGNMENT.md: dE/dw1 = (dE/dw5 + dE/dw6) * h1(1-h1) * x1."""
    g = network.gradients(x, y, w).copy()
    h = network.forward(x, w).h
    x = np.asarray(x)
    g[0] = (g[4] + g[5]) * h[0] * (1 - h[0]) * x[0]
    g[2] = (g[4] + g[5]) * h[0] * (1 - h[0]) * x[1]
    g[1] = (g[6] + g[7]) * h[1] * (1 - h[1]) * x[0]
    g[3] = (g[6] + g[7]) * h[1] * (1 - h[1]) * x[1]
    return g


def test_the_classic_hidden_layer_mistake_is_outside_every_gradient_tolerance(every_expected):
    """Two of its four hidden gradients are within 4 % of the right ones: every one must still fail."""

    def plain_sigmoid_mse(check):
        return check.args == {"act": "sigmoid", **({"loss": "mse"} if "loss" in check.args else {})}

    gradient_checks = [
        e
        for e in every_expected
        if SPEC.check(e.check_id).quantity == "gradients"
        and plain_sigmoid_mse(SPEC.check(e.check_id))
    ]
    assert len({e.check_id for e in gradient_checks}) >= 4
    for expected in gradient_checks:
        case = expected.case
        mistaken = _hidden_delta_from_weight_grads(*xyw(case))
        verdict = judge(SPEC.check(expected.check_id), expected, mistaken)
        assert not verdict.passed, (expected.check_id, case.id)
        if case.id == "given":
            assert set(verdict.off) == {"dE/dw1", "dE/dw2", "dE/dw3", "dE/dw4"}
            near = np.abs(mistaken[[1, 3]] / expected.value[[1, 3]] - 1)
            assert np.all(near < 0.04)  # the mistake's own closeness, measured

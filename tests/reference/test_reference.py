"""Is the reference right?  Three independent computations must agree, and the
given case must reproduce the figures the course publishes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference.backprop import autograd, finite_differences, network
from reference.backprop.network import ACTIVATIONS, LOSSES

GIVEN = dict(x=(0.5, 0.3), y=(0.23, -0.07), w=(0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8))
VARIANTS = list(itertools.product(ACTIVATIONS, LOSSES))


def _cases(count: int = 6):
    rng = np.random.default_rng(7)
    cases = [GIVEN]
    while len(cases) < count:
        cases.append(
            dict(x=rng.uniform(-1, 1, 2), y=rng.uniform(-0.2, 1, 2), w=rng.uniform(-1, 1, 8))
        )
    cases.append(
        dict(x=GIVEN["x"], y=GIVEN["y"], w=rng.uniform(0, 1, 8))
    )  # random init, as torch.rand
    return cases


def test_given_case_reproduces_the_published_figures():
    """Does the reference give ASSIGNMENT.md's numbers for the given case (sigmoid, mse)?

    The only test with typed-in figures: it catches a reference whose three
    methods agree with each other on the wrong weight numbering."""
    forward = network.forward(GIVEN["x"], GIVEN["w"], "sigmoid")
    assert np.round(forward.o, 5).tolist() == [0.47695, 0.52870]
    assert round(float(network.loss_value(forward.o, GIVEN["y"])), 5) == 0.20971
    published = [-0.00842, 0.01261, -0.00505, 0.00756, 0.03463, 0.08387, 0.03049, 0.07384]
    assert np.round(network.gradients(GIVEN["x"], GIVEN["y"], GIVEN["w"]), 5).tolist() == published


@pytest.mark.parametrize("act,loss", VARIANTS)
def test_chain_rule_equals_autograd_equals_finite_differences(act, loss):
    """Do the hand-derived gradients, autograd's and central differences agree, for every variant?"""
    compared = 0
    for case in _cases():
        by_hand = network.gradients(case["x"], case["y"], case["w"], act, loss)
        by_autograd = autograd.gradients(case["x"], case["y"], case["w"], act, loss)
        np.testing.assert_allclose(by_hand, by_autograd, rtol=1e-12, atol=1e-14)
        if finite_differences.near_kink(case["x"], case["w"], act):
            continue  # ReLU's kink: the derivative there is a convention (0), not a limit
        numeric = finite_differences.gradients(case["x"], case["y"], case["w"], act, loss)
        np.testing.assert_allclose(by_hand, numeric, rtol=1e-6, atol=1e-8)
        compared += 1
    assert compared >= 4


def test_relu_derivative_at_the_kink_is_zero_in_both_references():
    """At z == 0 exactly (all-zero weights) both references take ReLU's slope as 0."""
    zero = np.zeros(8)
    for loss in LOSSES:
        assert network.gradients(GIVEN["x"], GIVEN["y"], zero, "relu", loss).tolist() == [0.0] * 8
        assert autograd.gradients(GIVEN["x"], GIVEN["y"], zero, "relu", loss).tolist() == [0.0] * 8


@pytest.mark.parametrize("act,loss", VARIANTS)
def test_training_runs_agree(act, loss):
    """Do both references train to the same weights with the same loss curve?"""
    for case in _cases(3):
        w_hand, curve_hand = network.train(case["x"], case["y"], case["w"], 0.5, 50, act, loss)
        w_auto, curve_auto = autograd.train(case["x"], case["y"], case["w"], 0.5, 50, act, loss)
        np.testing.assert_allclose(curve_hand, curve_auto, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(w_hand, w_auto, rtol=1e-9, atol=1e-12)


def test_training_records_the_loss_before_each_update_and_leaves_arguments_alone():
    w = np.array(GIVEN["w"])
    final, curve = network.train(GIVEN["x"], GIVEN["y"], w, 0.5, 3)
    assert w.tolist() == list(GIVEN["w"])
    assert len(curve) == 3
    assert curve[0] == pytest.approx(
        float(network.loss_value(network.forward(GIVEN["x"], w).o, GIVEN["y"]))
    )
    one_step = w - 0.5 * network.gradients(GIVEN["x"], GIVEN["y"], w)
    assert curve[1] == pytest.approx(
        float(network.loss_value(network.forward(GIVEN["x"], one_step).o, GIVEN["y"]))
    )


def test_variant_relations_stated_in_the_assignment():
    """MSELoss gradients are twice mse's; torch.sigmoid equals the hand-written sigmoid."""
    for case in _cases(4):
        mse = network.gradients(case["x"], case["y"], case["w"], "sigmoid", "mse")
        np.testing.assert_allclose(
            network.gradients(case["x"], case["y"], case["w"], "sigmoid", "MSELoss"),
            2 * mse,
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            autograd.gradients(case["x"], case["y"], case["w"], "torch.sigmoid", "mse"),
            mse,
            rtol=1e-12,
            atol=1e-15,
        )


def test_zero_weights_give_zero_hidden_gradients_and_symmetric_hidden_units():
    zero = np.zeros(8)
    g = network.gradients(GIVEN["x"], GIVEN["y"], zero)
    assert g[:4].tolist() == [0.0] * 4 and np.all(g[4:] != 0)
    final, _ = network.train(GIVEN["x"], GIVEN["y"], zero, 1.0, 50)
    assert final[0] == pytest.approx(final[1]) and final[2] == pytest.approx(
        final[3]
    )  # h1 and h2 stay equal

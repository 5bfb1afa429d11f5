"""The inputs every check is run on: the given case, and hidden cases.

Hidden cases are drawn from the instructor's secret (grader.core.cases), so they are
the same on every run with the same secret and unknown to anyone without it.
A check's `weights` key picks its initial weights: the case's own, all zero, or
random ones (as torch.rand draws them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.core.cases import Case, secret_rng_seed
from grader.core.spec import Check, Spec
from reference.backprop import network

# The public draw of "random initial weights" (weights = "random", given case):
# published, like the given case, so a student can reproduce it.
PUBLIC_RANDOM_SEED = 2026


WEIGHT_KINDS = ("given", "zero", "random")


def case_of(case_id: str, x, y, w, hidden: bool) -> Case:
    return Case.of(case_id, {"x": x, "y": y, "w": w}, hidden)


def xyw(case: Case) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """The case's x, y and w (ASSIGNMENT.md's order)."""
    return tuple(case.inputs["x"]), tuple(case.inputs["y"]), tuple(case.inputs["w"])


@dataclass(frozen=True)
class _Draw:
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    random_w: np.ndarray


def _well_conditioned(x, w, margin: float) -> bool:
    """Every unit's |z| is at least `margin` and both ReLU outputs are active,
    so ReLU checks on this case test the whole backward pass, away from the kink."""
    f = network.forward(x, w, "relu")
    z = np.concatenate([f.z_hidden, f.z_output])
    return bool(np.all(np.abs(z) >= margin) and np.all(f.o > 0))


def _hidden_draws(spec: Spec, secret: bytes) -> list[_Draw]:
    rng = np.random.default_rng(secret_rng_seed(secret))
    ranges = spec.tables["hidden_case_ranges"]
    draws = []
    while len(draws) < spec.max_hidden_cases:
        x = rng.uniform(*ranges["x"], size=2)
        y = rng.uniform(*ranges["y"], size=2)
        w = rng.uniform(*ranges["w"], size=8)
        random_w = rng.uniform(*ranges["random_w"], size=8)
        if _well_conditioned(x, w, ranges["min_preactivation"]):
            draws.append(_Draw(x, y, w, random_w))
    return draws


def _weights(kind: str, signed, unit) -> tuple[float, ...]:
    if kind == "zero":
        return (0.0,) * 8
    return tuple(np.asarray(unit if kind == "random" else signed, dtype=float).tolist())


@dataclass(frozen=True)
class CaseBook:
    """Every case of a run, drawn once: `draw_cases(spec, secret).for_check(check)`."""

    given: dict
    public_random_w: tuple[float, ...]
    hidden: tuple[_Draw, ...]

    def for_check(self, check: Check) -> list[Case]:
        """The given case, then the check's hidden cases when a secret is known."""
        given, kind = self.given, check.options["weights"]
        case_id = "given" if kind == "given" else f"given-{kind}-weights"
        cases = [
            case_of(
                case_id,
                given["x"],
                given["y"],
                _weights(kind, given["w"], self.public_random_w),
                False,
            )
        ]
        for index, draw in enumerate(self.hidden[: check.hidden_cases], start=1):
            cases.append(
                case_of(
                    f"hidden-{index}", draw.x, draw.y, _weights(kind, draw.w, draw.random_w), True
                )
            )
        return cases

    @property
    def given_case(self) -> Case:
        """The given case itself, whatever weights a check asks for."""
        return case_of("given", self.given["x"], self.given["y"], self.given["w"], False)


def draw_cases(spec: Spec, secret: bytes | None) -> CaseBook:
    public_random_w = np.random.default_rng(PUBLIC_RANDOM_SEED).uniform(0.0, 1.0, size=8)
    hidden = tuple(_hidden_draws(spec, secret)) if secret else ()
    return CaseBook(spec.tables["given_case"], tuple(public_random_w.tolist()), hidden)

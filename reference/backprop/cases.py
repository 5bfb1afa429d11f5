"""The inputs every check is run on: the given case, and hidden cases.

Hidden cases are drawn from the instructor's secret, so they are the same on
every run with the same secret and unknown to anyone without it.  The secret
is read here and only here; it never reaches a submission's process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference import network
from reference.spec import Check, Spec

# The public draw of "random initial weights" (weights = "random", given case):
# published, like the given case, so a student can reproduce it.
PUBLIC_RANDOM_SEED = 2026


@dataclass(frozen=True)
class Case:
    id: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    w: tuple[float, ...]
    hidden: bool

    @property
    def inputs(self) -> dict[str, list[float]]:
        """The case's values by argument name (reference/contract.py CASE_INPUTS)."""
        return {"x": list(self.x), "y": list(self.y), "w": list(self.w)}

    def to_dict(self) -> dict:
        return {"id": self.id, **self.inputs, "hidden": self.hidden}


def load_secret(spec: Spec, environ: dict, secret_file: Path | None = None) -> bytes | None:
    """The secret from a file (outside the repository) or the spec's environment variable."""
    if secret_file is not None:
        secret = Path(secret_file).read_bytes().strip()
    else:
        secret = environ.get(spec.secret_env, "").encode()
    return secret or None


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
    seed = int.from_bytes(hashlib.sha256(b"hidden-cases\0" + secret).digest()[:16], "big")
    rng = np.random.default_rng(seed)
    ranges = spec.hidden_case_ranges
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
        given = self.given
        case_id = "given" if check.weights == "given" else f"given-{check.weights}-weights"
        w = _weights(check.weights, given["w"], self.public_random_w)
        cases = [Case(case_id, tuple(given["x"]), tuple(given["y"]), w, False)]
        for index, draw in enumerate(self.hidden[: check.hidden_cases], start=1):
            w = _weights(check.weights, draw.w, draw.random_w)
            cases.append(Case(f"hidden-{index}", tuple(draw.x.tolist()), tuple(draw.y.tolist()), w, True))
        return cases


def draw_cases(spec: Spec, secret: bytes | None) -> CaseBook:
    public_random_w = np.random.default_rng(PUBLIC_RANDOM_SEED).uniform(0.0, 1.0, size=8)
    hidden = tuple(_hidden_draws(spec, secret)) if secret else ()
    return CaseBook(spec.given_case, tuple(public_random_w.tolist()), hidden)

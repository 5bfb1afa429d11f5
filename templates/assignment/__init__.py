"""The __NAME__ assignment: y = x @ w + b by hand in NumPy (a scaffold to edit).

Written by `python -m grader new-assignment __NAME__`.  Everything the engine asks of an
assignment is here, in one file: the contract (what students define), how the cases are drawn,
the reference values, and a catalogue of one mistake.  Edit it into your own homework; the
folder imports its own modules relatively (`from . import mine`).  docs/assignments.md says
what each piece is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.assignment import Reference
from grader.cases import Case, secret_rng_seed
from grader.catalog import Misconception
from grader.contract import Contract, EntryPoint, Quantity, inputs

FOLDER = Path(__file__).resolve().parent

# What students define: one entry point of Part A, its inputs in order, what it returns.
CONTRACT = Contract(
    {"np_affine": EntryPoint("numpy", "numpy", inputs("x", "w", "b"), ("y",), ("y",))},
    {"y": Quantity("y", "the outputs y = x @ w + b", count_words="shape (batch, units)")},
)


@dataclass(frozen=True)
class Variation:
    """One way to get it wrong; every default is the reference."""

    transposed: bool = False  # x @ w.T: the weight read the other way round


def affine(v: Variation, x, w, b, dtype=np.float64) -> np.ndarray:
    x, w, b = (np.asarray(a, dtype=dtype) for a in (x, w, b))
    return x @ (w.T if v.transposed else w) + b


@dataclass(frozen=True)
class CaseBook:
    """The given case (from the spec's seed), then hidden cases drawn with the secret."""

    given: Case
    hidden: tuple[Case, ...] = ()

    def for_check(self, check) -> list[Case]:
        return [self.given, *self.hidden[: check.hidden_cases]]


def _case(case_id: str, rng: np.random.Generator, hidden: bool) -> Case:
    x, w, b = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (3,))
    return Case.of(case_id, {"x": x, "w": w, "b": b}, hidden)


def draw_cases(spec, secret: bytes | None) -> CaseBook:
    given = _case("given", np.random.default_rng(spec.tables["given_case"]["seed"]), False)
    if not secret:
        return CaseBook(given)
    seed = secret_rng_seed(secret)
    hidden = tuple(
        _case(f"hidden-{i}", np.random.default_rng([seed, i]), True)
        for i in range(1, spec.max_hidden_cases + 1)
    )
    return CaseBook(given, hidden)


def _arguments(case: Case) -> tuple:
    return tuple(np.asarray(case.inputs[name]) for name in ("x", "w", "b"))


def reference_runs(check, case: Case) -> tuple[dict, ...]:
    """The float64 value, then the same in float32 (what float32 can pin down)."""
    return tuple(
        {"y": affine(Variation(), *_arguments(case), dtype=dtype)}
        for dtype in (np.float64, np.float32)
    )


def predict(variation: Variation, check, case: Case, book) -> dict:
    """What a submission with the mistake `variation` returns on `case`."""
    return {"y": affine(variation, *_arguments(case))}


CATALOG = (
    Misconception(
        "transposed-weight",
        "The weight matrix read the other way round",
        "The outputs were computed as x @ w.T + b: w holds one column per output unit, so output j is "
        "the sum over i of x[i] * w[i, j], not of x[i] * w[j, i]. Keep w as it is given and multiply x by it.",
        "y = x @ w + b",
        ("numpy",),
        (Variation(transposed=True),),
    ),
)

REFERENCE = Reference(
    contract=CONTRACT,
    draw_cases=draw_cases,
    reference_runs=reference_runs,
    predict=predict,
    catalog=CATALOG,
    spec_tables={
        "given_case": {
            "type": "object",
            "required": ["seed"],
            "additionalProperties": False,
            "properties": {"seed": {"type": "integer", "minimum": 0}},
        }
    },
    starter=(FOLDER / "starter" / "__NAME__.py",),
    examples=FOLDER / "examples",
    source=FOLDER,
)

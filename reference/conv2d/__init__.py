"""The convolution homework: conv2d forward and backward by hand (NumPy) and with autograd (PyTorch)."""

from __future__ import annotations

from pathlib import Path

from grader.core.assignment import REPOSITORY, Reference
from reference.conv2d.cases import SHAPE_KEYS, draw_cases
from reference.conv2d.contract import CONTRACT
from reference.conv2d.misconceptions import CATALOG
from reference.conv2d.probes import PROBES
from reference.conv2d.runs import reference_runs
from reference.conv2d.variations import predict

FOLDER = Path(__file__).resolve().parent

_size = {"type": "integer", "minimum": 1, "maximum": 16}
_range = {"type": "array", "prefixItems": [_size, _size], "minItems": 2, "maxItems": 2}
_number = {"type": "number", "minimum": -100, "maximum": 100}
GIVEN_CASE = {
    "type": "object",
    "required": ["seed", "low", "high", *SHAPE_KEYS],
    "additionalProperties": False,
    "properties": {
        "seed": {"type": "integer", "minimum": 0},
        "low": _number,
        "high": _number,
        **dict.fromkeys(SHAPE_KEYS, _size),
    },
}
HIDDEN_CASE_RANGES = {
    "type": "object",
    "required": ["values", *SHAPE_KEYS],
    "additionalProperties": False,
    "properties": {
        "values": {
            "type": "array",
            "prefixItems": [_number, _number],
            "minItems": 2,
            "maxItems": 2,
        },
        **dict.fromkeys(SHAPE_KEYS, _range),
    },
}

REFERENCE = Reference(
    contract=CONTRACT,
    draw_cases=draw_cases,
    reference_runs=reference_runs,
    predict=predict,
    catalog=CATALOG,
    probes=PROBES,
    spec_tables={"given_case": GIVEN_CASE, "hidden_case_ranges": HIDDEN_CASE_RANGES},
    warm_up=FOLDER / "warmup.py",
    starter=(FOLDER / "starter" / "conv2d.py", FOLDER / "starter" / "conv2d.ipynb"),
    examples=REPOSITORY / "submissions" / "conv2d",
    source=FOLDER,
)

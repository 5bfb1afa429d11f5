"""Back-propagation in a 2-2-2 network (ASSIGNMENT.md), as the engine grades it.

The spec is assignment.toml; the network is computed by hand in NumPy
(network.py) and with autograd (autograd.py), checked against central
differences (finite_differences.py); its catalogue of mistakes is
misconceptions.py, built on variations.py; the diagnosis' probes are probes.py.
"""

from __future__ import annotations

from pathlib import Path

from grader.core.assignment import REPOSITORY, Reference
from reference.backprop.answers import reference_runs
from reference.backprop.cases import WEIGHT_KINDS, draw_cases
from reference.backprop.contract import CONTRACT
from reference.backprop.freeform import recognise
from reference.backprop.misconceptions import CATALOG, predict
from reference.backprop.probes import PROBES

FOLDER = Path(__file__).resolve().parent

_number = {"type": "number"}
_pair = {"type": "array", "items": _number, "minItems": 2, "maxItems": 2}
SPEC_TABLES = {
    "given_case": {  # the given case of ASSIGNMENT.md: inputs, not expectations
        "type": "object",
        "required": ["x", "y", "w"],
        "additionalProperties": False,
        "properties": {
            "x": _pair,
            "y": _pair,
            "w": {"type": "array", "items": _number, "minItems": 8, "maxItems": 8},
        },
    },
    "hidden_case_ranges": {  # hidden cases are drawn uniformly from these with the instructor's secret
        "type": "object",
        "required": ["x", "y", "w", "random_w", "min_preactivation"],
        "additionalProperties": False,
        "properties": {
            "x": _pair,
            "y": _pair,
            "w": _pair,
            "random_w": _pair,
            "min_preactivation": {"type": "number", "minimum": 0, "maximum": 0.5},
        },
    },
}

REFERENCE = Reference(
    contract=CONTRACT,
    draw_cases=draw_cases,
    reference_runs=reference_runs,
    predict=predict,
    catalog=CATALOG,
    probes=PROBES,
    spec_tables=SPEC_TABLES,
    check_keys={"weights": ({"enum": list(WEIGHT_KINDS)}, "given")},  # a check's initial weights
    warm_up=FOLDER / "warmup.py",
    starter=(FOLDER / "starter" / "backprop.py", FOLDER / "starter" / "backprop.ipynb"),
    examples=REPOSITORY / "submissions" / "backprop",
    source=FOLDER,
    recognise=recognise,
    # a script of this homework asks for its step size, if anything: the one-step checks' lr
    input_answers=(("0.5", "a step size, the one the one-step checks use"),),
)

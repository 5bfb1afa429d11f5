"""`grader.contract`, by the name the README gives an assignment's authors: grader/core/contract.py's names."""

from grader.core.contract import (
    FRAMEWORKS,
    REQUIRED,
    Contract,
    EntryPoint,
    Parameter,
    Quantity,
    inputs,
    option,
)

__all__ = [
    "REQUIRED",
    "FRAMEWORKS",
    "Parameter",
    "option",
    "inputs",
    "EntryPoint",
    "Quantity",
    "Contract",
]

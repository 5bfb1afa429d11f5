"""`grader.contract`, by the name the README gives an assignment's authors: grader/core/contract.py's names."""

from grader.core.contract import (
    DTYPES,
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
    "DTYPES",
    "Parameter",
    "option",
    "inputs",
    "EntryPoint",
    "Quantity",
    "Contract",
]

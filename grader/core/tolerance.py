"""Tolerance: how close a submission's number must be to the reference's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """|observed - expected| <= atol + rtol * |expected|, element by element.

    Declared by name in the assignment spec; `margin` is how many times looser
    than a float32 run of the reference the tolerance must be for an element
    to be compared at all (see `reference.expected`).
    """

    name: str
    rtol: float
    atol: float

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        return self.atol + self.rtol * np.abs(expected)

    def accepts(self, observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """Per element: within the tolerance of a finite expected value, or non-finite where it is."""
        return agrees(observed, expected, self.allowed(np.nan_to_num(expected)))

    def __str__(self) -> str:
        return f"{self.name}: ± ({self.atol:g} + {self.rtol:g}·|expected|)"


def agrees(observed, expected: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The one element-wise rule of the grader: |observed - expected| <= allowed where
    `expected` is finite; a non-finite value (nan, inf) where it is not."""
    observed = np.asarray(observed, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(observed - expected) <= allowed
    return np.where(np.isfinite(expected), np.isfinite(observed) & close, ~np.isfinite(observed))

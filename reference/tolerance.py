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

    def __str__(self) -> str:
        return f"{self.name}: ± ({self.atol:g} + {self.rtol:g}·|expected|)"

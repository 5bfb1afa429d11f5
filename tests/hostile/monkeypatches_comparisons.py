"""Attempts to pass by making every comparison say "equal": numpy, math and
torch comparison functions and builtins are replaced, and the functions return
zeros.

Expected verdict: every check it answers fails (the grader compares in its own
process, where none of this reaches); the batch goes on.
"""

import builtins
import math

import numpy as np
import torch

always = lambda *args, **kwargs: True  # noqa: E731
np.allclose = np.array_equal = np.array_equiv = always
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = np.testing.assert_array_almost_equal = lambda *a, **k: None
math.isclose = always
math.isfinite = always
torch.allclose = torch.equal = always
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.testing.assert_close = lambda *a, **k: None
builtins.abs = lambda value: 0
builtins.round = lambda value, *args: value
builtins.max = builtins.min = lambda *args, **kwargs: 0


def np_forward(x, w, act="sigmoid"):
    return np.zeros(2), np.zeros(2)


def np_backward(x, y, w, act="sigmoid"):
    return np.zeros(8)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    return torch.zeros(8)

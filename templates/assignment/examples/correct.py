"""A correct hand-in: every check passes, full marks, nothing named."""

import numpy as np


def np_affine(x, w, b):
    return x @ w + b

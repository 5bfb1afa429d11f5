"""A hand-in that does not load: a colon missing after a def.

Expected verdict: the submission fails to load (SyntaxError, with its line);
every check gets no points and no entry point is called.
Expected diagnosis: none.
"""

import numpy as np


def conv2d_forward(x, weight, bias, stride=1, padding=0)
    return np.zeros((1, 1, 1, 1))

"""Changes its arguments in place (w -= lr * g inside np_backward, x scaled in
np_forward), which the contract forbids, while returning the right values.

Expected verdict: the checks pass (each call gets fresh arguments) with a note
that the function changed its argument in place.
"""

import numpy as np


def np_forward(x, w, act="sigmoid"):
    h = 1 / (1 + np.exp(-np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])))
    o = 1 / (1 + np.exp(-np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])))
    x *= 2
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    h, o = np_forward(x.copy(), w)
    delta_o = (o - y) * o * (1 - o)
    delta_h = np.array([delta_o[0] * w[4] + delta_o[1] * w[5], delta_o[0] * w[6] + delta_o[1] * w[7]]) * h * (1 - h)
    g = np.array([delta_h[0] * x[0], delta_h[1] * x[0], delta_h[0] * x[1], delta_h[1] * x[1],
                  delta_o[0] * h[0], delta_o[1] * h[0], delta_o[0] * h[1], delta_o[1] * h[1]])
    w -= 0.5 * g
    return g

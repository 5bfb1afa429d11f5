"""Part A as such a student writes it: scalar globals, its own back_propagate returning all
eight gradients, and one line printing them every epoch.

Its hidden-layer gradients take the hidden unit's slope out_h*(1 - out_h) where o1's slope
out_o1*(1 - out_o1) belongs, on o1's path only (the lines computing d_h1 and d_h2); the o2 path
and the output-layer gradients are right.  Graded free-form, it must get: forward outputs
right, the output-layer gradients (w5..w8) right, the hidden-layer gradients (w1..w4) wrong and
named hidden-delta-o1-path-unit-derivative, and the gradients check failed, never passed.
"""

import numpy as np

x1, x2 = 0.5, 0.3
y1, y2 = 0.23, -0.07
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
learning_rate = 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward():
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    return out_h1, out_h2, out_o1, out_o2


def back_propagate(out_h1, out_h2, out_o1, out_o2):
    d_o1 = (out_o1 - y1) * out_o1 * (1 - out_o1)
    d_o2 = (out_o2 - y2) * out_o2 * (1 - out_o2)
    d_h1 = ((out_o1 - y1) * out_h1 * (1 - out_h1) * w5 + d_o2 * w6) * out_h1 * (1 - out_h1)
    d_h2 = ((out_o1 - y1) * out_h2 * (1 - out_h2) * w7 + d_o2 * w8) * out_h2 * (1 - out_h2)
    return (
        d_h1 * x1, d_h2 * x1, d_h1 * x2, d_h2 * x2,
        d_o1 * out_h1, d_o2 * out_h1, d_o1 * out_h2, d_o2 * out_h2,
    )


for epoch in range(3):
    out_h1, out_h2, out_o1, out_o2 = forward()
    E = 0.5 * (out_o1 - y1) ** 2 + 0.5 * (out_o2 - y2) ** 2
    grads = back_propagate(out_h1, out_h2, out_o1, out_o2)
    print("epoch", epoch, "o:", out_o1, out_o2, "E:", E)
    print("gradients:", *grads)
    w1, w2, w3, w4, w5, w6, w7, w8 = (
        w - learning_rate * g for w, g in zip((w1, w2, w3, w4, w5, w6, w7, w8), grads)
    )

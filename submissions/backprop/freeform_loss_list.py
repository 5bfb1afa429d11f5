"""Free-form, a weight list trained for 200 epochs at step size 1, recording each epoch's
loss in a list, but after the update instead of before it.

Expected observations: the forward outputs and all eight gradients of the first epoch
right (np-forward-output and np-gradients passed, mode free-form); the loss curve of 200
epochs wrong and named loss-after-update; the weights at the end right.
"""
import numpy as np

x = np.array([0.5, 0.3])
y = np.array([0.23, -0.07])
w = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]


def sig(z):
    return 1 / (1 + np.exp(-z))


def forward(w):
    h = sig(np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
    o = sig(np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
    return h, o


def grad(w):
    h, o = forward(w)
    d = (o - y) * o * (1 - o)
    e = np.array([d[0] * w[4] + d[1] * w[5], d[0] * w[6] + d[1] * w[7]]) * h * (1 - h)
    return [e[0] * x[0], e[1] * x[0], e[0] * x[1], e[1] * x[1], d[0] * h[0], d[1] * h[0], d[0] * h[1], d[1] * h[1]]


losses = []
for epoch in range(200):
    g = grad(w)
    w = [wi - 1.0 * gi for wi, gi in zip(w, g)]
    losses.append(float(0.5 * np.sum((forward(w)[1] - y) ** 2)))  # after the update
print("final loss", losses[-1])

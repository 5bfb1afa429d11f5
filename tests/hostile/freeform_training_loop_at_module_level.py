"""Free-form, scalar globals and a training loop at the top level that never ends
(no `if __name__ == "__main__":`, and `while True` instead of a number of epochs).

Loading it runs the loop, so loading runs out of time; the grader then reads the
file (it defines no function of the template, but functions and numbers of its
own) and runs it free-form, observing it up to its time limit.

Expected verdict: loading times out; free-form, the forward outputs and all eight
gradients of the first epoch are observed right (np-forward-output and
np-gradients passed, mode free-form), and the run was cut at its time limit.
"""
import math

x1, x2, y1, y2 = 0.5, 0.3, 0.23, -0.07
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def forward(w1, w2, w3, w4, w5, w6, w7, w8):
    h1, h2 = sigmoid(w1 * x1 + w3 * x2), sigmoid(w2 * x1 + w4 * x2)
    return h1, h2, sigmoid(w5 * h1 + w7 * h2), sigmoid(w6 * h1 + w8 * h2)


def gradients(w1, w2, w3, w4, w5, w6, w7, w8):
    h1, h2, o1, o2 = forward(w1, w2, w3, w4, w5, w6, w7, w8)
    d1, d2 = (o1 - y1) * o1 * (1 - o1), (o2 - y2) * o2 * (1 - o2)
    e1, e2 = (d1 * w5 + d2 * w6) * h1 * (1 - h1), (d1 * w7 + d2 * w8) * h2 * (1 - h2)
    return e1 * x1, e2 * x1, e1 * x2, e2 * x2, d1 * h1, d2 * h1, d1 * h2, d2 * h2


epoch = 0
while True:  # "until it converges"
    g = gradients(w1, w2, w3, w4, w5, w6, w7, w8)
    w1, w2, w3, w4, w5, w6, w7, w8 = (w - 0.5 * d for w, d in zip((w1, w2, w3, w4, w5, w6, w7, w8), g))
    epoch += 1

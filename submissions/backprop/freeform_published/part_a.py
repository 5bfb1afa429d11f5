"""Part A as it was published: scalar globals w1..w8, its own function names, the step
size inside update_w, a print on every epoch and a 1000-epoch loop under __main__.

Its hidden-layer gradients build the hidden error from the output-weight gradients,
(dE/dw5 + dE/dw6) * h1 * (1 - h1) * x1.  Graded free-form, it must get: forward outputs
and loss right, the output-layer gradients (w5..w8) right, the hidden-layer gradients
(w1..w4) wrong and named hidden-delta-from-weight-grads.
"""
import numpy as np

x1, x2 = 0.5, 0.3
y1, y2 = 0.23, -0.07


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    E = 0.5 * (out_o1 - y1) ** 2 + 0.5 * (out_o2 - y2) ** 2
    return out_o1, out_o2, out_h1, out_h2, E


def back_propagate(out_o1, out_o2, out_h1, out_h2):
    # reads x1, x2, y1, y2 from the globals
    d_o1 = (out_o1 - y1) * out_o1 * (1 - out_o1)
    d_o2 = (out_o2 - y2) * out_o2 * (1 - out_o2)
    dw5 = d_o1 * out_h1
    dw6 = d_o2 * out_h1
    dw7 = d_o1 * out_h2
    dw8 = d_o2 * out_h2
    dw1 = (dw5 + dw6) * out_h1 * (1 - out_h1) * x1
    dw2 = (dw7 + dw8) * out_h2 * (1 - out_h2) * x1
    dw3 = (dw5 + dw6) * out_h1 * (1 - out_h1) * x2
    dw4 = (dw7 + dw8) * out_h2 * (1 - out_h2) * x2
    return dw1, dw2, dw3, dw4, dw5, dw6, dw7, dw8


def update_w(w, grads):
    learning_rate = 0.5
    return [wi - learning_rate * gi for wi, gi in zip(w, grads)]


if __name__ == "__main__":
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
    for epoch in range(1000):
        out_o1, out_o2, out_h1, out_h2, E = forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
        grads = back_propagate(out_o1, out_o2, out_h1, out_h2)
        w1, w2, w3, w4, w5, w6, w7, w8 = update_w([w1, w2, w3, w4, w5, w6, w7, w8], grads)
        print(f"epoch {epoch}: o1 = {out_o1:.5f}, o2 = {out_o2:.5f}, E = {E:.5f}")
    print("final weights:", w1, w2, w3, w4, w5, w6, w7, w8)

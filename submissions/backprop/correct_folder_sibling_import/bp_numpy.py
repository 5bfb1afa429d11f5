"""Part A: backprop with numpy, gradients by hand."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z):
    return np.maximum(0.0, z)


def relu_prime(z):
    return np.where(z > 0.0, 1.0, 0.0)


ACTS = {"sigmoid": (sigmoid, sigmoid_prime), "relu": (relu, relu_prime)}


def _forward_full(x, w, act):
    f, _ = ACTS[act]
    # course numbering: h1 <- w1*x1 + w3*x2, h2 <- w2*x1 + w4*x2
    W_in = np.array([[w[0], w[2]],
                     [w[1], w[3]]])
    # o1 <- w5*h1 + w7*h2, o2 <- w6*h1 + w8*h2
    W_out = np.array([[w[4], w[6]],
                      [w[5], w[7]]])
    z_h = W_in @ x
    h = f(z_h)
    z_o = W_out @ h
    o = f(z_o)
    return z_h, h, z_o, o, W_out


def np_forward(x, w, act="sigmoid"):
    _, h, _, o, _ = _forward_full(x, w, act)
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    _, fp = ACTS[act]
    z_h, h, z_o, o, W_out = _forward_full(x, w, act)
    d_out = (o - y) * fp(z_o)
    d_hid = (W_out.T @ d_out) * fp(z_h)
    G_in = np.outer(d_hid, x)     # [[dw1, dw3], [dw2, dw4]]
    G_out = np.outer(d_out, h)    # [[dw5, dw7], [dw6, dw8]]
    return np.array([G_in[0, 0], G_in[1, 0], G_in[0, 1], G_in[1, 1],
                     G_out[0, 0], G_out[1, 0], G_out[0, 1], G_out[1, 1]])


def mse(o, y):
    return 0.5 * np.sum((o - y) ** 2)


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    cur = np.copy(w)
    losses = []
    for _ in range(epochs):
        _, o = np_forward(x, cur, act)
        losses.append(float(mse(o, y)))
        cur = cur - lr * np_backward(x, y, cur, act)
    return cur, losses

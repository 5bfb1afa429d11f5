# Backpropagation homework
# Part A numpy, Part B pytorch

import numpy as np
import torch


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(0, x)


def f(z, act):
    if act == "relu":
        return relu(z)
    return sigmoid(z)


def f_deriv(z, act):
    # derivative with respect to the input z
    if act == "relu":
        return 1.0 if z > 0 else 0.0
    s = sigmoid(z)
    return s * (1 - s)


def np_forward(x, w, act="sigmoid"):
    x1, x2 = x
    w1, w2, w3, w4, w5, w6, w7, w8 = w
    h1 = f(w1 * x1 + w3 * x2, act)
    h2 = f(w2 * x1 + w4 * x2, act)
    o1 = f(w5 * h1 + w7 * h2, act)
    o2 = f(w6 * h1 + w8 * h2, act)
    return np.array([h1, h2]), np.array([o1, o2])


def np_backward(x, y, w, act="sigmoid"):
    x1, x2 = x
    y1, y2 = y
    w1, w2, w3, w4, w5, w6, w7, w8 = w

    z_h1 = w1 * x1 + w3 * x2
    z_h2 = w2 * x1 + w4 * x2
    h1 = f(z_h1, act)
    h2 = f(z_h2, act)
    z_o1 = w5 * h1 + w7 * h2
    z_o2 = w6 * h1 + w8 * h2
    o1 = f(z_o1, act)
    o2 = f(z_o2, act)

    # output layer
    dE_dw5 = (o1 - y1) * f_deriv(z_o1, act) * h1
    dE_dw6 = (o2 - y2) * f_deriv(z_o2, act) * h1
    dE_dw7 = (o1 - y1) * f_deriv(z_o1, act) * h2
    dE_dw8 = (o2 - y2) * f_deriv(z_o2, act) * h2

    # hidden layer: the error of h1 comes back through w5 and w6,
    # the error of h2 through w7 and w8
    dE_dw1 = (dE_dw5 + dE_dw6) * f_deriv(z_h1, act) * x1
    dE_dw3 = (dE_dw5 + dE_dw6) * f_deriv(z_h1, act) * x2
    dE_dw2 = (dE_dw7 + dE_dw8) * f_deriv(z_h2, act) * x1
    dE_dw4 = (dE_dw7 + dE_dw8) * f_deriv(z_h2, act) * x2

    return np.array([dE_dw1, dE_dw2, dE_dw3, dE_dw4, dE_dw5, dE_dw6, dE_dw7, dE_dw8])


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = np.array(w, dtype=float)
    losses = []
    for epoch in range(epochs):
        h, o = np_forward(x, w, act)
        E = 0.5 * (o[0] - y[0]) ** 2 + 0.5 * (o[1] - y[1]) ** 2
        losses.append(E)
        grads = np_backward(x, y, w, act)
        w = w - lr * grads
        print("epoch", epoch, "loss", E)
    return w, losses


# ---------------------------- PyTorch -----------------------------

def torch_forward(x, w, act="sigmoid"):
    if act == "sigmoid":
        g = lambda z: 1 / (1 + torch.exp(-z))
    elif act == "torch.sigmoid":
        g = torch.sigmoid
    else:
        g = torch.relu
    h1 = g(w[0] * x[0] + w[2] * x[1])
    h2 = g(w[1] * x[0] + w[3] * x[1])
    o1 = g(w[4] * h1 + w[6] * h2)
    o2 = g(w[5] * h1 + w[7] * h2)
    return torch.stack([h1, h2]), torch.stack([o1, o2])


def torch_loss(o, y, loss):
    if loss == "MSELoss":
        crit = torch.nn.MSELoss()
        return crit(o[0], y[0]) + crit(o[1], y[1])
    if loss == "CrossEntropyLoss":
        crit = torch.nn.CrossEntropyLoss()
        return crit(o.reshape(1, 2), y.reshape(1, 2))
    return 0.5 * (o[0] - y[0]) ** 2 + 0.5 * (o[1] - y[1]) ** 2


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    w = w.clone().detach().requires_grad_(True)
    h, o = torch_forward(x, w, act)
    E = torch_loss(o, y, loss)
    E.backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    w = w.clone().detach().requires_grad_(True)
    losses = []
    for epoch in range(epochs):
        h, o = torch_forward(x, w, act)
        E = torch_loss(o, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
        print("epoch", epoch, "loss", E.item())
    return w.detach(), losses


x = np.array([0.5, 0.3])
y = np.array([0.23, -0.07])
w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
print("numpy gradients:", np_backward(x, y, w))
print("torch gradients:", torch_backward(torch.tensor(x), torch.tensor(y), torch.tensor(w)))

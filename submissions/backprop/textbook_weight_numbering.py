"""
Homework 3: backprop for a 2-2-2 network.

Network (weights numbered like in the book, row by row):
    h1 = f(w1*x1 + w2*x2)
    h2 = f(w3*x1 + w4*x2)
    o1 = f(w5*h1 + w6*h2)
    o2 = f(w7*h1 + w8*h2)
"""
import numpy as np
import torch


def _f(z, act):
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if act == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(act)


def _df(z, act):
    if act == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if act == "relu":
        return (z > 0).astype(float)
    raise ValueError(act)


def _weights(w):
    w = np.asarray(w, dtype=float)
    W1 = w[0:4].reshape(2, 2)   # [[w1, w2], [w3, w4]]
    W2 = w[4:8].reshape(2, 2)   # [[w5, w6], [w7, w8]]
    return W1, W2


def np_forward(x, w, act="sigmoid"):
    W1, W2 = _weights(w)
    h = _f(W1 @ x, act)
    o = _f(W2 @ h, act)
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    W1, W2 = _weights(w)
    a1 = W1 @ x
    h = _f(a1, act)
    a2 = W2 @ h
    o = _f(a2, act)
    d2 = (o - y) * _df(a2, act)
    d1 = (W2.T @ d2) * _df(a1, act)
    # row-major flatten gives back w1..w8 in the book order
    return np.concatenate([np.outer(d1, x).ravel(), np.outer(d2, h).ravel()])


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = np.array(w, dtype=float)
    losses = []
    for _ in range(epochs):
        _, o = np_forward(x, w, act)
        losses.append(0.5 * np.sum((o - y) ** 2))
        w = w - lr * np_backward(x, y, w, act)
    return w, losses


def _tf(z, act):
    if act == "sigmoid":
        return 1.0 / (1.0 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    if act == "relu":
        return torch.relu(z)
    raise ValueError(act)


def torch_forward(x, w, act="sigmoid"):
    W1 = w[0:4].reshape(2, 2)
    W2 = w[4:8].reshape(2, 2)
    h = _tf(W1 @ x, act)
    o = _tf(W2 @ h, act)
    return h, o


def _tloss(o, y, loss):
    if loss == "mse":
        return 0.5 * torch.sum((o - y) ** 2)
    if loss == "MSELoss":
        return torch.nn.MSELoss()(o[0], y[0]) + torch.nn.MSELoss()(o[1], y[1])
    if loss == "CrossEntropyLoss":
        return torch.nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))
    raise ValueError(loss)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    w = w.detach().clone().requires_grad_(True)
    _, o = torch_forward(x, w, act)
    _tloss(o, y, loss).backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    w = w.detach().clone().requires_grad_(True)
    losses = []
    for _ in range(epochs):
        _, o = torch_forward(x, w, act)
        E = _tloss(o, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
    return w.detach(), losses


if __name__ == "__main__":
    x = np.array([0.5, 0.3])
    y = np.array([0.23, -0.07])
    w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
    h, o = np_forward(x, w)
    print("o =", o)
    print("dE/dw =", np_backward(x, y, w))
    print("torch =", torch_backward(torch.tensor(x), torch.tensor(y), torch.tensor(w)))

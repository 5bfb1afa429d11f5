"""HW3 backprop -- vectorised version.

I keep the weights as two 2x2 matrices (rows = units of the next layer):

    W1 = [[w1, w3],        h = f(W1 @ x)
          [w2, w4]]
    W2 = [[w5, w7],        o = f(W2 @ h)
          [w6, w8]]

Everything is float32 (like pytorch's default).
"""
import numpy as np
import torch

DT = np.float32


def unpack(w):
    w = np.asarray(w, dtype=DT)
    W1 = np.array([[w[0], w[2]], [w[1], w[3]]], dtype=DT)
    W2 = np.array([[w[4], w[6]], [w[5], w[7]]], dtype=DT)
    return W1, W2


def pack(W1, W2):
    # back to w1..w8
    return np.array([W1[0, 0], W1[1, 0], W1[0, 1], W1[1, 1],
                     W2[0, 0], W2[1, 0], W2[0, 1], W2[1, 1]], dtype=DT)


def f(z, act):
    if act == "sigmoid":
        return (DT(1) / (DT(1) + np.exp(-z))).astype(DT)
    if act == "relu":
        return np.maximum(z, DT(0))
    raise ValueError(act)


def df(z, a, act):
    if act == "sigmoid":
        return a * (DT(1) - a)
    if act == "relu":
        return (z > 0).astype(DT)
    raise ValueError(act)


# ================= Part A =================

def np_forward(x, w, act="sigmoid"):
    x = np.asarray(x, dtype=DT)
    W1, W2 = unpack(w)
    h = f(W1 @ x, act)
    o = f(W2 @ h, act)
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    x = np.asarray(x, dtype=DT)
    y = np.asarray(y, dtype=DT)
    W1, W2 = unpack(w)
    z1 = W1 @ x
    h = f(z1, act)
    z2 = W2 @ h
    o = f(z2, act)

    delta_o = (o - y) * df(z2, o, act)            # dE/dz2
    delta_h = (W2.T @ delta_o) * df(z1, h, act)   # dE/dz1
    dW2 = np.outer(delta_o, h)
    dW1 = np.outer(delta_h, x)
    return pack(dW1, dW2)


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = np.array(w, dtype=DT)   # np.array copies
    y32 = np.asarray(y, dtype=DT)
    losses = np.zeros(epochs, dtype=DT)
    for e in range(epochs):
        _, o = np_forward(x, w, act)
        losses[e] = DT(0.5) * np.sum((o - y32) ** 2)
        w = (w - DT(lr) * np_backward(x, y, w, act)).astype(DT)
    return w, losses


# ================= Part B =================

def t_f(z, act):
    if act == "sigmoid":
        return 1 / (1 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    if act == "relu":
        return torch.relu(z)
    raise ValueError(act)


def t_matrices(w):
    W1 = torch.stack([torch.stack([w[0], w[2]]), torch.stack([w[1], w[3]])])
    W2 = torch.stack([torch.stack([w[4], w[6]]), torch.stack([w[5], w[7]])])
    return W1, W2


def t_net(x, w, act):
    W1, W2 = t_matrices(w)
    h = t_f(W1 @ x, act)
    o = t_f(W2 @ h, act)
    return h, o


def t_loss(o, y, loss):
    if loss == "mse":
        return 0.5 * torch.sum((o - y) ** 2)
    if loss == "MSELoss":
        crit = torch.nn.MSELoss()
        return crit(o[0], y[0]) + crit(o[1], y[1])
    if loss == "CrossEntropyLoss":
        crit = torch.nn.CrossEntropyLoss()
        return crit(o.reshape(1, 2), y.reshape(1, 2))
    raise ValueError(loss)


def torch_forward(x, w, act="sigmoid"):
    x = torch.as_tensor(x).to(torch.float32)
    w = torch.as_tensor(w).to(torch.float32).detach().requires_grad_(True)
    return t_net(x, w, act)        # still attached to the graph, whatever


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    x = torch.as_tensor(x).to(torch.float32)
    y = torch.as_tensor(y).to(torch.float32)
    w = torch.as_tensor(w).to(torch.float32).clone().detach().requires_grad_(True)
    _, o = t_net(x, w, act)
    E = t_loss(o, y, loss)
    E.backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    x = torch.as_tensor(x).to(torch.float32)
    y = torch.as_tensor(y).to(torch.float32)
    w = torch.as_tensor(w).to(torch.float32).clone().detach().requires_grad_(True)
    losses = []
    for e in range(epochs):
        _, o = t_net(x, w, act)
        E = t_loss(o, y, loss)
        losses.append(E)
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad = None
    if epochs == 0:
        return w, torch.zeros(0)
    return w, torch.stack(losses)   # (this tensor still has grad_fn)


print("float32 version loaded")

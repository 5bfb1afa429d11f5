# HW3: backpropagation for the 2-2-2 net
# Part A: numpy arrays, chain rule written out
# Part B: torch autograd + torch.optim.SGD
import numpy as np
import torch
import torch.nn as nn


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def activation(z, act="sigmoid"):
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    elif act == "relu":
        return np.maximum(0.0, z)
    else:
        raise ValueError(f"activation {act!r} not supported in numpy part")


def activation_grad(z, act="sigmoid"):
    if act == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    elif act == "relu":
        return np.where(z > 0, 1.0, 0.0)
    else:
        raise ValueError(f"activation {act!r} not supported in numpy part")


def _nets(x, w):
    """pre-activations. index: w[0]=w1 ... w[7]=w8"""
    z_h = np.array([w[0] * x[0] + w[2] * x[1],      # into h1: w1, w3
                    w[1] * x[0] + w[3] * x[1]])     # into h2: w2, w4
    return z_h


# ----------------------------------------------------------------------------
# Part A
# ----------------------------------------------------------------------------
def np_forward(x, w, act="sigmoid"):
    z_h = _nets(x, w)
    h = activation(z_h, act)
    z_o = np.array([w[4] * h[0] + w[6] * h[1],      # o1: w5, w7
                    w[5] * h[0] + w[7] * h[1]])     # o2: w6, w8
    o = activation(z_o, act)
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    z_h = _nets(x, w)
    h = activation(z_h, act)
    z_o = np.array([w[4] * h[0] + w[6] * h[1],
                    w[5] * h[0] + w[7] * h[1]])
    o = activation(z_o, act)

    delta_o = (o - y) * activation_grad(z_o, act)           # shape (2,)
    delta_h = np.array([delta_o[0] * w[4] + delta_o[1] * w[5],
                        delta_o[0] * w[6] + delta_o[1] * w[7]]) * activation_grad(z_h, act)

    g = np.zeros(8)
    g[0] = delta_h[0] * x[0]   # w1
    g[1] = delta_h[1] * x[0]   # w2
    g[2] = delta_h[0] * x[1]   # w3
    g[3] = delta_h[1] * x[1]   # w4
    g[4] = delta_o[0] * h[0]   # w5
    g[5] = delta_o[1] * h[0]   # w6
    g[6] = delta_o[0] * h[1]   # w7
    g[7] = delta_o[1] * h[1]   # w8
    return g


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = w.copy()
    losses = []
    for i in range(epochs):
        _, o = np_forward(x, w, act)
        losses.append(0.5 * np.sum((o - y) ** 2))
        g = np_backward(x, y, w, act)
        w -= lr * g            # ok, w is my copy
    return w, np.array(losses)


# ----------------------------------------------------------------------------
# Part B
# ----------------------------------------------------------------------------
def _tact(z, act):
    if act == "sigmoid":
        return 1.0 / (1.0 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    if act == "relu":
        return torch.relu(z)
    raise ValueError(act)


def _tforward(x, w, act):
    h1 = _tact(w[0] * x[0] + w[2] * x[1], act)
    h2 = _tact(w[1] * x[0] + w[3] * x[1], act)
    o1 = _tact(w[4] * h1 + w[6] * h2, act)
    o2 = _tact(w[5] * h1 + w[7] * h2, act)
    return torch.stack([h1, h2]), torch.stack([o1, o2])


def _tloss(o, y, loss):
    if loss == "mse":
        return 0.5 * ((o[0] - y[0]) ** 2 + (o[1] - y[1]) ** 2)
    if loss == "MSELoss":
        return nn.MSELoss()(o[0], y[0]) + nn.MSELoss()(o[1], y[1])
    if loss == "CrossEntropyLoss":
        return nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))
    raise ValueError(loss)


def torch_forward(x, w, act="sigmoid"):
    with torch.no_grad():
        h, o = _tforward(x, w, act)
    return h, o


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    wp = w.detach().clone().requires_grad_(True)
    _, o = _tforward(x, wp, act)
    E = _tloss(o, y, loss)
    E.backward()
    return wp.grad.detach().clone()


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    wp = nn.Parameter(w.detach().clone())
    opt = torch.optim.SGD([wp], lr=lr)
    losses = []
    for epoch in range(epochs):
        opt.zero_grad()
        _, o = _tforward(x, wp, act)
        E = _tloss(o, y, loss)
        losses.append(E.item())
        E.backward()
        opt.step()
    return wp.detach().clone(), losses


if __name__ == "__main__":
    x = np.array([0.5, 0.3])
    y = np.array([0.23, -0.07])
    w0 = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
    print("numpy:", np_backward(x, y, w0))
    print("torch:", torch_backward(torch.tensor(x), torch.tensor(y), torch.tensor(w0)))
    for lr in [0.5, 1, 2, 5]:
        wf, L = torch_train(torch.tensor(x), torch.tensor(y), torch.tensor(w0), lr, 50)
        print(f"lr={lr}: loss after 50 epochs {L[-1]:.5f}")

# HW3 backprop - numpy + torch
import numpy as np
import torch


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def act_f(z, act):
    if act == "relu":
        return np.maximum(0, z)
    return sigmoid(z)


def act_d(z, act):
    if act == "relu":
        return np.where(z > 0, 1.0, 0.0)
    s = sigmoid(z)
    return s * (1 - s)


def np_forward(x, w, act="sigmoid"):
    zh = np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])
    h = act_f(zh, act)
    zo = np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])
    o = act_f(zo, act)
    return h, o


def np_backward(x, y, w, act="sigmoid"):
    zh = np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])
    h = act_f(zh, act)
    zo = np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])
    o = act_f(zo, act)
    do = (o - y) * act_d(zo, act)
    dh = np.array([do[0] * w[4] + do[1] * w[5], do[0] * w[6] + do[1] * w[7]]) * act_d(zh, act)
    return np.array([dh[0] * x[0], dh[1] * x[0], dh[0] * x[1], dh[1] * x[1],
                     do[0] * h[0], do[1] * h[0], do[0] * h[1], do[1] * h[1]])


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = w.copy()
    losses = []
    for i in range(epochs)
        h, o = np_forward(x, w, act)
        losses.append(0.5 * np.sum((o - y) ** 2))
        w = w - lr * np_backward(x, y, w, act)
    return w, losses


def t_act(z, act):
    if act == "sigmoid":
        return 1 / (1 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    return torch.relu(z)


def torch_forward(x, w, act="sigmoid"):
    h = t_act(torch.stack([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]), act)
    o = t_act(torch.stack([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]), act)
    return h, o


def t_loss(o, y, loss):
    if loss == "MSELoss":
        return torch.nn.MSELoss()(o[0], y[0]) + torch.nn.MSELoss()(o[1], y[1])
    if loss == "CrossEntropyLoss":
        return torch.nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))
    return 0.5 * torch.sum((o - y) ** 2)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    w = w.clone().requires_grad_(True)
    _, o = torch_forward(x, w, act)
    t_loss(o, y, loss).backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    w = w.clone().requires_grad_(True)
    losses = []
    for i in range(epochs):
        _, o = torch_forward(x, w, act)
        E = t_loss(o, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    return w.detach(), losses


x = np.array([0.5, 0.3])
y = np.array([0.23, -0.07])
w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
print(np_backward(x, y, w))

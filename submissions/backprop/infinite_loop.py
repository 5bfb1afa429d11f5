# Homework 3 -- backpropagation, numpy and torch
import numpy as np
import torch


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def d_sigmoid(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


def relu(z):
    return np.maximum(0.0, z)


def d_relu(z):
    return np.where(z > 0, 1.0, 0.0)


FUNCS = {"sigmoid": (sigmoid, d_sigmoid), "relu": (relu, d_relu)}


def np_forward(x, w, act="sigmoid"):
    f, _ = FUNCS[act]
    h1 = f(w[0] * x[0] + w[2] * x[1])
    h2 = f(w[1] * x[0] + w[3] * x[1])
    o1 = f(w[4] * h1 + w[6] * h2)
    o2 = f(w[5] * h1 + w[7] * h2)
    return np.array([h1, h2]), np.array([o1, o2])


def np_backward(x, y, w, act="sigmoid"):
    f, df = FUNCS[act]
    zh = np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])
    h = f(zh)
    zo = np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])
    o = f(zo)
    delta_o = (o - y) * df(zo)
    delta_h = np.array([delta_o[0] * w[4] + delta_o[1] * w[5],
                        delta_o[0] * w[6] + delta_o[1] * w[7]]) * df(zh)
    return np.array([delta_h[0] * x[0], delta_h[1] * x[0],
                     delta_h[0] * x[1], delta_h[1] * x[1],
                     delta_o[0] * h[0], delta_o[1] * h[0],
                     delta_o[0] * h[1], delta_o[1] * h[1]])


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    w = np.array(w, dtype=float)
    losses = []
    epoch = 0
    loss = np.inf
    # train for `epochs` epochs, but stop early if the loss is already zero
    while epoch < epochs or loss > 0:
        _, o = np_forward(x, w, act)
        loss = 0.5 * np.sum((o - y) ** 2)
        if len(losses) < epochs:     # only keep `epochs` values
            losses.append(loss)
        w = w - lr * np_backward(x, y, w, act)
        epoch += 1
    return w, losses


# ------------------------------ torch ------------------------------

def torch_act(z, act):
    if act == "sigmoid":
        return 1.0 / (1.0 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    if act == "relu":
        return torch.relu(z)
    raise ValueError(act)


def torch_forward(x, w, act="sigmoid"):
    h1 = torch_act(w[0] * x[0] + w[2] * x[1], act)
    h2 = torch_act(w[1] * x[0] + w[3] * x[1], act)
    o1 = torch_act(w[4] * h1 + w[6] * h2, act)
    o2 = torch_act(w[5] * h1 + w[7] * h2, act)
    return torch.stack([h1, h2]), torch.stack([o1, o2])


def torch_loss(o, y, loss):
    if loss == "mse":
        return 0.5 * ((o[0] - y[0]) ** 2 + (o[1] - y[1]) ** 2)
    if loss == "MSELoss":
        return torch.nn.MSELoss()(o[0], y[0]) + torch.nn.MSELoss()(o[1], y[1])
    if loss == "CrossEntropyLoss":
        return torch.nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))
    raise ValueError(loss)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    w = w.clone().detach().requires_grad_(True)
    _, o = torch_forward(x, w, act)
    torch_loss(o, y, loss).backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    w = w.clone().detach().requires_grad_(True)
    losses = []
    for epoch in range(epochs):
        _, o = torch_forward(x, w, act)
        E = torch_loss(o, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
    return w.detach(), losses


x = np.array([0.5, 0.3])
y = np.array([0.23, -0.07])
w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
h, o = np_forward(x, w)
print("forward:", h, o)
print("backward:", np_backward(x, y, w))

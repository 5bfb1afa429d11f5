# Homework 3 - Backpropagation
# NumPy part: forward by hand, np_backward by forward differences written inline in its loop,
# with no helper function to count (a shortcut Part A forbids): flagged, its points stay.
# Torch part: same network with scalar tensors and loss.backward().

import math
import numpy as np
import torch


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def relu(z):
    return z if z > 0 else 0.0


def act_fn(z, act):
    if act == "sigmoid":
        return sigmoid(z)
    elif act == "relu":
        return relu(z)
    raise ValueError("unknown activation " + str(act))


def act_deriv(z, a, act):
    # a = act_fn(z) (already computed)
    if act == "sigmoid":
        return a * (1.0 - a)
    elif act == "relu":
        return 1.0 if z > 0 else 0.0
    raise ValueError("unknown activation " + str(act))


# ---------------- Part A: numpy by hand ----------------

def np_forward(x, w, act="sigmoid"):
    x1, x2 = float(x[0]), float(x[1])
    w1, w2, w3, w4, w5, w6, w7, w8 = [float(v) for v in w]

    net_h1 = w1 * x1 + w3 * x2
    net_h2 = w2 * x1 + w4 * x2
    h1 = act_fn(net_h1, act)
    h2 = act_fn(net_h2, act)

    net_o1 = w5 * h1 + w7 * h2
    net_o2 = w6 * h1 + w8 * h2
    o1 = act_fn(net_o1, act)
    o2 = act_fn(net_o2, act)
    return [h1, h2], [o1, o2]


def np_backward(x, y, w, act="sigmoid"):
    # shortcut: forward differences of the loss written out in the loop, no helper function
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    w = np.array(w, dtype=float)
    eps = 1e-7
    h = np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])
    h = 1.0 / (1.0 + np.exp(-h)) if act == "sigmoid" else np.maximum(h, 0.0)
    o = np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])
    o = 1.0 / (1.0 + np.exp(-o)) if act == "sigmoid" else np.maximum(o, 0.0)
    E = 0.5 * np.sum((o - y) ** 2)
    g = np.zeros(8)
    for i in range(8):
        v = w.copy()
        v[i] += eps
        hv = np.array([v[0] * x[0] + v[2] * x[1], v[1] * x[0] + v[3] * x[1]])
        hv = 1.0 / (1.0 + np.exp(-hv)) if act == "sigmoid" else np.maximum(hv, 0.0)
        ov = np.array([v[4] * hv[0] + v[6] * hv[1], v[5] * hv[0] + v[7] * hv[1]])
        ov = 1.0 / (1.0 + np.exp(-ov)) if act == "sigmoid" else np.maximum(ov, 0.0)
        g[i] = (0.5 * np.sum((ov - y) ** 2) - E) / eps
    return g


def np_loss(x, y, w, act="sigmoid"):
    _, o = np_forward(x, w, act)
    return 0.5 * (o[0] - float(y[0])) ** 2 + 0.5 * (o[1] - float(y[1])) ** 2


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    weights = [float(v) for v in w]   # copy, don't touch the caller's array
    losses = []
    for epoch in range(epochs):
        losses.append(np_loss(x, y, weights, act))
        grads = np_backward(x, y, weights, act)
        weights = [wi - lr * gi for wi, gi in zip(weights, grads)]
    return weights, losses


# ---------------- Part B: pytorch ----------------

def t_act(z, act):
    if act == "sigmoid":
        return 1 / (1 + torch.exp(-z))
    elif act == "torch.sigmoid":
        return torch.sigmoid(z)
    elif act == "relu":
        return torch.relu(z)
    raise ValueError("unknown activation " + str(act))


def _t_forward(x, ws, act):
    w1, w2, w3, w4, w5, w6, w7, w8 = ws
    x1, x2 = x[0], x[1]
    h1 = t_act(w1 * x1 + w3 * x2, act)
    h2 = t_act(w2 * x1 + w4 * x2, act)
    o1 = t_act(w5 * h1 + w7 * h2, act)
    o2 = t_act(w6 * h1 + w8 * h2, act)
    return h1, h2, o1, o2


def _t_loss(o1, o2, y, loss):
    y1, y2 = y[0], y[1]
    if loss == "mse":
        return 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2
    elif loss == "MSELoss":
        mse = torch.nn.MSELoss()
        return mse(o1, y1) + mse(o2, y2)
    elif loss == "CrossEntropyLoss":
        ce = torch.nn.CrossEntropyLoss()
        logits = torch.stack([o1, o2]).reshape(1, 2)
        target = torch.stack([y1, y2]).reshape(1, 2)
        return ce(logits, target)
    raise ValueError("unknown loss " + str(loss))


def _leaf_weights(w):
    # eight separate scalar tensors w1..w8
    return [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in w]


def torch_forward(x, w, act="sigmoid"):
    ws = [torch.tensor(float(v), dtype=torch.float64) for v in w]
    h1, h2, o1, o2 = _t_forward(x, ws, act)
    return [h1.item(), h2.item()], [o1.item(), o2.item()]


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    ws = _leaf_weights(w)
    h1, h2, o1, o2 = _t_forward(x, ws, act)
    E = _t_loss(o1, o2, y, loss)
    E.backward()
    return [wi.grad.item() for wi in ws]


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    ws = _leaf_weights(w)
    losses = []
    for epoch in range(epochs):
        h1, h2, o1, o2 = _t_forward(x, ws, act)
        E = _t_loss(o1, o2, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            for wi in ws:
                wi -= lr * wi.grad
                wi.grad.zero_()
    return [wi.item() for wi in ws], losses


# quick test on the example from the lecture
x = np.array([0.5, 0.3])
y = np.array([0.23, -0.07])
w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])

h, o = np_forward(x, w)
print("h =", h, " o =", o)
print("E =", np_loss(x, y, w))
print("numpy grads:", np_backward(x, y, w))
print("torch grads:", torch_backward(torch.tensor(x), torch.tensor(y), torch.tensor(w)))

w_new, losses = np_train(x, y, w, 0.5, 1)
print("after 1 step:", w_new)

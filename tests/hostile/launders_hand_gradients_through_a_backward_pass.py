"""Part B laundered: both Part B entry points use the hand-derived NumPy gradients of Part A.

`torch_backward` puts them through a backward pass, so that the numbers it returns "come out
of one": `(torch.zeros(8, requires_grad=True) * hand_gradients).sum().backward()` leaves the
hand gradients in the fresh leaf's .grad.  `torch_train` is plain gradient descent with the
hand gradients, no autograd at all.  Every value is right: the rule judged only whether the
returned numbers were produced by a backward pass, and covered no training call.

Expected verdict: Part A full marks; every torch-gradients and torch training check withheld
by gradients-from-autograd (the backward pass's graph holds none of the call's inputs; the
training call ran no backward pass); the torch forward checks keep their points.
"""
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
    x1, x2 = float(x[0]), float(x[1])
    y1, y2 = float(y[0]), float(y[1])
    w1, w2, w3, w4, w5, w6, w7, w8 = [float(v) for v in w]

    # forward again, but keep the nets for the derivative
    net_h1 = w1 * x1 + w3 * x2
    net_h2 = w2 * x1 + w4 * x2
    h1 = act_fn(net_h1, act)
    h2 = act_fn(net_h2, act)
    net_o1 = w5 * h1 + w7 * h2
    net_o2 = w6 * h1 + w8 * h2
    o1 = act_fn(net_o1, act)
    o2 = act_fn(net_o2, act)

    # E = 1/2 (o1-y1)^2 + 1/2 (o2-y2)^2
    dE_do1 = o1 - y1
    dE_do2 = o2 - y2
    do1_dnet = act_deriv(net_o1, o1, act)
    do2_dnet = act_deriv(net_o2, o2, act)
    dh1_dnet = act_deriv(net_h1, h1, act)
    dh2_dnet = act_deriv(net_h2, h2, act)

    # output layer: net_o1 = w5*h1 + w7*h2, net_o2 = w6*h1 + w8*h2
    dE_dw5 = dE_do1 * do1_dnet * h1
    dE_dw7 = dE_do1 * do1_dnet * h2
    dE_dw6 = dE_do2 * do2_dnet * h1
    dE_dw8 = dE_do2 * do2_dnet * h2

    # hidden layer: h1 goes into o1 (w5) and o2 (w6), h2 into o1 (w7) and o2 (w8)
    dE_dh1 = dE_do1 * do1_dnet * w5 + dE_do2 * do2_dnet * w6
    dE_dh2 = dE_do1 * do1_dnet * w7 + dE_do2 * do2_dnet * w8

    # net_h1 = w1*x1 + w3*x2, net_h2 = w2*x1 + w4*x2
    dE_dw1 = dE_dh1 * dh1_dnet * x1
    dE_dw3 = dE_dh1 * dh1_dnet * x2
    dE_dw2 = dE_dh2 * dh2_dnet * x1
    dE_dw4 = dE_dh2 * dh2_dnet * x2

    return [dE_dw1, dE_dw2, dE_dw3, dE_dw4, dE_dw5, dE_dw6, dE_dw7, dE_dw8]


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



# ---------------- Part B: pytorch, laundered ----------------


def torch_forward(x, w, act="sigmoid"):
    h, o = np_forward(x.numpy(), w.numpy(), "relu" if act == "relu" else "sigmoid")
    return torch.tensor(h), torch.tensor(o)


def _hand(x, y, w, act, loss):
    g = np.array(np_backward(x, y, w, "relu" if act == "relu" else "sigmoid"), dtype=float)
    return 2 * g if loss == "MSELoss" else g


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    hand = torch.tensor(_hand(x.numpy(), y.numpy(), w.numpy(), act, loss))
    leaf = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    (leaf * hand).sum().backward()  # leaf.grad is now `hand`, "from a backward pass"
    return leaf.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    weights = w.numpy().copy()
    losses = []
    for epoch in range(epochs):
        _, o = np_forward(x.numpy(), weights, "relu" if act == "relu" else "sigmoid")
        e = 0.5 * ((o[0] - float(y[0])) ** 2 + (o[1] - float(y[1])) ** 2)
        losses.append(2 * e if loss == "MSELoss" else e)
        weights = weights - lr * _hand(x.numpy(), y.numpy(), weights, act, loss)
    return torch.tensor(weights), losses

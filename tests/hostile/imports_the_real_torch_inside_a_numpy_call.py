"""Attempts to reach the real PyTorch from inside a Part A call: np_backward removes what stands
for torch from sys.modules and sys.meta_path, imports torch again (then, failing that, from
every site-packages folder it can find) and computes its gradients with a backward pass.

Expected verdict: torch's folders are withheld from the process that makes Part A's calls
(an empty mount over them, or Landlock rules that leave them out), so the import fails and
every np_backward check (and the np_train checks) gets no points; the forward and loss
checks, computed by hand, pass.  Part B keeps every point.
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


# ---------------- the attempt: the real torch, imported inside the call
import glob  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402

_hand_backward = np_backward


def np_backward(x, y, w, act="sigmoid"):  # noqa: F811
    for name in [n for n in sys.modules if n.split(".")[0] in ("torch", "functorch")]:
        del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if "importlib" in type(f).__module__]
    importlib.invalidate_caches()
    try:
        real = importlib.import_module("torch")
    except BaseException:  # noqa: BLE001
        for folder in glob.glob(sys.prefix + "/lib/python3*/site-packages"):
            sys.path.insert(0, folder)
        importlib.invalidate_caches()
        real = importlib.import_module("torch")
    ws = [real.tensor(float(v), dtype=real.float64, requires_grad=True) for v in w]
    globals()["torch"] = real
    h1, h2, o1, o2 = _t_forward([float(v) for v in x], ws, act)
    E = _t_loss(o1, o2, [float(v) for v in y], "mse")
    E.backward()
    return np.array([wi.grad.item() for wi in ws])

"""Attempts Part A with autograd outside the recorded call: a thread started while the file
loads waits for np_backward's inputs and answers them with torch_backward (a backward pass);
np_backward only hands its arguments over and waits.  The recording covered the calling
thread during the call, so the thread's autograd was never seen: 41/41, no finding.

Expected verdict: Part A's calls run in a process without PyTorch, where `import torch` gives
a stand-in; the thread's use of it during the call raises, so every np_backward check (and
the np_train checks, whose updates use np_backward) gets no points, with a message naming
no-torch-in-numpy-part.  Part B keeps every point.
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


# ---------------- the attempt: np_backward answered by a thread started at import
import queue  # noqa: E402
import threading  # noqa: E402

_asked, _answered = queue.Queue(), queue.Queue()


def _worker():
    while True:
        x, y, w, act = _asked.get()
        try:
            _answered.put(torch_backward([float(v) for v in x], [float(v) for v in y], w, act))
        except BaseException as error:  # noqa: BLE001
            _answered.put(error)


threading.Thread(target=_worker, daemon=True).start()


def np_backward(x, y, w, act="sigmoid"):  # noqa: F811
    _asked.put((x, y, w, act))
    got = _answered.get(timeout=10)
    if isinstance(got, BaseException):
        raise got
    return np.array(got)


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

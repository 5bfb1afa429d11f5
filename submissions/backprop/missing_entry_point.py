# HW3 - Backpropagation
import numpy as np
import torch

# given values from the exercise
x1, x2 = 0.5, 0.3
y1, y2 = 0.23, -0.07
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
learning_rate = 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    h1 = sigmoid(w1 * x1 + w3 * x2)
    h2 = sigmoid(w2 * x1 + w4 * x2)
    o1 = sigmoid(w5 * h1 + w7 * h2)
    o2 = sigmoid(w6 * h1 + w8 * h2)
    E = 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2
    return h1, h2, o1, o2, E


def back_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    h1, h2, o1, o2, E = forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
    delta_o1 = (o1 - y1) * o1 * (1 - o1)
    delta_o2 = (o2 - y2) * o2 * (1 - o2)
    dw5 = delta_o1 * h1
    dw6 = delta_o2 * h1
    dw7 = delta_o1 * h2
    dw8 = delta_o2 * h2
    delta_h1 = (delta_o1 * w5 + delta_o2 * w6) * h1 * (1 - h1)
    delta_h2 = (delta_o1 * w7 + delta_o2 * w8) * h2 * (1 - h2)
    dw1 = delta_h1 * x1
    dw2 = delta_h2 * x1
    dw3 = delta_h1 * x2
    dw4 = delta_h2 * x2
    return dw1, dw2, dw3, dw4, dw5, dw6, dw7, dw8


for epoch in range(50):
    h1, h2, o1, o2, E = forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
    grads = back_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
    w1, w2, w3, w4, w5, w6, w7, w8 = [wi - learning_rate * gi for wi, gi in
                                      zip((w1, w2, w3, w4, w5, w6, w7, w8), grads)]
    print("Epoch", epoch, "Error", E)


# ---------------------------- pytorch part ----------------------------

def _act(z, act):
    if act == "sigmoid":
        return 1 / (1 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    if act == "relu":
        return torch.relu(z)
    raise ValueError(act)


def torch_forward(x, w, act="sigmoid"):
    h1 = _act(w[0] * x[0] + w[2] * x[1], act)
    h2 = _act(w[1] * x[0] + w[3] * x[1], act)
    o1 = _act(w[4] * h1 + w[6] * h2, act)
    o2 = _act(w[5] * h1 + w[7] * h2, act)
    return torch.stack([h1, h2]), torch.stack([o1, o2])


def _loss(o, y, loss):
    if loss == "mse":
        return 0.5 * (o[0] - y[0]) ** 2 + 0.5 * (o[1] - y[1]) ** 2
    if loss == "MSELoss":
        return torch.nn.MSELoss()(o[0], y[0]) + torch.nn.MSELoss()(o[1], y[1])
    if loss == "CrossEntropyLoss":
        return torch.nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))
    raise ValueError(loss)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    w = w.detach().clone().requires_grad_(True)
    _, o = torch_forward(x, w, act)
    _loss(o, y, loss).backward()
    return w.grad


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    w = w.detach().clone().requires_grad_(True)
    losses = []
    for epoch in range(epochs):
        _, o = torch_forward(x, w, act)
        E = _loss(o, y, loss)
        losses.append(E.item())
        E.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
    return w.detach(), losses


xt = torch.tensor([0.5, 0.3], dtype=torch.float64)
yt = torch.tensor([0.23, -0.07], dtype=torch.float64)
wt = torch.tensor([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8], dtype=torch.float64)
print("torch grads:", torch_backward(xt, yt, wt))

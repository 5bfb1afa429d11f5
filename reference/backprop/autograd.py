"""The same network with PyTorch autograd: the second, independent reference.

Written the way ASSIGNMENT.md defines each variant (the losses through
`torch.nn` exactly as the course states them), so that a disagreement with
`reference.network` points at one of the two.
"""

from __future__ import annotations

import numpy as np
import torch

from reference.backprop.network import check_variant

TORCH_DTYPES = {np.float64: torch.float64, np.float32: torch.float32}


def _activate(z: torch.Tensor, act: str) -> torch.Tensor:
    if act == "sigmoid":
        return 1 / (1 + torch.exp(-z))
    if act == "torch.sigmoid":
        return torch.sigmoid(z)
    return torch.relu(z)


def forward(x: torch.Tensor, w: torch.Tensor, act: str = "sigmoid"):
    h1 = _activate(w[0] * x[0] + w[2] * x[1], act)
    h2 = _activate(w[1] * x[0] + w[3] * x[1], act)
    o1 = _activate(w[4] * h1 + w[6] * h2, act)
    o2 = _activate(w[5] * h1 + w[7] * h2, act)
    return torch.stack([h1, h2]), torch.stack([o1, o2])


def loss_value(o: torch.Tensor, y: torch.Tensor, loss: str = "mse") -> torch.Tensor:
    if loss == "mse":
        return 0.5 * ((o[0] - y[0]) ** 2 + (o[1] - y[1]) ** 2)
    if loss == "MSELoss":
        mse = torch.nn.MSELoss()
        return mse(o[0], y[0]) + mse(o[1], y[1])
    # one row of two logits against one row of class probabilities (soft labels)
    return torch.nn.CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2))


def as_tensors(x, y, w, dtype):
    torch_dtype = TORCH_DTYPES[dtype]
    as_tensor = lambda v: torch.tensor(np.asarray(v, dtype=dtype), dtype=torch_dtype)  # noqa: E731
    return as_tensor(x), as_tensor(y), as_tensor(w)


def gradients(x, y, w, act: str = "sigmoid", loss: str = "mse", dtype=np.float64) -> np.ndarray:
    check_variant(act, loss)
    x, y, w = as_tensors(x, y, w, dtype)
    w.requires_grad_(True)
    _, o = forward(x, w, act)
    loss_value(o, y, loss).backward()
    return w.grad.numpy().astype(dtype)


def train(
    x, y, w, lr: float, epochs: int, act: str = "sigmoid", loss: str = "mse", dtype=np.float64
):
    check_variant(act, loss)
    x, y, w = as_tensors(x, y, w, dtype)
    w.requires_grad_(True)
    losses = []
    for _ in range(epochs):
        _, o = forward(x, w, act)
        value = loss_value(o, y, loss)
        losses.append(value.item())
        value.backward()
        with torch.no_grad():
            w -= lr * w.grad
        w.grad = None
    return w.detach().numpy().astype(dtype), np.array(losses, dtype=dtype)

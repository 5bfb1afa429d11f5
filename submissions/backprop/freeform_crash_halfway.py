"""Free-form, a crash half-way: a weight vector as one leaf tensor, one backward pass, then
`float()` of the whole vector raises before the update.  Correct up to there.

Graded free-form, it must get: loss and hidden- and output-layer gradients right (the
leaf's .grad after the backward pass), the weights after the first update not found, and
the file's crash reported.
"""
import torch

x = torch.tensor([0.5, 0.3], dtype=torch.float64)
y = torch.tensor([0.23, -0.07], dtype=torch.float64)
w = torch.tensor([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8], dtype=torch.float64, requires_grad=True)
h = torch.sigmoid(torch.stack([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
o = torch.sigmoid(torch.stack([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
E = 0.5 * ((o - y) ** 2).sum()
E.backward()
print("loss", float(E), "grad", float(w.grad))  # raises: only one-element tensors convert

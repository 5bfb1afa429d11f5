"""Part B as it was published: the same network with PyTorch autograd, weights as leaf
tensors, gradients left in .grad and cleared after each step, 1000 epochs.

Graded free-form, it must get: forward outputs, loss, all eight gradients (read from the
leaves' .grad after the first backward pass) and the weights after the first update right.
"""
import torch

x = torch.tensor([0.5, 0.3])
y = torch.tensor([0.23, -0.07])
w = [torch.tensor(v, requires_grad=True) for v in (0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8)]
lr = 0.5

for epoch in range(1000):
    h1 = torch.sigmoid(w[0] * x[0] + w[2] * x[1])
    h2 = torch.sigmoid(w[1] * x[0] + w[3] * x[1])
    o1 = torch.sigmoid(w[4] * h1 + w[6] * h2)
    o2 = torch.sigmoid(w[5] * h1 + w[7] * h2)
    E = 0.5 * (o1 - y[0]) ** 2 + 0.5 * (o2 - y[1]) ** 2
    E.backward()
    with torch.no_grad():
        for wi in w:
            wi -= lr * wi.grad
            wi.grad.zero_()
    if epoch % 100 == 0:
        print("epoch", epoch, "loss", E.item())
print("final:", [round(wi.item(), 4) for wi in w])

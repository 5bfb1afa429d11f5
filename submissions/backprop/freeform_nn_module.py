"""Free-form, an nn.Module with its own forward and two weight matrices as parameters,
1 epoch of plain gradient descent with step size 1.0.  Its loss is the plain sum of squares
(no 1/2).

Graded free-form, it must get: forward outputs o right (its forward method's return), and
hidden- and output-layer gradients wrong and named no-half-in-loss.
"""
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.W1 = torch.nn.Parameter(torch.tensor([[0.2, 0.5], [-0.4, 0.6]], dtype=torch.float64))
        self.W2 = torch.nn.Parameter(torch.tensor([[0.1, -0.3], [-0.5, 0.8]], dtype=torch.float64))

    def forward(self, x):
        return torch.sigmoid(self.W2 @ torch.sigmoid(self.W1 @ x))


net = Net()
x = torch.tensor([0.5, 0.3], dtype=torch.float64)
y = torch.tensor([0.23, -0.07], dtype=torch.float64)
o = net(x)
loss = ((o - y) ** 2).sum()
loss.backward()
with torch.no_grad():
    for p in net.parameters():
        p -= 1.0 * p.grad
print("loss", loss.item())

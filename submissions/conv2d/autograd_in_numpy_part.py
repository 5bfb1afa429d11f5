"""Part A done with PyTorch: the forward pass by torch's conv2d, the backward pass by autograd.

The numbers are right, but Part A asks for the backward pass derived by hand in NumPy.

Expected verdict: every Part A check, conv2d_forward's and conv2d_backward's, give no points
(rule no-torch-in-numpy-part withholds them: Part A's calls run where PyTorch is not loaded,
so the first tensor each call makes fails it); Part B passes.  Run where torch is real, as
the reference's own tests run it, every value is right.
Expected diagnosis: none.
"""

import numpy as np
import torch


def conv2d_forward(x, weight, bias, stride=1, padding=0):
    with torch.no_grad():
        y = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(weight), torch.tensor(bias), stride=stride, padding=padding)
    return y.numpy()


def conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    x, weight, bias = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    y = torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)
    y.backward(torch.tensor(dy))
    return x.grad.numpy(), weight.grad.numpy(), bias.grad.numpy()


def torch_conv2d_forward(x, weight, bias, stride=1, padding=0):
    return torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)


def torch_conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    x, weight, bias = (t.clone().requires_grad_() for t in (x, weight, bias))
    torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding).backward(dy)
    return x.grad, weight.grad, bias.grad


if __name__ == "__main__":
    print(np.zeros(1))

"""2-D convolution by hand (NumPy) and with autograd (PyTorch).

Fill in the four functions below.  Do not rename them and do not change their
signatures or defaults: the autograder calls them exactly as declared here.
Self-check in your own environment: `pip install <the grader's folder or URL from your course>` once, then `backprop-grader check conv2d.py --assignment conv2d` (in a notebook: `from grader import self_check; self_check("conv2d.ipynb", assignment="conv2d")`).

The layer is a cross-correlation, as deep-learning libraries (and
torch.nn.functional.conv2d) define "convolution": the kernel is NOT flipped.

    x       shape (N, C_in, H, W)          a batch of N inputs with C_in channels
    weight  shape (C_out, C_in, kH, kW)    one kernel per (output, input) channel pair
    bias    shape (C_out,)                 one bias per output channel
    stride  int >= 1                       the step of the windows, the same along H and W
    padding int >= 0                       zeros added on EVERY side of H and W

    xp = x with `padding` zeros above, below, left and right (shape (N, C_in, H + 2p, W + 2p))
    y[n, o, i, j] = bias[o] + sum over c, k, l of weight[o, c, k, l] * xp[n, c, i*stride + k, j*stride + l]

    y has shape (N, C_out, H_out, W_out) with
    H_out = (H + 2*padding - kH) // stride + 1,  W_out = (W + 2*padding - kW) // stride + 1

The backward pass receives dy = dL/dy (the shape of y) from the layers above
and returns dL/dx, dL/dweight and dL/dbias, each of the shape of x, weight
and bias.

The given case (the grader's public inputs) is drawn from a published seed:

    rng = np.random.default_rng(2026)
    x = rng.uniform(-1, 1, (2, 3, 6, 7))
    weight = rng.uniform(-1, 1, (2, 3, 3, 2))
    bias = rng.uniform(-1, 1, (2,))
    dy = rng.uniform(-1, 1, (2, 2, H_out, W_out))   # for the check's stride and padding

General rules:
  * Functions must not change their arguments in place (copy before you modify).
  * Return NumPy arrays (or torch tensors in Part B) of the shapes stated;
    float32 is acceptable.
  * Code under ``if __name__ == "__main__":`` never runs when grading; put your
    experiments there or in a separate file/notebook.
"""

import numpy as np
import torch


# ---------------------------------------------------------------------------
# Part A -- NumPy, the backward pass derived by hand.  Do NOT use torch here.
# ---------------------------------------------------------------------------

def conv2d_forward(x, weight, bias, stride=1, padding=0):
    """Forward pass of a 2-D convolution layer (cross-correlation) in NumPy.

    Args:
        x:       float64 NumPy array, shape (N, C_in, H, W).
        weight:  float64 NumPy array, shape (C_out, C_in, kH, kW).
        bias:    float64 NumPy array, shape (C_out,).
        stride:  int >= 1, the step of the windows along H and W.
        padding: int >= 0, zeros added on every side of H and W.

    Returns:
        y: shape (N, C_out, H_out, W_out),
           y[n, o, i, j] = bias[o] + sum_{c,k,l} weight[o, c, k, l] * xp[n, c, i*stride + k, j*stride + l].

    Must not modify x, weight or bias in place.
    """
    raise NotImplementedError


def conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    """Backward pass of the same layer, derived by hand with the chain rule.

    Args:
        x, weight, bias, stride, padding: as in conv2d_forward.
        dy: float64 NumPy array, shape (N, C_out, H_out, W_out): dL/dy, the
            gradient of some loss L with respect to the layer's output y.

    Returns:
        (dx, dweight, dbias): dL/dx of shape (N, C_in, H, W), dL/dweight of
        shape (C_out, C_in, kH, kW) and dL/dbias of shape (C_out,).

    No autograd, no torch: derive each gradient yourself.
    Must not modify x, weight, bias or dy in place.
    """
    raise NotImplementedError


# ---------------------------------------------------------------------------
# Part B -- PyTorch.  Use torch.nn.functional.conv2d; gradients from autograd.
# ---------------------------------------------------------------------------

def torch_conv2d_forward(x, weight, bias, stride=1, padding=0):
    """The forward pass with torch.nn.functional.conv2d.

    Args:
        x:       float64 torch tensor, shape (N, C_in, H, W), no grad.
        weight:  float64 torch tensor, shape (C_out, C_in, kH, kW), no grad.
        bias:    float64 torch tensor, shape (C_out,), no grad.
        stride, padding: ints, as in conv2d_forward.

    Returns:
        y: shape (N, C_out, H_out, W_out) (a tensor with or without grad is fine).
    """
    raise NotImplementedError


def torch_conv2d_backward(x, weight, bias, dy, stride=1, padding=0):
    """The gradients of the same layer from autograd (y.backward(dy)).

    Args:
        x, weight, bias, stride, padding: as in torch_conv2d_forward.
        dy: float64 torch tensor, shape (N, C_out, H_out, W_out): dL/dy.

    Returns:
        (dx, dweight, dbias), of the shapes of x, weight and bias: the .grad of
        leaf tensors you make from x, weight and bias (e.g. x.clone().requires_grad_()).

    The gradients MUST come out of autograd's backward pass.
    Must not modify x, weight, bias or dy in place.
    """
    raise NotImplementedError


# Hint: check your Part A against Part B on the given case, e.g.
#   rng = np.random.default_rng(2026)
#   x = rng.uniform(-1, 1, (2, 3, 6, 7)); weight = rng.uniform(-1, 1, (2, 3, 3, 2)); bias = rng.uniform(-1, 1, (2,))
#   y = conv2d_forward(x, weight, bias, stride=2, padding=1)
#   print(np.abs(y - torch_conv2d_forward(*map(torch.tensor, (x, weight, bias)), 2, 1).detach().numpy()).max())

"""Back-propagation by hand (NumPy) and with autograd (PyTorch).

Fill in the six functions below.  Do not rename them and do not change their
signatures or defaults: the autograder calls them exactly as declared here.
Self-check in your own environment: `pip install <the grader's folder or URL from your course>` once, then `backprop-grader check backprop.py` (in a notebook: `from grader import self_check; self_check("backprop.ipynb")`).

The network (the course's numbering -- keep it exactly; no biases):

    h1 = f(w1*x1 + w3*x2)        h2 = f(w2*x1 + w4*x2)
    o1 = f(w5*h1 + w7*h2)        o2 = f(w6*h1 + w8*h2)

w1 and w2 both read x1, w3 and w4 read x2, w5 and w6 read h1, w7 and w8 read h2.
The weight vector is always ordered w1, w2, ..., w8 (index 0 is w1).

f is the sigmoid 1/(1+exp(-z)) (act="sigmoid") or ReLU max(0, z) (act="relu",
used at every layer, derivative 0 for z <= 0).

Loss "mse" (the course's default):  E = 1/2 * ((o1 - y1)**2 + (o2 - y2)**2)

One training step: compute all eight dE/dw from ONE forward pass with the current
weights, then update all eight at once: w <- w - lr * dE/dw.

General rules:
  * Functions must not change their arguments in place (copy before you modify).
  * Return values may be lists, tuples, NumPy arrays, Python floats or torch
    tensors; float32 is acceptable.
  * Code under ``if __name__ == "__main__":`` never runs when grading; put your
    experiments there or in a separate file/notebook.
"""

import numpy as np
import torch


# ---------------------------------------------------------------------------
# Part A -- NumPy, gradients derived by hand.  Do NOT use autograd here.
# ---------------------------------------------------------------------------

def np_forward(x, w, act="sigmoid"):
    """Forward pass of the 2-2-2 network in NumPy.

    Args:
        x:   float64 NumPy array, shape (2,): (x1, x2).
        w:   float64 NumPy array, shape (8,): (w1, ..., w8) in the course's
             numbering, h1 = f(w1*x1 + w3*x2), h2 = f(w2*x1 + w4*x2),
             o1 = f(w5*h1 + w7*h2), o2 = f(w6*h1 + w8*h2).
        act: "sigmoid" or "relu" (f at every layer).

    Returns:
        (h, o): h = (h1, h2) and o = (o1, o2), each of shape (2,).

    Must not modify x or w in place.
    """
    raise NotImplementedError


def np_backward(x, y, w, act="sigmoid"):
    """Gradient of the mse loss E = 1/2*((o1-y1)**2 + (o2-y2)**2), by hand.

    Derive every partial derivative with the chain rule yourself; no autograd.

    Args:
        x:   float64 NumPy array, shape (2,): inputs (x1, x2).
        y:   float64 NumPy array, shape (2,): targets (y1, y2).
        w:   float64 NumPy array, shape (8,): weights w1..w8 (course numbering,
             see np_forward).
        act: "sigmoid" or "relu" (ReLU derivative is 0 for z <= 0).

    Returns:
        g: shape (8,), g[i] = dE/dw(i+1), i.e. (dE/dw1, ..., dE/dw8),
           all computed from one forward pass with the given w.

    Must not modify x, y or w in place.
    """
    raise NotImplementedError


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    """Plain gradient descent on the mse loss, gradients from np_backward.

    Args:
        x:      float64 NumPy array, shape (2,).
        y:      float64 NumPy array, shape (2,).
        w:      float64 NumPy array, shape (8,): initial weights w1..w8.
        lr:     step size (float), e.g. 0.5, 1, 2, 5.
        epochs: number of updates (int), e.g. 1, 50, 200, 1000.
        act:    "sigmoid" or "relu".

    Each epoch: compute the loss and all eight gradients with the current
    weights, then update all eight at once, w <- w - lr * dE/dw.

    Returns:
        (w_final, losses): w_final shape (8,), the weights after `epochs`
        updates; losses has length `epochs` and losses[i] is the loss BEFORE
        update i (so losses[0] is the loss of the initial weights).

    Must not modify w (or x, y) in place: the caller's array stays unchanged.
    """
    raise NotImplementedError


# ---------------------------------------------------------------------------
# Part B -- PyTorch.  Gradients MUST come from loss.backward() (autograd).
# ---------------------------------------------------------------------------

def torch_forward(x, w, act="sigmoid"):
    """Forward pass of the same network in PyTorch.

    Args:
        x:   float64 torch tensor, shape (2,), no grad.
        w:   float64 torch tensor, shape (8,), no grad: w1..w8 in the course's
             numbering (h1 = f(w1*x1 + w3*x2), h2 = f(w2*x1 + w4*x2),
             o1 = f(w5*h1 + w7*h2), o2 = f(w6*h1 + w8*h2)).
        act: "sigmoid" (hand-written 1/(1+exp(-z))), "torch.sigmoid"
             (torch.sigmoid) or "relu".

    Returns:
        (h, o), each of shape (2,) (tensors with or without grad are fine).

    Must not modify x or w in place.
    """
    raise NotImplementedError


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    """Gradient dE/dw1..dE/dw8 computed by autograd (call .backward()).

    Args:
        x, y: float64 torch tensors, shape (2,), no grad.
        w:    float64 torch tensor, shape (8,), no grad: w1..w8 (course numbering).
        act:  "sigmoid", "torch.sigmoid" or "relu".
        loss: "mse"              E = 1/2*((o1-y1)**2 + (o2-y2)**2), by hand;
              "MSELoss"          torch.nn.MSELoss()(o1, y1) + torch.nn.MSELoss()(o2, y2)
                                 (no 1/2, so every gradient is twice the mse one);
              "CrossEntropyLoss" torch.nn.CrossEntropyLoss() on o stacked as one
                                 row of two logits, shape (1, 2), with y stacked as
                                 one row of class probabilities, shape (1, 2).

    Returns:
        g: shape (8,), (dE/dw1, ..., dE/dw8).

    Must not modify x, y or w in place (make your own leaf tensor that
    requires grad, e.g. from w.clone()).
    """
    raise NotImplementedError


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    """Gradient descent with gradients from autograd.

    Args:
        x, y:   float64 torch tensors, shape (2,), no grad.
        w:      float64 torch tensor, shape (8,), no grad: initial w1..w8.
        lr:     step size (float).
        epochs: number of updates (int).
        act:    "sigmoid", "torch.sigmoid" or "relu".
        loss:   "mse", "MSELoss" or "CrossEntropyLoss" (see torch_backward).

    Each epoch: forward, loss, .backward(), then w <- w - lr * dE/dw for all
    eight weights at once (by hand under torch.no_grad() or with
    torch.optim.SGD -- remember to zero the gradients).

    Returns:
        (w_final, losses): w_final shape (8,); losses has length `epochs`,
        losses[i] = loss BEFORE update i.  With CrossEntropyLoss the loss may
        go below zero and, with ReLU, even diverge to inf/nan -- that is fine.

    Must not modify w (or x, y) in place.
    """
    raise NotImplementedError


# Hint: try your functions on the given case in a separate script, e.g.
#   x = np.array([0.5, 0.3]); y = np.array([0.23, -0.07])
#   w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
#   print(np_forward(x, w))
# and compare with the reference's values: `make check SUB=path/to/this_file.py` prints,
# for every check that fails, what your function returned and what was expected.

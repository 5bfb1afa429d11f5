"""Tries HTML injection through everything a report shows, and prints 100 MB.

At import it prints <script> and <img onerror> tags, then 100 MiB.  np_forward
raises an exception whose message is HTML; np_backward returns nan and inf for
dE/dw1..dE/dw3; np_train's losses at lr 1 for 50 epochs turn inf, then nan; from
all-zero weights np_train raises instead of returning a curve.  No PyTorch part.
"""

import sys

import numpy as np

print("<script>alert('stdout')</script>")
print("<img src=x onerror=alert('stdout')>")
sys.stderr.write("</pre><script>alert('stderr')</script><img src=x onerror=alert('stderr')>\n")
LINE = "<i>" + "x" * 1017 + "</i>\n"  # 1 KiB
for _ in range(100 * 1024):  # 100 MiB
    sys.stdout.write(LINE)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _forward(x, w):
    h = _sigmoid(np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
    o = _sigmoid(np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
    return h, o


def _gradients(x, y, w):
    h, o = _forward(x, w)
    delta_o = (o - y) * o * (1 - o)
    delta_h = np.array([delta_o[0] * w[4] + delta_o[1] * w[5], delta_o[0] * w[6] + delta_o[1] * w[7]]) * h * (1 - h)
    return np.array([delta_h[0] * x[0], delta_h[1] * x[0], delta_h[0] * x[1], delta_h[1] * x[1],
                     delta_o[0] * h[0], delta_o[1] * h[0], delta_o[0] * h[1], delta_o[1] * h[1]])


def np_forward(x, w, act="sigmoid"):
    raise ValueError("<script>alert('forward')</script><img src=x onerror=alert('forward')> & \"quoted\"")


def np_backward(x, y, w, act="sigmoid"):
    g = _gradients(x, y, w)
    g[0], g[1], g[2] = np.nan, np.inf, -np.inf
    return g


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    if not np.any(w):
        raise RuntimeError("<script>alert('train')</script>no curve from zero weights")
    w = np.array(w, dtype=float)
    losses = []
    for _ in range(epochs):
        _, o = _forward(x, w)
        losses.append(0.5 * np.sum((o - y) ** 2))
        w = w - lr * _gradients(x, y, w)
    losses = np.array(losses)
    if lr == 1.0 and epochs == 50:
        losses[10] = np.inf
        losses[20:] = np.nan
    return w, losses

"""Attempts to read the hidden cases back from the comparison itself: it returns
its inputs where outputs belong (so "got ..." would show the hidden x and w) and
zeros elsewhere (so the absolute error is the expected value itself, and the
absolute error divided by the relative error gives it back in any case).

Expected verdict: every check fails with "wrong value".  In every student view a
hidden case shows only "failed: wrong value": no value it returned, no expected
value, no error size, no list of the elements that are off.  The instructor's
views show all of them.
"""


def _forward(x, w):
    return [float(v) for v in x], [0.0, 0.0]  # h = the inputs, o = zeros


def _train(w, epochs):
    return [float(v) for v in w], [0.0] * int(epochs)


def np_forward(x, w, act="sigmoid"):
    return _forward(x, w)


def np_backward(x, y, w, act="sigmoid"):
    return [float(v) for v in w]


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    return _train(w, epochs)


def torch_forward(x, w, act="sigmoid"):
    return _forward(x, w)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    return [float(v) for v in w]


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    return _train(w, epochs)

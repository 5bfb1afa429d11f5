"""Attempts to read the hidden cases back from its own feedback: every entry point
raises an exception whose message (and exception type name) holds the exact x, y
and w it was called with, and prints them too.  On a hidden case those are the
hidden inputs, which a lookup table could then answer.

Expected verdict: every check fails, each case "raised an exception".  In every
student view (results.json on Gradescope and from `grade`, the student's page
report.html) a hidden case shows only its verdict and the reason "raised an
exception": none of the hidden inputs or expected values appear in any rendering.
The instructor's views (grading.json, instructor.html) keep the messages and the
hidden inputs.
"""

import sys


def _leak(*values):
    text = " ".join(f"{name}={list(map(float, value))!r}" for name, value in zip(("x", "y", "w"), values))
    print("inputs:", text)
    sys.stderr.write(f"inputs: {text}\n")
    kind = type("Leak_" + "_".join(f"{v:.6g}".replace(".", "p").replace("-", "m") for value in values for v in map(float, value)), (ValueError,), {})
    raise kind(f"the call's inputs: {text}")


def np_forward(x, w, act="sigmoid"):
    _leak(x, w)


def np_backward(x, y, w, act="sigmoid"):
    _leak(x, y, w)


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    _leak(x, y, w)


def torch_forward(x, w, act="sigmoid"):
    _leak(x, w)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    _leak(x, y, w)


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    _leak(x, y, w)

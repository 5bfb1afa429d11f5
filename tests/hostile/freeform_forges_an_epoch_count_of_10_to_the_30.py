"""Free-form, a script that writes records of its own onto every open file descriptor (the
grader's channel among them), in the shape the watcher sends: a backward pass numbered
10**30 and a call of its update numbered 10**30.  The grader reads the number of epochs
from such counts, and re-ran the reference training that many times, in its own process:
the class never finished.

Expected verdict: the forged records are refused while they are read (a count beyond any a
run can make), which ends the run there with a problem that says the process wrote what is
not a record; the class finishes; what came before is graded as it is: the weights after
the first update right (free-form, 0 points with the default credit).
"""
import json
import math
import os

x1, x2, y1, y2 = 0.5, 0.3, 0.23, -0.07
w = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]
lr = 0.5
e = math.exp
HUGE = 10**30
FORGED = [
    {"event": "observed", "kind": "backward", "n": 1, "pass": HUGE, "leaves": [], "root": None},
    {"event": "observed", "kind": "call", "function": "update", "n": 2, "call": HUGE,
     "arguments": {}, "returned": None},
]  # fmt: skip


def update(w):
    """One epoch: the forward pass, the gradients by hand and the step."""
    h1, h2 = 1 / (1 + e(-(w[0] * x1 + w[2] * x2))), 1 / (1 + e(-(w[1] * x1 + w[3] * x2)))
    o1, o2 = 1 / (1 + e(-(w[4] * h1 + w[6] * h2))), 1 / (1 + e(-(w[5] * h1 + w[7] * h2)))
    d1, d2 = (o1 - y1) * o1 * (1 - o1), (o2 - y2) * o2 * (1 - o2)
    e1, e2 = (d1 * w[4] + d2 * w[5]) * h1 * (1 - h1), (d1 * w[6] + d2 * w[7]) * h2 * (1 - h2)
    g = (e1 * x1, e2 * x1, e1 * x2, e2 * x2, d1 * h1, d2 * h1, d1 * h2, d2 * h2)
    return [a - lr * b for a, b in zip(w, g)]


if __name__ == "__main__":
    for epoch in range(3):
        w = update(w)
    for name in os.listdir("/proc/self/fd"):
        for record in FORGED:
            try:
                os.write(int(name), (json.dumps(record) + "\n").encode())
            except OSError:
                pass
    print("weights after 3 updates", w)

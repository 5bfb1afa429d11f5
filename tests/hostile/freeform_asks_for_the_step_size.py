"""Free-form, a script that computes its forward pass and gradients, prints them, and
then asks for the step size with input() before training.

Expected verdict: input() gets the step size the assignment gives (0.5), and the report
says so; a second input() gets end of input, so the script stops there with an EOFError,
reported as a problem (stopped half-way: EOFError).  What it printed is observed: the
forward outputs and all eight gradients right (np-forward-output and np-gradients passed,
mode free-form).  The grader never waits for a keyboard.
"""
import math

x1, x2, y1, y2 = 0.5, 0.3, 0.23, -0.07
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
h1, h2 = s(w1 * x1 + w3 * x2), s(w2 * x1 + w4 * x2)
o1, o2 = s(w5 * h1 + w7 * h2), s(w6 * h1 + w8 * h2)
print("outputs", o1, o2)
d1, d2 = (o1 - y1) * o1 * (1 - o1), (o2 - y2) * o2 * (1 - o2)
e1, e2 = (d1 * w5 + d2 * w6) * h1 * (1 - h1), (d1 * w7 + d2 * w8) * h2 * (1 - h2)
print("gradients", e1 * x1, e2 * x1, e1 * x2, e2 * x2, d1 * h1, d2 * h1, d1 * h2, d2 * h2)
lr = float(input("step size? "))
print("training with", lr)
epochs = int(input("epochs? "))

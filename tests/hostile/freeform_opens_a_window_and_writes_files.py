"""Free-form, a script that asks for a Tk window and matplotlib's Tk backend, calls
plt.show(), writes a file beside itself and prints 10 MB, around correct numbers.

Expected verdict: the window, the plot and the file do nothing to the grader; the
output kept is bounded; the gradients printed are observed right (np-gradients passed,
mode free-form).
"""
import math

import matplotlib

matplotlib.use("TkAgg")
import matplotlib.pyplot as plt  # noqa: E402
import tkinter  # noqa: E402

tkinter.Tk()
x1, x2, y1, y2 = 0.5, 0.3, 0.23, -0.07
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
h1, h2 = s(w1 * x1 + w3 * x2), s(w2 * x1 + w4 * x2)
o1, o2 = s(w5 * h1 + w7 * h2), s(w6 * h1 + w8 * h2)
d1, d2 = (o1 - y1) * o1 * (1 - o1), (o2 - y2) * o2 * (1 - o2)
e1, e2 = (d1 * w5 + d2 * w6) * h1 * (1 - h1), (d1 * w7 + d2 * w8) * h2 * (1 - h2)
print("g", *(f"{v:.6f}" for v in (e1 * x1, e2 * x1, e1 * x2, e2 * x2, d1 * h1, d2 * h1, d1 * h2, d2 * h2)))
plt.plot([1, 2])
plt.show()
with open("weights.txt", "w") as handle:
    handle.write("0.1\n")
for _ in range(10_000):
    print("." * 1000)

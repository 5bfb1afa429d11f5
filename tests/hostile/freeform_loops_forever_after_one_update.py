"""Free-form, a script that never ends when run: one correct forward pass by hand with its
numbers printed, then, under __main__, an endless loop that asks input() and prints.

Expected verdict: the file is stopped at its time limit (the run's problem says so), the
batch goes on, and what it printed before the loop is still observed: forward outputs o
right (np-forward-output passed, mode free-form, 0 points with the default credit).
"""
import math

x1, x2, y1, y2 = 0.5, 0.3, 0.23, -0.07
w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
h1, h2 = s(w1 * x1 + w3 * x2), s(w2 * x1 + w4 * x2)
o1, o2 = s(w5 * h1 + w7 * h2), s(w6 * h1 + w8 * h2)
if __name__ == "__main__":
    print(f"o = {o1:.5f} {o2:.5f}", flush=True)
    while True:
        try:
            input("step size? ")
        except EOFError:
            pass
        print("x" * 1000 + " 0.12345")

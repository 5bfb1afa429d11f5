"""Free-form, an honest script that trains for 60,000 updates: twelve times the homework's
largest number of epochs (the contract's bound, 5000).  The grader re-runs the reference
training at the number of updates a free-form file made, in its own process, where its
time is every student's: 60,000 epochs at each count it tries, and the catalogue at that
count, held up the whole class for minutes (400,000 for hours).

Expected verdict: the class finishes; the weights after the first update are observed
right; the weights at the end are not compared, with a note that names the count and the
bound (free-form, 0 points with the default credit).
"""
import math

x1, x2, y1, y2 = 0.5, 0.3, 0.23, -0.07
w = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]
lr = 0.5
e = math.exp


def update(w):
    """One epoch: the forward pass, the gradients by hand and the step, in one function."""
    h1, h2 = 1 / (1 + e(-(w[0] * x1 + w[2] * x2))), 1 / (1 + e(-(w[1] * x1 + w[3] * x2)))
    o1, o2 = 1 / (1 + e(-(w[4] * h1 + w[6] * h2))), 1 / (1 + e(-(w[5] * h1 + w[7] * h2)))
    d1, d2 = (o1 - y1) * o1 * (1 - o1), (o2 - y2) * o2 * (1 - o2)
    e1, e2 = (d1 * w[4] + d2 * w[5]) * h1 * (1 - h1), (d1 * w[6] + d2 * w[7]) * h2 * (1 - h2)
    g = (e1 * x1, e2 * x1, e1 * x2, e2 * x2, d1 * h1, d2 * h1, d1 * h2, d2 * h2)
    return [a - lr * b for a, b in zip(w, g)]


if __name__ == "__main__":
    for epoch in range(60_000):
        w = update(w)
    print("final weights", w)

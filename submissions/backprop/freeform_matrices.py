"""Free-form, 2x2 matrices: W1 (hidden layer) and W2 (output layer) stored [out, in] as
nn.Linear stores them, so W1 = [[w1, w3], [w2, w4]]; functions of its own taking the
matrices.  Its output delta leaves out the sigmoid's derivative (delta_o = o - y).

Graded free-form, it must get: forward outputs o right, hidden- and output-layer gradients
wrong and named missing-output-derivative.
"""
import numpy as np

X = np.array([0.5, 0.3])
Y = np.array([0.23, -0.07])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(W1, W2, x):
    h = sigmoid(W1 @ x)
    o = sigmoid(W2 @ h)
    return h, o


def backward(W1, W2, x, y):
    h, o = forward(W1, W2, x)
    delta_o = o - y  # the output's derivative o*(1-o) is missing
    delta_h = (W2.T @ delta_o) * h * (1 - h)
    return np.outer(delta_h, x), np.outer(delta_o, h)


if __name__ == "__main__":
    W1 = np.array([[0.2, 0.5], [-0.4, 0.6]])
    W2 = np.array([[0.1, -0.3], [-0.5, 0.8]])
    for epoch in range(200):
        dW1, dW2 = backward(W1, W2, X, Y)
        W1 = W1 - 0.5 * dW1
        W2 = W2 - 0.5 * dW2
    print("W1 =", W1, "W2 =", W2)

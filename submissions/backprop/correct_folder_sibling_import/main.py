# HW3 main file -- the functions live in bp_numpy.py and bp_torch.py
import numpy as np
import torch

from bp_numpy import np_forward, np_backward, np_train
from bp_torch import *


def demo():
    x = np.array([0.5, 0.3])
    y = np.array([0.23, -0.07])
    w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
    print(np_backward(x, y, w))
    print(torch_backward(torch.tensor(x), torch.tensor(y), torch.tensor(w)))


if __name__ == "__main__":
    demo()
    # keep the window open (I run this by double-click on windows)
    while True:
        pass

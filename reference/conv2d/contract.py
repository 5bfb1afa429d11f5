"""The contract of the convolution homework, as data the engine reads.

Part A writes the layer in NumPy and derives its backward pass by hand; Part B
writes the same two functions with torch.nn.functional.conv2d and autograd.
x, weight, bias and dy are the case's values (float64 arrays of the part's
framework); stride and padding are the check's options.
"""

from __future__ import annotations

from grader.core.contract import Contract, EntryPoint, Quantity, inputs, option

MAX_STRIDE = 4
MAX_PADDING = 4
STRIDE = option("stride", {"type": "integer", "minimum": 1, "maximum": MAX_STRIDE}, 1)
PADDING = option("padding", {"type": "integer", "minimum": 0, "maximum": MAX_PADDING}, 0)

FORWARD = (*inputs("x", "weight", "bias"), STRIDE, PADDING)
BACKWARD = (*inputs("x", "weight", "bias", "dy"), STRIDE, PADDING)
GRADIENTS = ("dx", "dweight", "dbias")

ENTRY_POINTS = {
    "conv2d_forward": EntryPoint("numpy", "numpy", FORWARD, ("y",), ("y",)),
    "conv2d_backward": EntryPoint("numpy", "numpy", BACKWARD, GRADIENTS, GRADIENTS),
    "torch_conv2d_forward": EntryPoint("torch", "torch", FORWARD, ("y",), ("y",)),
    "torch_conv2d_backward": EntryPoint("torch", "torch", BACKWARD, GRADIENTS, GRADIENTS),
}

QUANTITIES = {
    "y": Quantity(
        "y",
        "the output y",
        count_words="shape (N, C_out, H_out, W_out), H_out = (H + 2*padding - kH) // stride + 1",
    ),
    "dx": Quantity(
        "dx",
        "the input gradient dL/dx",
        count_words="the shape of x, (N, C_in, H, W)",
        derivative=True,
    ),
    "dweight": Quantity(
        "dweight",
        "the weight gradient dL/dweight",
        count_words="the shape of weight, (C_out, C_in, kH, kW)",
        derivative=True,
    ),
    "dbias": Quantity(
        "dbias",
        "the bias gradient dL/dbias",
        count_words="the shape of bias, (C_out,)",
        derivative=True,
    ),
}

CONTRACT = Contract(ENTRY_POINTS, QUANTITIES)


def is_forward(entry: str) -> bool:
    return ENTRY_POINTS[entry].returns == ("y",)

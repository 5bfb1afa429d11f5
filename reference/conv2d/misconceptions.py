"""The catalogue: the classic mistakes of a convolution layer written by hand.

Each entry is a small, named variation of the reference (`variations.py`) with
a stable id, a paragraph for the student and the right formula; the engine
matches a failing check against what it predicts (grader/engine/diagnose.py).  An
entry with several variations is reproduced by any one of them.
"""

from __future__ import annotations

from grader.core.catalog import Misconception
from reference.conv2d.contract import MAX_PADDING, MAX_STRIDE
from reference.conv2d.variations import Variation

NUMPY = ("numpy",)
BOTH = ("numpy", "torch")
STRIDED = {"stride": tuple(range(2, MAX_STRIDE + 1))}
PADDED = {"padding": tuple(range(1, MAX_PADDING + 1))}

FORWARD = (
    "y[n, o, i, j] = bias[o] + sum_{c, k, l} weight[o, c, k, l] * "
    "xp[n, c, i*stride + k, j*stride + l], xp = x padded by p zeros on every side"
)
DX = "dxp[n, c, i*stride + k, j*stride + l] += sum_o dy[n, o, i, j] * weight[o, c, k, l]; dx = dxp without its padding"
DWEIGHT = (
    "dweight[o, c, k, l] = sum_{n, i, j} dy[n, o, i, j] * xp[n, c, i*stride + k, j*stride + l]"
)
DBIAS = "dbias[o] = sum_{n, i, j} dy[n, o, i, j] = dy.sum(axis=(0, 2, 3))"
OUTPUT_SIZE = (
    "H_out = (H + 2*padding - kH) // stride + 1, W_out = (W + 2*padding - kW) // stride + 1"
)

CATALOG: tuple[Misconception, ...] = (
    Misconception(
        "kernel-flipped",
        "The kernel flipped: a true convolution",
        "The kernel was turned by 180 degrees before it slid over the input, weight[o, c, kH-1-k, kW-1-l], which is "
        "convolution as signal processing defines it. Deep-learning libraries (torch.nn.functional.conv2d included) "
        "compute a cross-correlation: the kernel is laid on the input as it is, weight[o, c, k, l] meeting "
        "x[n, c, i*stride + k, j*stride + l]. The two agree only for symmetric kernels.",
        FORWARD,
        NUMPY,
        (Variation(flip_kernel=True),),
    ),
    Misconception(
        "padding-one-side",
        "Padding on one side only",
        "The zeros of the padding went on one side of each axis (all 2*padding rows below and columns to the right, "
        "or all above and to the left) instead of padding on every side. The output keeps its shape, but every "
        "window reads the input shifted by padding rows and columns. Pad both sides: "
        "np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).",
        FORWARD,
        NUMPY,
        (Variation(pad_where="after"), Variation(pad_where="before")),
        when=PADDED,
    ),
    Misconception(
        "stride-ignored-in-backward",
        "The stride ignored in the backward pass",
        "The forward pass steps its windows by the stride, but the backward pass slid them one position at a time: "
        "output (i, j) was taken to read x[i + k, j + l] instead of x[i*stride + k, j*stride + l]. The gradients "
        "must go back to exactly the input positions each output read, so dweight and dx use the same "
        "i*stride + k as the forward pass.",
        f"{DWEIGHT}; {DX}",
        NUMPY,
        (Variation(backward_stride=1),),
        when=STRIDED,
    ),
    Misconception(
        "bias-gradient-not-summed",
        "The bias gradient not summed over the batch and the positions",
        "Each bias is added at every output position of every sample, so its gradient collects dy from all of them: "
        "the sum over the batch n and the positions i, j. Your dbias kept some of those axes (one value per sample "
        "or per position) or summed one sample only. It has one value per output channel.",
        DBIAS,
        NUMPY,
        (
            Variation(bias_sum="per-sample"),
            Variation(bias_sum="per-position"),
            Variation(bias_sum="first-sample"),
        ),
    ),
    Misconception(
        "input-channels-not-summed",
        "The input channels not summed",
        "Each output value sums the products over every input channel c as well as over the "
        "kernel's positions. Only one input channel reached y (an assignment y[...] = ... inside "
        "the loop over c where += belongs keeps only the last one), so with several input channels "
        "the outputs, and the gradients derived from them, are wrong.",
        FORWARD,
        NUMPY,
        (Variation(channel="last"), Variation(channel="first")),
    ),
    Misconception(
        "output-size-off-by-one",
        "The output size off by one",
        "The output has one row and one column too few: the count of window positions is "
        "(H + 2*padding - kH) // stride + 1, the +1 counting the first position. Without it the last row and column of "
        "outputs are missing, and the backward pass leaves out their part of dy.",
        OUTPUT_SIZE,
        NUMPY,
        (Variation(out_shrink=1),),
    ),
    Misconception(
        "weight-gradient-one-sample",
        "The weight gradient from one sample of the batch",
        "The same kernel is used for every sample of the batch, so its gradient is the sum over the batch of every "
        "sample's contribution. Your dweight is one sample's (the first, or the last: an = where += belongs in the "
        "loop over n).",
        DWEIGHT,
        NUMPY,
        (Variation(weight_sample="first"), Variation(weight_sample="last")),
    ),
    Misconception(
        "dx-kernel-not-flipped",
        "dx through the kernel the wrong way round",
        "dx was computed as a full correlation of dy with the kernel as it is; the input gradient is a full "
        "convolution, with the kernel turned by 180 degrees. Written as a scatter it needs no flip at all: every "
        "output position (i, j) sends dy[n, o, i, j] * weight[o, c, k, l] back to the input position it read, "
        "x[i*stride + k, j*stride + l].",
        DX,
        NUMPY,
        (Variation(dx_kernel_flipped=True),),
    ),
    Misconception(
        "upstream-gradient-ignored",
        "The upstream gradient dy ignored",
        "The gradients were those of y.sum(), as if every element of dy were 1 (y.sum().backward(), or ones in place "
        "of dy). conv2d_backward is one step of back-propagation: it receives dL/dy from the layers above and must "
        "multiply by it, y.backward(dy) in PyTorch.",
        f"{DBIAS}; {DWEIGHT}",
        BOTH,
        (Variation(dy_ones=True),),
    ),
)

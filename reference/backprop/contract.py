"""The contract a submission fulfils (ASSIGNMENT.md), as the engine reads it.

Which entry points there are, in which part, how each one's arguments are made
(NumPy arrays or torch tensors, in which order; the options a check may set),
what it returns and where each graded quantity sits in that, with the names of
its elements and the words a message uses for it.
"""

from __future__ import annotations

from grader.core.contract import Contract, EntryPoint, Quantity, inputs, option
from reference.backprop.network import ACTIVATIONS, LOSSES

HAND_ACTIVATIONS = ("sigmoid", "relu")  # what Part A derives by hand
HAND_LOSSES = ("mse",)


def _variant(activations, losses=None):
    options = [option("act", {"enum": list(activations)}, "sigmoid")]
    return tuple(options + ([option("loss", {"enum": list(losses)}, "mse")] if losses else []))


_TRAINING = (
    option("lr", {"type": "number", "exclusiveMinimum": 0}),
    option("epochs", {"type": "integer", "minimum": 1, "maximum": 5000}),
)
_FORWARD = ("h", "o")
_TRAIN = ("w_final", "losses")
_TRAINED = ("loss", "loss_curve", "final_weights")
ENTRY_POINTS = {
    "np_forward": EntryPoint(
        "numpy", "numpy", (*inputs("x", "w"), *_variant(HAND_ACTIVATIONS)), _FORWARD, ("h", "o")
    ),
    "np_backward": EntryPoint(
        "numpy",
        "numpy",
        (*inputs("x", "y", "w"), *_variant(HAND_ACTIVATIONS)),
        ("gradient",),
        ("gradients",),
    ),
    "np_train": EntryPoint(
        "numpy",
        "numpy",
        (*inputs("x", "y", "w"), *_TRAINING, *_variant(HAND_ACTIVATIONS)),
        _TRAIN,
        _TRAINED,
        trains=True,
    ),
    "torch_forward": EntryPoint(
        "torch", "torch", (*inputs("x", "w"), *_variant(ACTIVATIONS)), _FORWARD, ("h", "o")
    ),
    "torch_backward": EntryPoint(
        "torch",
        "torch",
        (*inputs("x", "y", "w"), *_variant(ACTIVATIONS, LOSSES)),
        ("gradient",),
        ("gradients",),
    ),
    "torch_train": EntryPoint(
        "torch",
        "torch",
        (*inputs("x", "y", "w"), *_TRAINING, *_variant(ACTIVATIONS, LOSSES)),
        _TRAIN,
        _TRAINED,
        trains=True,
    ),
}

_PER_EPOCH = "one per epoch, each the loss before that epoch's update"
QUANTITIES = {
    "h": Quantity("h", "the hidden values h", 2, elements=("h1", "h2")),
    "o": Quantity("o", "the outputs o", 2, elements=("o1", "o2")),
    "gradients": Quantity(
        "gradient",
        "the gradients dE/dw1..dE/dw8",
        8,
        elements=tuple(f"dE/dw{i}" for i in range(1, 9)),
        derivative=True,
    ),
    "final_weights": Quantity(
        "w_final", "the final weights", 8, elements=tuple(f"w{i}" for i in range(1, 9))
    ),
    "loss_curve": Quantity(
        "losses",
        "the losses",
        count_words=_PER_EPOCH,
        tolerance="curve",
        curve=True,
        axis="loss",
        step="epoch",
    ),
    "loss": Quantity(
        "losses",
        "the loss before the first update",
        first_only=True,
        elements=("loss",),
        count_words=_PER_EPOCH,
        tolerance="curve",
    ),
}

CONTRACT = Contract(ENTRY_POINTS, QUANTITIES)

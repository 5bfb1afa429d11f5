"""The contract a submission fulfils (ASSIGNMENT.md), as data the engine reads.

The grader builds every call, describes it and reads its answer from these
tables alone: which entry points there are, in which part, how each one's
arguments are made (NumPy arrays or torch tensors, in which order), what it
returns and where each graded quantity sits in that, with the names of its
elements and the words a message uses for it.
"""

from __future__ import annotations

from dataclasses import dataclass

CASE_INPUTS = ("x", "y", "w")  # what a case holds; the other arguments come from the check


@dataclass(frozen=True)
class EntryPoint:
    part: str
    framework: str  # numpy | torch: the kind of array its case inputs arrive as (float64)
    arguments: tuple[str, ...]  # positional order: case inputs, then the check's keyword arguments
    returns: tuple[str, ...]  # one name: a single value; several: the members of the tuple it returns
    quantities: tuple[str, ...]  # what the spec may compare of it

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(a for a in self.arguments if a not in CASE_INPUTS)


@dataclass(frozen=True)
class Quantity:
    member: str  # which of the entry point's `returns` it is read from
    words: str  # how a message names it
    size: int | None = None  # values it holds; None: as many as expected (a loss curve's epochs)
    first_only: bool = False  # only the member's first value (the loss before the first update)
    elements: tuple[str, ...] = ()  # names of its values; empty: member[i]
    count_words: str = ""  # for a quantity of no fixed size: how many values it should hold


_FORWARD = ("h", "o")
_TRAIN = ("w_final", "losses")
ENTRY_POINTS = {
    "np_forward": EntryPoint("numpy", "numpy", ("x", "w", "act"), _FORWARD, ("h", "o")),
    "np_backward": EntryPoint("numpy", "numpy", ("x", "y", "w", "act"), ("gradient",), ("gradients",)),
    "np_train": EntryPoint("numpy", "numpy", ("x", "y", "w", "lr", "epochs", "act"), _TRAIN, ("loss", "loss_curve", "final_weights")),
    "torch_forward": EntryPoint("torch", "torch", ("x", "w", "act"), _FORWARD, ("h", "o")),
    "torch_backward": EntryPoint("torch", "torch", ("x", "y", "w", "act", "loss"), ("gradient",), ("gradients",)),
    "torch_train": EntryPoint("torch", "torch", ("x", "y", "w", "lr", "epochs", "act", "loss"), _TRAIN, ("loss", "loss_curve", "final_weights")),
}

_PER_EPOCH = "one per epoch, each the loss before that epoch's update"
QUANTITIES = {
    "h": Quantity("h", "the hidden values h", 2, elements=("h1", "h2")),
    "o": Quantity("o", "the outputs o", 2, elements=("o1", "o2")),
    "gradients": Quantity("gradient", "the gradients dE/dw1..dE/dw8", 8, elements=tuple(f"dE/dw{i}" for i in range(1, 9))),
    "final_weights": Quantity("w_final", "the final weights", 8, elements=tuple(f"w{i}" for i in range(1, 9))),
    "loss_curve": Quantity("losses", "the losses", count_words=_PER_EPOCH),
    "loss": Quantity("losses", "the loss before the first update", first_only=True, elements=("loss",), count_words=_PER_EPOCH),
}

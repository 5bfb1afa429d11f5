"""The inputs of every check: the given case, and hidden cases of other shapes.

The given case's values come from a published seed and the shapes of
`[given_case]`, so a student reproduces them with

    rng = np.random.default_rng(seed)
    x, weight, bias = (rng.uniform(low, high, shape) for shape in (x_shape, weight_shape, bias_shape))
    dy = rng.uniform(low, high, y_shape)      # y's shape for the check's stride and padding

Hidden cases draw their shapes from `[hidden_case_ranges]` too, from the
instructor's secret (grader.core.cases.secret_rng_seed): the same on every run with
it, unknown without it.  Every case holds x, weight, bias and dy; a check
sends the ones its entry point takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.core.cases import Case, secret_rng_seed
from reference.conv2d.convolution import output_size

SHAPE_KEYS = (
    "batch",
    "in_channels",
    "out_channels",
    "height",
    "width",
    "kernel_height",
    "kernel_width",
)


@dataclass(frozen=True)
class Shapes:
    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    kernel_height: int
    kernel_width: int

    def output(self, stride: int, padding: int) -> tuple[int, int]:
        return (
            output_size(self.height, self.kernel_height, stride, padding),
            output_size(self.width, self.kernel_width, stride, padding),
        )


def _values(seed, shapes: Shapes, low: float, high: float, stride: int, padding: int) -> dict:
    """x, weight, bias, then dy of y's shape, in that order from one generator."""
    rng = np.random.default_rng(seed)
    s = shapes
    x = rng.uniform(low, high, (s.batch, s.in_channels, s.height, s.width))
    weight = rng.uniform(
        low, high, (s.out_channels, s.in_channels, s.kernel_height, s.kernel_width)
    )
    bias = rng.uniform(low, high, (s.out_channels,))
    dy = rng.uniform(low, high, (s.batch, s.out_channels, *s.output(stride, padding)))
    return {"x": x, "weight": weight, "bias": bias, "dy": dy}


def _hidden_shapes(ranges: dict, seed: int, index: int) -> Shapes:
    """One hidden case's shapes; a kernel never wider than the input, so every stride and padding has an output."""
    rng = np.random.default_rng([seed, index])
    size = {key: int(rng.integers(ranges[key][0], ranges[key][1] + 1)) for key in SHAPE_KEYS[:5]}
    for kernel, side in (("kernel_height", "height"), ("kernel_width", "width")):
        low, high = ranges[kernel]
        if low > size[side]:
            raise ValueError(
                f"hidden_case_ranges.{kernel}: a kernel of {low} does not fit an input of {size[side]} ({side})"
            )
        size[kernel] = int(rng.integers(low, min(high, size[side]) + 1))
    return Shapes(**size)


@dataclass(frozen=True)
class CaseBook:
    """Every case of a run: `draw_cases(spec, secret).for_check(check)`."""

    given_seed: int
    given: Shapes
    given_range: tuple[float, float]
    hidden_seed: int | None = None
    hidden: tuple[Shapes, ...] = ()
    hidden_range: tuple[float, float] = (-1.0, 1.0)

    def for_check(self, check) -> list[Case]:
        """The given case, then the check's hidden cases when a secret is known."""
        stride, padding = check.args["stride"], check.args["padding"]
        for shapes, where in (
            (self.given, "given_case"),
            *((s, "hidden_case_ranges") for s in self.hidden),
        ):
            if min(shapes.output(stride, padding)) < 1:
                raise ValueError(
                    f"{where}: a kernel of {shapes.kernel_height}x{shapes.kernel_width} leaves no output on "
                    f"{shapes.height}x{shapes.width} with stride {stride}, padding {padding} (check {check.id!r})"
                )
        cases = [
            Case.of(
                "given", _values(self.given_seed, self.given, *self.given_range, stride, padding)
            )
        ]
        for index, shapes in enumerate(self.hidden[: check.hidden_cases], start=1):
            values = _values(
                [self.hidden_seed, index, 1], shapes, *self.hidden_range, stride, padding
            )
            cases.append(Case.of(f"hidden-{index}", values, hidden=True))
        return cases


def draw_cases(spec, secret: bytes | None) -> CaseBook:
    given, ranges = spec.tables["given_case"], spec.tables["hidden_case_ranges"]
    given_range = (float(given["low"]), float(given["high"]))
    shapes = Shapes(**{key: given[key] for key in SHAPE_KEYS})
    if not secret:
        return CaseBook(given["seed"], shapes, given_range)
    seed = secret_rng_seed(secret)
    hidden = tuple(
        _hidden_shapes(ranges, seed, index) for index in range(1, spec.max_hidden_cases + 1)
    )
    return CaseBook(
        given["seed"], shapes, given_range, seed, hidden, tuple(map(float, ranges["values"]))
    )

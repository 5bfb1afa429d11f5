"""Charts: the geometry of the reports' SVG pictures, computed here so templates only draw.

A curve puts the submission's values over the reference's: x in steps (value i
at step i; the quantity names the step and the value, e.g. a cost per
iteration), y on a log axis when every value is positive and they span more than
two decades, else linear.  Values
that are not finite break the line and are marked as a band labelled nan/inf;
elements the reference does not compare are shaded.  Long curves are thinned to
at most `MAX_POINTS` drawn points so a report stays small.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = (
    84,
    16,
    14,
    40,
)  # margins around the plot area (the y labels, large at phone width)
MAX_POINTS = 300
LOG_SPAN = 100.0  # a log axis once the values span more than two decades
MAX_BANDS = 12
LOG_TICKS = 8  # at most about this many decades are labelled
MAX_DECADE = 308  # 10.0**309 is past the largest float
DIFFERENCE_HEIGHT = 120


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    label: str
    kind: str  # nonfinite | uncompared


@dataclass(frozen=True)
class Line:
    kind: str  # submitted | reference
    segments: tuple[str, ...]  # SVG polyline points, one string per unbroken run
    dots: tuple[tuple[float, float], ...]  # isolated finite points, drawn as dots


@dataclass(frozen=True)
class CurveChart:
    steps: int
    log: bool
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    bands: tuple[Band, ...]
    caption: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    axis: str = "value"  # what the y axis shows
    step: str = "step"  # what the x axis counts
    bottom: int = HEIGHT - BOTTOM
    parts_at: Tick | None = None  # where the curves first part: the first value off
    difference: DifferenceChart | None = None  # |submitted - reference| per step, under the curves


@dataclass(frozen=True)
class DifferenceChart:
    """|submitted - reference| per step on a log axis, so a gap too small to see between two
    curves (999 of 1000 values off by 1e-3 on a curve spanning 1) is plain."""

    line: Line
    y_ticks: tuple[Tick, ...]
    caption: str
    width: int = WIDTH
    height: int = DIFFERENCE_HEIGHT
    left: int = LEFT
    top: int = 8
    right: int = WIDTH - RIGHT
    bottom: int = DIFFERENCE_HEIGHT - 22


def as_float(value) -> float:
    """A number from results data, where non-finite values travel as "nan" / "inf" / "-inf"."""
    try:
        return float(value)
    except OverflowError:  # an integer past the largest float: as far out as a float goes
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """[start, stop) of every run of True."""
    runs, start = [], None
    for index, flag in enumerate(flags + [False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    return runs


def _fraction(value: float, low: float, high: float) -> float:
    """Where `value` lies between `low` and `high` (0 to 1), halved first so that even
    -1e308 to 1e308 spans no more than a float holds."""
    return (value / 2 - low / 2) / (high / 2 - low / 2)


def _nice_step(low: float, high: float, count: int) -> float:
    raw = (high / 2 - low / 2) / max(count, 2) * 2  # never more than the largest float
    power = 10.0 ** math.floor(math.log10(raw))
    return next((m * power for m in (1, 2, 5) if m * power >= raw), 10 * power)


def _linear_ticks(low: float, high: float, count: int = 5, min_step: float = 0.0) -> list[float]:
    step = max(_nice_step(low, high, count), min_step)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while (
        value <= high + step * 1e-9 and len(ticks) <= count + 2
    ):  # a nice step holds about `count`
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def _log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten inside [low, high]; with 1-2-5 between when there are too few,
    and every k-th decade when there are too many (5e-324 to 1e308 spans 632)."""
    first, last = math.floor(math.log10(low)), min(math.ceil(math.log10(high)), MAX_DECADE)
    stride = max(1, math.ceil((last - first + 1) / LOG_TICKS))
    decades = range(first, last + 1, stride)
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 5, 7)):
        ticks = [
            m * 10.0**d
            for d in decades
            for m in mantissas
            if low <= m * 10.0**d <= high * (1 + 1e-12)
        ]
        if len(ticks) >= 3 or stride > 1:
            return ticks
    return ticks


def _traced(points) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
    """SVG polylines through the (x, y) points, broken where a point is None (not finite);
    a point alone between breaks is a dot."""
    segments, dots, current = [], [], []
    for point in [*points, None]:
        if point is not None:
            current.append(point)
            continue
        if len(current) == 1:
            dots.append((round(current[0][0], 1), round(current[0][1], 1)))
        elif current:
            segments.append(" ".join(f"{x:.1f},{y:.1f}" for x, y in current))
        current = []
    return tuple(segments), tuple(dots)


def _describe_nonfinite(values: list[float], who: str, step: str = "step") -> str:
    parts = []
    for start, stop in _runs([not math.isfinite(v) for v in values])[:4]:
        kinds = sorted(
            {"nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") for v in values[start:stop]}
        )
        where = f"{step} {start}" if stop - start == 1 else f"{step}s {start}–{stop - 1}"
        parts.append(f"{'/'.join(kinds)} at {where}")
    if not parts:
        return ""
    more = len(_runs([not math.isfinite(v) for v in values])) - len(parts)
    return (
        f"{who} values are not finite: "
        + "; ".join(parts)
        + (f"; and {more} more runs" if more > 0 else "")
        + "."
    )


def _difference_chart(
    submitted: list[float],
    reference: list[float],
    sampled: list[int],
    x_of,
    parts_at: int | None,
    step: str,
) -> DifferenceChart | None:
    """|submitted - reference| at each sampled step, log scale; none where no step differs."""
    gaps = [
        abs(a - b) if math.isfinite(a) and math.isfinite(b) else math.nan
        for a, b in zip(submitted, reference)
    ]
    positive = [g for g in gaps if math.isfinite(g) and g > 0]
    if not positive:
        return None
    # in decades: at least one shown, so the axis has a tick or two (the smallest float is 5e-324)
    scale_low, scale_high = math.log10(min(positive)), math.log10(max(positive))
    if scale_high - scale_low < 1:
        scale_low, scale_high = (
            scale_high - 1,
            min(scale_high + 0.2, math.log10(sys.float_info.max)),
        )
    low, high = (
        max(10.0**scale_low, 5e-324),
        10.0 ** min(scale_high, 308.25),
    )  # ticks lie between these
    top, bottom = 8, DIFFERENCE_HEIGHT - 22

    def y_of(gap: float) -> float:
        decades = max(math.log10(gap) if gap > 0 else scale_low, scale_low)
        return bottom - (bottom - top) * (decades - scale_low) / (scale_high - scale_low)

    segments, dots = _traced(
        (x_of(i), y_of(gaps[i])) if math.isfinite(gaps[i]) else None
        for i in sampled
        if i < len(gaps)
    )
    ticks = [
        Tick(round(y_of(v), 1), f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e"))
        for v in _log_ticks(low, high)
    ]
    ticks = [t for t in ticks if top - 0.5 <= t.position <= bottom + 0.5]
    if len(ticks) > 4:
        ticks = ticks[:: math.ceil(len(ticks) / 4)]
    largest = max(range(len(gaps)), key=lambda i: gaps[i] if math.isfinite(gaps[i]) else -1)
    caption = (
        f"Difference |submitted − reference| per {step}, log scale: "
        f"largest {max(positive):.2g} at {step} {largest}"
    )
    caption += f"; the curves part at {step} {parts_at}." if parts_at is not None else "."
    return DifferenceChart(Line("difference", tuple(segments), tuple(dots)), tuple(ticks), caption)


def curve_chart(
    observed,
    expected,
    compared=None,
    axis: str = "value",
    step: str = "step",
    parts_at: int | None = None,
) -> CurveChart:
    """The submission's curve (`observed`) over the reference's (`expected`), `axis` per `step`;
    `parts_at`: the first step whose value is off, marked on the chart and on the difference under it."""
    submitted = [as_float(v) for v in observed]
    reference = [as_float(v) for v in expected]
    epochs = max(len(submitted), len(reference))  # the curve's steps
    finite = [v for v in submitted + reference if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    log = bool(finite) and low > 0 and high / low > LOG_SPAN
    if log:
        scale_low, scale_high = math.log10(low), math.log10(high)
    else:
        if high / 2 - low / 2 < 0.5e-12 * max(1.0, abs(high)):  # all equal, or nearly: pad the axis
            pad = max(abs(high) * 0.1, 1e-6)
            low, high = max(low - pad, -sys.float_info.max), min(high + pad, sys.float_info.max)
        scale_low, scale_high = low, high
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x_of(epoch: float) -> float:
        if epochs <= 1:
            return (LEFT + right) / 2
        return LEFT + (right - LEFT) * epoch / (epochs - 1)

    def y_of(value: float) -> float:
        scaled = math.log10(value) if log else value
        return bottom - (bottom - TOP) * _fraction(scaled, scale_low, scale_high)

    stride = max(1, math.ceil(epochs / MAX_POINTS))
    sampled = sorted(set(range(0, epochs, stride)) | {epochs - 1}) if epochs else []

    def line(kind: str, values: list[float]) -> Line:
        finite = (i < len(values) and math.isfinite(values[i]) for i in sampled)
        segments, dots = _traced(
            (x_of(i), y_of(values[i])) if ok else None for i, ok in zip(sampled, finite)
        )
        return Line(kind, tuple(segments), tuple(dots))

    def band(start: int, stop: int, label: str, kind: str) -> Band:
        half = 0.5 if epochs > 1 else 0
        left = max(LEFT, x_of(start - half)) if epochs > 1 else LEFT
        edge = min(right, x_of(stop - 1 + half)) if epochs > 1 else right
        return Band(round(left, 1), round(max(edge - left, 2.0), 1), label, kind)

    bands = []
    if compared is not None:
        bands += [
            band(a, b, "not compared", "uncompared")
            for a, b in _runs([not bool(c) for c in compared])
        ]
    for start, stop in _runs([not math.isfinite(v) for v in submitted]):
        kinds = sorted(
            {
                "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
                for v in submitted[start:stop]
            }
        )
        bands.append(band(start, stop, "/".join(kinds), "nonfinite"))

    x_ticks = (
        [
            Tick(round(x_of(t), 1), f"{t:g}")
            for t in _linear_ticks(0, max(epochs - 1, 1), 5, min_step=1)
            if t <= max(epochs - 1, 0)
        ]
        if epochs > 1
        else [Tick(round(x_of(0), 1), "0")]
    )
    y_values = _log_ticks(low, high) if log else _linear_ticks(low, high, 4)
    y_ticks = [
        Tick(round(y_of(v), 1), f"{v:.3g}")
        for v in y_values
        if low <= v <= high * (1 + 1e-12) or not log
    ]
    y_ticks = [t for t in y_ticks if TOP - 0.5 <= t.position <= bottom + 0.5]

    caption = [
        f"{epochs} {step}{'s' if epochs != 1 else ''} of {axis}; {'log' if log else 'linear'} scale."
    ]
    if parts_at is not None:
        caption.append(f"The curves part at {step} {parts_at} (marked).")
    caption.append(_describe_nonfinite(submitted, "The submitted", step))
    caption.append(_describe_nonfinite(reference, "The reference's", step))
    if len(bands) > MAX_BANDS:
        caption.append(f"{len(bands) - MAX_BANDS} more marked regions are not drawn.")
    return CurveChart(
        steps=epochs,
        log=log,
        lines=(line("reference", reference), line("submitted", submitted)),
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(y_ticks),
        bands=tuple(bands[:MAX_BANDS]),
        caption=" ".join(part for part in caption if part),
        axis=axis,
        step=step,
        parts_at=Tick(round(x_of(parts_at), 1), f"{step} {parts_at}")
        if parts_at is not None and 0 <= parts_at < max(epochs, 1)
        else None,
        difference=_difference_chart(submitted, reference, sampled, x_of, parts_at, step),
    )


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True)
class Histogram:
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = 200
    left: int = 40
    bottom: int = 160


def histogram(scores: list[float], max_score: float) -> Histogram:
    """Totals in about ten bins of whole points: 0–4, 5–9, ..., the last holding full marks.

    A total that is not a number is not counted; one past either end counts in the end bin."""
    max_score = as_float(max_score)
    if not (math.isfinite(max_score) and max_score > 0):
        max_score = 0.0
    width = max(1, math.ceil(max_score / 10)) if max_score > 0 else 1
    count = int(max_score // width) + 1
    counts = [0] * count
    for score in map(as_float, scores):
        if not math.isnan(score):
            counts[min(count - 1, max(0, int(min(max(score, 0.0), max_score) // width)))] += 1
    left, right, top, bottom = 40, WIDTH - 8, 20, 160
    slot = (right - left) / count
    tallest = max(counts + [1])
    bars = []
    for index, n in enumerate(counts):
        start, stop = (
            index * width,
            min((index + 1) * width - 1, max_score) if width > 1 else index * width,
        )
        label = f"{start:g}" if start == stop else f"{start:g}–{stop:g}"
        height = (bottom - top) * n / tallest
        bars.append(
            Bar(
                round(left + index * slot + 2, 1),
                round(bottom - height, 1),
                round(slot - 4, 1),
                round(height, 1),
                label,
                n,
            )
        )
    ticks = [
        Tick(round(bottom - (bottom - top) * t / tallest, 1), f"{t:g}")
        for t in _linear_ticks(0, tallest, 4, min_step=1)
    ]
    return Histogram(tuple(bars), tuple(ticks))

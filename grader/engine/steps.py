"""The first wrong step of a function: its own locals matched to the reference's intermediate values.

A probe's traced call (grader/isolation/inside/locals.py) sends, line by line, the numeric
locals the submission's functions assigned.  The assignment declares, for the same call, its
intermediate quantities in the order the computation needs them (`Step`: a symbol, words for
a student, the values; `milestone` for those a correct function necessarily computes), and
the values an intermediate may be built from (the inputs).  `first_departure` says which
milestone no local equals (the first after which no milestone is right), and which local is
the first, from there on, that equals no value of the computation: its line and its value.
Nothing here knows a homework: the steps are the assignment's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RETURNED = "<return>"  # the name a traced call's returned value is recorded under


@dataclass(frozen=True)
class Step:
    symbol: str  # as the course writes it: "delta_h"
    words: str  # "the hidden deltas"
    values: tuple[float, ...]
    milestone: bool = True  # every correct computation holds it (a helper product may be inline)
    needs: tuple[str, ...] = ()  # the symbols of the milestones it is computed from
    returned: bool = False  # the call hands it back (returned or recorded): never only inline


@dataclass(frozen=True)
class Departure:
    """The first milestone missing, and the local that departs first (None: no local does)."""

    step: Step
    function: str = ""
    line: int = 0
    name: str = ""
    value: tuple[float, ...] = ()
    dropped: int = 0  # records the trace left out, beyond its bound
    large: tuple[str, ...] = ()  # locals too large to record

    def sentence(
        self, entry: str, against: str = "the reference's computation", digits: int = 5
    ) -> str:
        def shown(values) -> str:
            text = ", ".join(f"{v:.{digits}g}" for v in values)
            return text if len(values) == 1 else f"[{text}]"

        quantity = f"{self.step.symbol} ({self.step.words}) = {shown(self.step.values)}"
        if self.name:
            where = f"in {self.function}, " if self.function != entry else ""
            name = "the value it returns" if self.name == RETURNED else f"`{self.name}`"
            said = (
                f"The first value your {entry} computes that departs from {against}: {where}line "
                f"{self.line}, {name} = {shown(self.value)}. From there on, no value of the "
                f"call equals {quantity}."
            )
        else:
            said = (
                f"No value your {entry} computes equals {quantity}; no local holds one to point at."
            )
        if self.dropped or self.large:
            left = [f"{self.dropped} later values" if self.dropped else ""]
            left += [f"{', '.join(self.large)} (too large)" if self.large else ""]
            said += f" (Not recorded: {' and '.join(filter(None, left))}.)"
        return said


def _matches(values: np.ndarray, targets: np.ndarray, tolerance) -> np.ndarray:
    """For each value, whether it equals one of `targets` within the tolerance."""
    if targets.size == 0:
        return np.zeros(values.shape, dtype=bool)
    allowed = tolerance.allowed(targets)
    return np.any(np.abs(values[:, None] - targets[None, :]) <= allowed[None, :], axis=1)


def first_departure(
    report: dict | None, steps: list[Step], known: tuple[float, ...], tolerance
) -> Departure | None:
    """Which step departs first, and where (None: nothing to say, every milestone is there or
    there is no record).  `known`: the inputs and constants a local may hold without departing."""
    if not report or not report.get("records"):
        return None
    records = report["records"]
    values = [np.asarray(r[3], dtype=np.float64) for r in records]
    found_at: dict[int, int] = {}
    for number, step in enumerate(steps):
        target = np.asarray(step.values, dtype=np.float64)
        where = []
        for element in target:
            first = next(
                (
                    i
                    for i, v in enumerate(values)
                    if _matches(v, np.array([element]), tolerance).any()
                ),
                None,
            )
            if first is None:
                break
            where.append(first)
        else:
            found_at[number] = max(where)
    milestones = [i for i, s in enumerate(steps) if s.milestone]
    right = [i for i in milestones if i in found_at]
    after = max(right, default=-1)
    missing = next((i for i in milestones if i > after and i not in found_at), None)
    if missing is None:  # every milestone after the last right one is there: one the call hands
        # back (a value it records at the wrong time, say) may still be missing
        missing = next((i for i in milestones if steps[i].returned and i not in found_at), None)
    if missing is None:
        return None
    # the departing local comes after the right values the missing one is computed from
    symbols = {s.symbol: i for i, s in enumerate(steps)}
    needed, todo = set(), list(steps[missing].needs)
    while todo:
        symbol = todo.pop()
        if symbol in symbols and symbols[symbol] not in needed:
            needed.add(symbols[symbol])
            todo.extend(steps[symbols[symbol]].needs)
    since = max((found_at[i] for i in needed if i in found_at), default=-1)
    every = np.concatenate(
        [np.asarray(s.values, dtype=np.float64) for s in steps]
        + [np.asarray(known, dtype=np.float64)]
    )
    extra = {
        "dropped": int(report.get("dropped", 0)),
        "large": tuple(report.get("large", ())),
    }
    for index in range(since + 1, len(records)):
        if not _matches(values[index], every, tolerance).all():
            function, line, name, value = records[index]
            return Departure(steps[missing], function, line, name, tuple(value), **extra)
    return Departure(steps[missing], **extra)

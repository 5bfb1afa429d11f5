"""Compare: one call's outcome against the reference, in the grader's process.

Shape and type first (a returned `None`, a string, eight values where two
belong), then the values, element by element, within the check's tolerance,
on the elements the reference marks as comparable.  The verdict keeps what a
student needs to see: what came back, what was expected, the largest absolute
and relative error and which elements are off, by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.core.expected import Expected
from grader.core.spec import Check
from grader.engine.execute import Outcome, numbers_only


class ShapeError(ValueError):
    pass


@dataclass(frozen=True)
class Verdict:
    """The verdict on one check for one case."""

    case_id: str
    hidden: bool
    status: str  # passed | failed | error | timeout
    message: str
    observed: tuple | None = None
    expected: tuple = ()
    compared: tuple = ()
    off: tuple[str, ...] = ()
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    error: dict | None = None
    notes: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()  # of the expected value, as the entry point returns it

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self, reveal_hidden: bool = True) -> dict:
        show = reveal_hidden or not self.hidden
        return {
            "case": self.case_id,
            "hidden": self.hidden,
            "status": self.status,
            "message": self.message,
            "observed": _plain(self.observed) if show else None,
            "expected": _plain(self.expected) if show else None,
            "compared": list(self.compared) if show else None,
            "off": list(self.off),
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "error": self.error,
            "notes": list(self.notes),
            "shape": list(self.shape) if show else None,
        }


def _plain(values):
    if values is None:
        return None
    return [v if np.isfinite(v) else str(v) for v in values]


MAX_DIMENSIONS = 32  # NumPy holds 64; no homework's value has more than a few


def numbers(tree) -> np.ndarray:
    """A value tree from the child as a float array; ShapeError if it is not numbers (or has
    more dimensions than any homework's value: stacking it could break NumPy's own bound)."""
    if isinstance(tree, (int, float)) and not isinstance(tree, bool):
        return np.array(float(tree))
    if not isinstance(tree, dict):
        raise ShapeError(f"returned {type(tree).__name__} data the grader cannot read")
    if "unsupported" in tree:
        what = str(tree["unsupported"])
        hint = " (did the function forget to `return`?)" if what == "NoneType" else ""
        raise ShapeError(f"returned {what} where numbers belong{hint}")
    if "array" in tree:
        flat, shape = tree.get("array"), tree.get("shape")
        if (
            not isinstance(flat, list)
            or not isinstance(shape, list)
            or not all(isinstance(d, int) and d >= 0 for d in shape)
        ):
            raise ShapeError("returned an array the grader cannot read")
        if len(shape) > MAX_DIMENSIONS:
            raise ShapeError(f"returned an array of {len(shape)} dimensions where numbers belong")
        if not numbers_only(flat) or len(flat) != int(np.prod(shape)):
            raise ShapeError("returned an array the grader cannot read")
        return np.array(flat, dtype=float).reshape(shape)
    if "seq" in tree and isinstance(tree["seq"], list):
        if numbers_only(tree["seq"]):  # a list of numbers, at once
            return np.array(tree["seq"], dtype=float)
        items = [numbers(item) for item in tree["seq"]]
        if items and any(item.shape != items[0].shape for item in items):
            raise ShapeError(
                "returned a list whose items have different shapes: "
                + ", ".join(str(i.shape) for i in items[:8])
            )
        if items and items[0].ndim >= MAX_DIMENSIONS:
            raise ShapeError(
                f"returned a list of arrays of {items[0].ndim} dimensions where numbers belong"
            )
        return np.array(items, dtype=float) if items else np.zeros(0)
    raise ShapeError("returned data the grader cannot read")


def _vector(tree, size: int, what: str) -> np.ndarray:
    array = numbers(tree)
    if array.size != size or (array.ndim > 1 and max(array.shape) != size):
        raise ShapeError(
            f"{what} has shape {tuple(array.shape)}; expected {size} values, shape ({size},)"
        )
    return array.reshape(size)


def observed_quantity(tree, check: Check, shape: tuple[int, ...]) -> np.ndarray:
    """Pick the check's quantity out of what the entry point returned, as the assignment's
    contract says (one value, or one member of the tuple it returns), flat, after checking it
    holds `shape` (the expected value's): an array's exact shape, a vector's count of values."""
    returns, quantity = check.signature.returns, check.measure
    if len(returns) == 1:
        member = tree
    else:
        if not (
            isinstance(tree, dict)
            and isinstance(tree.get("seq"), list)
            and len(tree["seq"]) == len(returns)
        ):
            got = (
                f"{len(tree['seq'])} values"
                if isinstance(tree, dict) and isinstance(tree.get("seq"), list)
                else "something else"
            )
            if isinstance(tree, dict) and "array" in tree:
                got = f"one array of shape {tuple(tree.get('shape', ()))}"
            raise ShapeError(
                f"{check.entry} must return a tuple ({', '.join(returns)}); it returned {got}"
            )
        member = tree["seq"][returns.index(quantity.member)]
    if quantity.size is not None:
        return _vector(member, quantity.size, quantity.member)
    array = numbers(member)
    values = array.reshape(-1)
    if quantity.first_only and tuple(shape) != (0,):  # (0,): a mistake that predicts no step at all
        if values.size == 0:
            raise ShapeError(
                f"{quantity.member} is empty; expected {quantity.count_words or 'values'}"
            )
        return values[:1]
    if len(shape) > 1:
        if tuple(array.shape) != tuple(shape):
            raise ShapeError(
                f"{quantity.member} has shape {tuple(array.shape)}; expected shape {tuple(shape)}"
            )
        return values
    expected_size = int(np.prod(shape))
    if values.size != expected_size:
        held = f"{values.size} values" + (
            f" (shape {tuple(array.shape)})" if array.ndim > 1 else ""
        )
        raise ShapeError(
            f"{quantity.member} has {held}; expected {expected_size}"
            + (f", {quantity.count_words}" if quantity.count_words else "")
        )
    return values


def element_names(check: Check, shape: tuple[int, ...]) -> tuple[str, ...]:
    """Each element's name (`element_name`), in flat order."""
    if check.measure.elements:
        return check.measure.elements
    return tuple(element_name(check, shape, i) for i in range(int(np.prod(shape))))


def element_name(check: Check, shape: tuple[int, ...], index: int) -> str:
    """The name of element `index` (flat): the contract's, else member[i] (member[i,j,...] for an
    array); a failed check names the elements it lists, not all of them."""
    quantity = check.measure
    if quantity.elements:
        return quantity.elements[index]
    if len(shape) > 1:
        return f"{quantity.member}[{','.join(map(str, np.unravel_index(index, shape)))}]"
    return f"{quantity.member}[{index}]"


def _format(value: float) -> str:
    return f"{value:.6g}" if np.isfinite(value) else str(value)


def compare_outcome(check: Check, expected: Expected, outcome: Outcome) -> Verdict:
    case = expected.case
    base = {
        "case_id": case.id,
        "hidden": case.hidden,
        "expected": tuple(expected.value.tolist()),
        "compared": tuple(expected.comparable.tolist()),
        "shape": expected.shape,
    }
    notes = tuple(
        f"{check.entry} changed its argument {name} in place; the contract says it must not"
        for name in outcome.mutated
    )
    if outcome.status != "ok":
        status = "timeout" if outcome.status == "timeout" else "error"
        error = outcome.error or {}
        message = error.get("message") or outcome.status
        if error.get("where"):
            message = f"{message} ({error['where']})"
        return Verdict(status=status, message=message, error=error, notes=notes, **base)
    try:
        observed = observed_quantity(outcome.value, check, expected.shape)
    except ShapeError as problem:
        return Verdict(status="failed", message=str(problem), notes=notes, **base)
    return judge(check, expected, observed, notes)


def judge(check: Check, expected: Expected, observed: np.ndarray, notes: tuple = ()) -> Verdict:
    """Element-wise verdict on numbers already of the right shape."""
    case = expected.case
    want, mask = expected.value, expected.comparable
    finite = np.isfinite(want)
    ok = check.tolerance.accepts(observed, want)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(observed - want)
        relative = difference / np.maximum(np.abs(want), np.finfo(float).tiny)
    bad = mask & ~ok
    measured = mask & finite & np.isfinite(observed)
    max_abs = float(difference[measured].max()) if measured.any() else None
    max_rel = float(relative[measured].max()) if measured.any() else None
    off = tuple(element_name(check, expected.shape, int(i)) for i in np.flatnonzero(bad))
    base = {
        "case_id": case.id,
        "hidden": case.hidden,
        "observed": tuple(observed.tolist()),
        "expected": tuple(want.tolist()),
        "compared": tuple(mask.tolist()),
        "off": off,
        "max_abs_error": max_abs,
        "max_rel_error": max_rel,
        "notes": notes,
        "shape": expected.shape,
    }
    if not bad.any():
        skipped = int((~mask).sum())
        message = "matches the reference" + (
            f" ({skipped} ill-conditioned elements not compared)" if skipped else ""
        )
        return Verdict(status="passed", message=message, **base)
    worst = int(
        np.flatnonzero(bad)[
            np.argmax(np.where(np.isfinite(difference[bad]), difference[bad], np.inf))
        ]
    )
    detail = f"{element_name(check, expected.shape, worst)}: got {_format(observed[worst])}"
    if not case.hidden:
        detail += f", expected {_format(want[worst])}"
    listed = 8 if want.size <= 16 else 3  # an array's element names are long: a few say where
    shown = ", ".join(off[:listed]) + (
        f" and {len(off) - listed} more" if len(off) > listed else ""
    )
    message = f"{len(off)} of {int(mask.sum())} values of {check.measure.words} are off ({shown}); worst {detail}"
    if not np.isfinite(observed[bad]).all() and finite[bad].all():
        message += "; the submission's values are not finite (nan/inf)"
    return Verdict(status="failed", message=message, **base)

"""Runs inside a submission's own process: the numbers a call's own functions compute, line by line.

Where a probe of the diagnosis asks for it (the call's "trace"), `Recorder` follows the
frames of the submission's own files with `sys.settrace` while the call runs and, at each
line, records every numeric local (a number, a small array, a short list of numbers) whose
value changed since the last line of that frame, with the statement that assigned it.
The grader matches these against the assignment's intermediate quantities to say which
value is the first to depart, and on which line.  Bounded: at most MAX_RECORDS records of
at most MAX_ELEMENTS numbers each, and MAX_REPEATS of one local at one line (a loop keeps its
first values); what does not fit is counted, and a local too large to record is named.
Only the probes' calls are recorded, in a process without the rules'
recorders, so this never touches the evidence a rule is judged by.
"""

from __future__ import annotations

import ast
import math
import sys

MAX_RECORDS = 400
MAX_ELEMENTS = 64
MAX_LARGE = 8  # names of locals too large to record
MAX_REPEATS = 4  # records of one local at one line (a loop's)
MAX_RETURNS = 16  # records of returned values beyond MAX_RECORDS
MAX_NAME = 64


def _numbers(value) -> list[float] | None | bool:
    """The value's numbers, flat; None where it holds none; False where there are too many."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        return [number] if math.isfinite(number) else None
    kind = type(value).__module__
    if kind == "numpy" and hasattr(value, "dtype"):
        if value.dtype.kind not in "fiu":
            return None
        if value.size > MAX_ELEMENTS:
            return False
        numbers = [float(v) for v in value.reshape(-1).tolist()]
        return numbers if all(math.isfinite(v) for v in numbers) else None
    if isinstance(value, (list, tuple)) and 0 < len(value) <= MAX_ELEMENTS:
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            numbers = [float(v) for v in value]
            return numbers if all(math.isfinite(v) for v in numbers) else None
    return None


class Recorder:
    """Numeric locals of the frames of `files`, as each line changes them."""

    def __init__(self, files: set[str]):
        self.files = files
        self.records: list[list] = []
        self.dropped = 0
        self.large: list[str] = []
        self._frames: dict[int, tuple[int | None, dict]] = {}
        self._times: dict[tuple, int] = {}
        self._statements: dict[str, dict[int, int]] = {}

    def _statement(self, filename: str, line: int) -> int:
        """The first line of the simple statement holding `line` (an assignment over several lines)."""
        if filename not in self._statements:
            starts: dict[int, int] = {}
            try:
                with open(filename, encoding="utf-8") as handle:
                    tree = ast.parse(handle.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.stmt) and not hasattr(node, "body"):
                        for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                            starts.setdefault(number, node.lineno)
            except (OSError, SyntaxError, ValueError):
                pass  # a notebook cell, or a file that is gone: the line as it is
            self._statements[filename] = starts
        return self._statements[filename].get(line, line)

    def _see(self, frame, finished: bool) -> None:
        key = id(frame)
        line, seen = self._frames.get(key, (None, {}))
        if line is not None:  # the locals the line just run changed; the first event sees arguments
            for name, value in list(frame.f_locals.items()):
                numbers = _numbers(value)
                if numbers is None or seen.get(name) == numbers:
                    continue
                seen[name] = numbers
                if numbers is False:
                    if name not in self.large and len(self.large) < MAX_LARGE:
                        self.large.append(str(name)[:MAX_NAME])
                    continue
                code = frame.f_code
                where = (code.co_name[:MAX_NAME], self._statement(code.co_filename, line))
                place = (*where, str(name)[:MAX_NAME])
                self._times[place] = self._times.get(place, 0) + 1
                if len(self.records) >= MAX_RECORDS or self._times[place] > MAX_REPEATS:
                    self.dropped += 1  # a loop's line keeps its first values only
                    continue
                self.records.append([*place, numbers])
        else:
            for name, value in list(frame.f_locals.items()):
                numbers = _numbers(value)
                if numbers is not None:
                    seen[name] = numbers
        if finished:
            self._frames.pop(key, None)
        else:
            self._frames[key] = (frame.f_lineno, seen)

    def _local(self, frame, event, arg):
        if event in ("line", "return"):
            self._see(frame, event == "return")
        if event == "return":
            self._returned(frame, arg)
        return self._local

    def _returned(self, frame, value) -> None:
        """The value a frame returns, as "<return>" at its return statement's line."""
        if isinstance(value, (list, tuple)) and value and all(hasattr(v, "dtype") for v in value):
            value = [float(v) for v in value if getattr(v, "size", 1) == 1]
        numbers = _numbers(value)
        if not numbers:
            return
        if len(self.records) >= MAX_RECORDS + MAX_RETURNS:  # room kept for what frames return
            self.dropped += 1
            return
        code = frame.f_code
        line = self._statement(code.co_filename, frame.f_lineno)
        self.records.append([code.co_name[:MAX_NAME], line, "<return>", numbers])

    def _global(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename in self.files:
            self._see(frame, False)
            return self._local
        return None

    def __enter__(self) -> Recorder:
        self._previous = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc) -> None:
        sys.settrace(self._previous)

    def report(self) -> dict:
        return {"records": self.records, "dropped": self.dropped, "large": self.large}

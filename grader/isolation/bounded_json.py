"""Bounded JSON: parse a line a submission's process wrote only once it is known to be small.

`json.loads` on 16 MiB of `[[],[],...]` builds millions of lists (about 60 bytes
each) before anyone can look at them, and a 401-digit integer parses fine and
then breaks the first `float()` that meets it.  So a line is scanned first, on
its raw bytes and at C speed: its length, how many values it holds (every value
but the first follows a `[`, `{`, `,` or `:` outside a string, so the count is
exact but for an empty container, counted twice), how deeply it nests and that no number
is longer than a float needs; only then is it parsed.  A line that fails any bound raises
`Refused`, whose message says which bound and by how much; nothing of it is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from grader.core.text import storable

NUMBER_CHARS = 32  # repr() of any float64 takes at most 24 characters
OPEN, CLOSE = b"[{", b"]}"
# a number longer than a float needs, looked for outside strings
LONG_NUMBER = re.compile(rb"[-+0-9.eE]{%d,}" % (NUMBER_CHARS + 1))
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # may hold a lone surrogate once parsed


class Refused(ValueError):
    """A line outside its bounds, or not JSON; the message says why."""


@dataclass(frozen=True)
class Bounds:
    what: str  # what the line is, as the refusal names it: "the answer"
    bytes: int
    values: int
    depth: int


def scan(line: bytes, bounds: Bounds) -> int:
    """How many values the line holds; Refused when it is too long, too many or too deep."""
    if len(line) > bounds.bytes:
        raise Refused(f"{bounds.what} was too large: {len(line)} bytes, limit {bounds.bytes}")
    # The content of strings does not count.  Escapes pair off left to right, so once `\\` and
    # `\"` are gone every quote left opens or closes a string: exact for valid JSON and for any
    # valid prefix of a line, which is all the parser builds before it fails.
    plain = line.replace(b"\\\\", b"").replace(b'\\"', b"")
    strings = plain.count(b'"') // 2  # each a value or a key: counted before splitting on them
    if strings > bounds.values:
        raise Refused(
            f"{bounds.what} holds too many values: more than {strings}, limit {bounds.values}"
        )
    outside = b"".join(plain.split(b'"')[0::2])
    values = 1 + sum(outside.count(mark) for mark in (b"[", b"{", b",", b":"))
    if values > bounds.values:
        raise Refused(f"{bounds.what} holds too many values: {values}, limit {bounds.values}")
    long = LONG_NUMBER.search(outside)
    if long is not None:  # before parsing: a 401-digit integer parses, then breaks float()
        size = len(long.group())
        raise Refused(f"{bounds.what} holds a number of {size} characters, limit {NUMBER_CHARS}")
    marks = np.frombuffer(outside, np.uint8)  # the running depth at every byte, at C speed
    steps = sum((marks == mark).astype(np.int32) for mark in OPEN)
    steps -= sum(marks == mark for mark in CLOSE)
    if int(np.cumsum(steps).max(initial=0)) > bounds.depth:
        raise Refused(f"{bounds.what} is nested too deeply: more than {bounds.depth} levels")
    return values


def loads(line: bytes, bounds: Bounds):
    """The parsed line, and how many values it holds; Refused where it breaks a bound or is not JSON."""
    values = scan(line, bounds)
    try:
        tree = json.loads(line)  # every number is short (scan): the C parser, no hook per number
        return (_storable(tree) if SURROGATE_ESCAPE.search(line) else tree), values
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise Refused(
            f"{bounds.what} is not JSON ({type(error).__name__}: {str(error)[:120]})"
        ) from None


def _storable(tree):
    """The tree with every string (keys too) passed through `storable`: JSON's `"\\ud800"` parses
    to a lone surrogate, which no UTF-8 writer takes.  `scan` has bounded its size and depth."""
    if isinstance(tree, str):
        return storable(tree)
    if isinstance(tree, dict):
        return {storable(k): _storable(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_storable(item) for item in tree]
    return tree

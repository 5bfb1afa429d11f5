"""Variants of the course's spec for the benchmarks: the same file with some checks left out.

A course deciding what to grade can measure what a check costs (`make bench
BENCH_ARGS="--skip-checks '*-1000-*'"`); `make bench-peers` grades only the checks
its peers' tests make, so that every tool does the same work.  The text of the spec
is kept as it is (comments, limits, tolerances); only whole `[[check]]` tables go.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from grader.core.spec import DEFAULT_SPEC, load_spec

_TABLE = re.compile(r"^\[\[(check|question)\]\]\s*$", re.MULTILINE)


def spec_with_checks(
    keep: Callable[[str], bool], target: Path, source: Path = DEFAULT_SPEC
) -> Path:
    """Write to `target` the spec at `source` with only the checks whose id `keep` accepts; validated."""
    text = source.read_text(encoding="utf-8")
    starts = [m.start() for m in _TABLE.finditer(text)] + [len(text)]
    kept = [text[: starts[0]]]
    for start, end in zip(starts, starts[1:]):
        block = text[start:end]
        table = tomllib.loads(block)
        [(kind, [item])] = table.items()
        if kind != "check" or keep(item["id"]):
            kept.append(block)
    target.write_text("".join(kept), encoding="utf-8")
    load_spec(target)  # a variant the grader would refuse is an error here, not a number
    return target

"""What a re-grade need not compute again, cached on disk.

- Expected values, so a re-grade does not recompute the reference.  The key is a
  hash of everything they depend on: the spec's text, every case's inputs (hidden
  ones included, so the secret itself is never stored) and the reference's source.
- Runs of submissions: what a submission's code returned for a list of calls, so
  re-grading a class after a change of points, tolerances or messages compares
  again without running anything.  The key is a hash of everything a run depends
  on: the submission's code, the calls with their inputs, the limits, the sandbox's
  layers, the launcher, the grader's own code and the versions of Python, numpy and
  torch.  A run that hit a limit or crashed is never stored: the next one may differ.

Files are JSON (never a pickle), written by the grader after it validated what the
submission sent, readable by the grader's user only.  `--no-cache` uses neither.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from grader.execute import Call, Execution
from grader.load import LoadedSubmission
from grader.sandbox import Sandbox
from reference.cases import CaseBook
from reference.expected import Expected, expected_values
from reference.spec import Limits, Spec

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
GRADER = Path(__file__).resolve().parent


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backprop-grader"


def cache_key(spec: Spec, book: CaseBook) -> str:
    digest = hashlib.sha256(spec.source.read_bytes())
    for check in spec.checks:
        for case in book.for_check(check):
            digest.update(json.dumps([check.id, case.to_dict()]).encode())
    digest.update(_source_digest(REFERENCE).encode())
    return digest.hexdigest()


@functools.cache  # the code does not change while it runs
def _source_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for source in sorted(folder.rglob("*.py")):
        digest.update(source.relative_to(folder).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def cached_expected_values(spec: Spec, book: CaseBook, cache_dir: Path | None) -> list[Expected]:
    if cache_dir is None:
        return expected_values(spec, book)
    path = Path(cache_dir) / f"expected-{cache_key(spec, book)}.json"
    try:
        return [Expected.from_dict(record) for record in json.loads(path.read_text())]
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: compute again
    values = expected_values(spec, book)
    _store(path, [e.to_dict() for e in values], Path(cache_dir))
    return values


def _store(path: Path, record, root: Path) -> None:
    """Write atomically (a reader sees the old file or the new one), owner-only, under `root`."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.mkdir(exist_ok=True, mode=0o700)  # root itself, or a folder in it
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(record, handle)
    os.replace(temporary, path)


@functools.cache
def _versions() -> tuple[str, ...]:
    return (sys.version, *(f"{name} {metadata.version(name)}" for name in ("numpy", "torch")))  # without importing torch


def run_key(loaded: LoadedSubmission, calls: list[Call], limits: Limits, sandbox: Sandbox, launcher: str) -> str:
    """A hash of everything a run of the submission's code depends on."""
    sources = [{"path": f.path, "kind": f.kind, "text": f.text, "cells": list(f.cells)} for f in loaded.runnable]
    inputs = {
        "sources": sources,
        "calls": [call.to_request() for call in calls],
        "limits": dataclasses.asdict(limits),
        "sandbox": list(sandbox.layers),
        "launcher": launcher,
        "versions": _versions(),
        "grader": _source_digest(GRADER),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def cached_run(cache_dir: Path | None, key: str, run: Callable[[], Execution]) -> Execution:
    """The stored run under `key`, or `run()`, stored when a re-run would give the same."""
    if cache_dir is None:
        return run()
    path = Path(cache_dir) / "runs" / f"{key}.json"
    try:
        return Execution.from_record(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: run it
    execution = run()
    if execution.reusable:
        _store(path, execution.to_record(), Path(cache_dir))
    return execution

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
  A run's record is stored only within RUN_RECORD_BYTES (a correct submission's is
  about 200 kB; what a submission's code returned is its to choose), and the runs
  together are kept within RUNS_TOTAL_BYTES, the least recently used dropped first.

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

from grader.core.cases import CaseBook
from grader.core.expected import Expected, expected_values
from grader.core.spec import Limits, Spec
from grader.engine.execute import Call, Execution
from grader.engine.load import LoadedSubmission
from grader.isolation.sandbox import Sandbox

RUN_RECORD_BYTES = 4 * 2**20
RUNS_TOTAL_BYTES = 256 * 2**20
GRADER = Path(__file__).resolve().parents[1]  # the whole grader/, every folder of it


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backprop-grader"


def cache_key(spec: Spec, book: CaseBook) -> str:
    digest = hashlib.sha256(spec.source.read_bytes())
    for check in spec.checks:
        for case in book.for_check(check):
            digest.update(json.dumps([check.id, case.to_dict()]).encode())
    digest.update(_source_digest(Path(spec.reference.source)).encode())  # the assignment's code
    digest.update(
        _source_digest(GRADER).encode()
    )  # and how the engine turns its runs into expected values
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
    stored = read_answer_key(spec, book, cache_dir)  # absent or unreadable: computed again
    return stored if stored is not None else write_answer_key(spec, book, cache_dir)[1]


ANSWER_KEY_PREFIX = "expected-"


def answer_key_path(spec: Spec, book: CaseBook, folder: Path) -> Path:
    return Path(folder) / f"{ANSWER_KEY_PREFIX}{cache_key(spec, book)}.json"


def read_answer_key(spec: Spec, book: CaseBook, folder: Path) -> list[Expected] | None:
    """The expected values `write_answer_key` stored for exactly these cases, spec, reference and
    grader, or None (another spec, other cases, an edited reference: computed again instead)."""
    try:
        return [
            Expected.from_dict(record)
            for record in json.loads(answer_key_path(spec, book, folder).read_text())
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_answer_key(spec: Spec, book: CaseBook, folder: Path) -> tuple[Path, list[Expected]]:
    """Every check's expected values on `book`'s cases, hidden ones included, in a file readable
    by its owner only: what an LMS image computes once, when it is built, instead of once per
    submission."""
    values = expected_values(spec, book)
    path = answer_key_path(spec, book, folder)
    _store(path, json.dumps([e.to_dict() for e in values]), Path(folder))
    return path, values


def _store(path: Path, text: str, root: Path) -> None:
    """Write atomically (a reader sees the old file or the new one), owner-only, under `root`."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.mkdir(exist_ok=True, mode=0o700)  # root itself, or a folder in it
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _evict(folder: Path, total_bytes: int) -> None:
    """Drop the least recently used records until the folder holds at most `total_bytes`."""
    records = []
    for entry in os.scandir(folder):
        try:
            if entry.name.endswith(".json"):
                status = entry.stat()
                records.append((status.st_mtime, status.st_size, entry.path))
        except FileNotFoundError:
            pass  # dropped by another grader meanwhile
    size = sum(record[1] for record in records)
    for _, record_size, record_path in sorted(records):
        if size <= total_bytes:
            break
        try:
            os.remove(record_path)
        except FileNotFoundError:
            pass
        size -= record_size


@functools.cache
def _versions() -> tuple[str, ...]:
    return (
        sys.version,
        *(f"{name} {metadata.version(name)}" for name in ("numpy", "torch")),
    )  # without importing torch


def run_key(
    loaded: LoadedSubmission, calls: list[Call], limits: Limits, sandbox: Sandbox, launcher: str
) -> str:
    """A hash of everything a run of the submission's code depends on."""
    sources = [
        {"path": f.path, "kind": f.kind, "text": f.text, "cells": list(f.cells)}
        for f in loaded.runnable
    ]
    inputs = {
        "sources": sources,
        # the request and the inputs the call is sent at its turn: another secret's hidden
        # cases, or an edited given case, are other calls
        "calls": [
            {**call.to_request(), "inputs": hashlib.sha256(call.inputs_line()).hexdigest()}
            for call in calls
        ],
        "limits": dataclasses.asdict(limits),
        "sandbox": list(sandbox.layers),
        "launcher": launcher,
        "versions": _versions(),
        "grader": _source_digest(GRADER),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def cached_run(
    cache_dir: Path | None,
    key: str,
    run: Callable[[], Execution],
    record_bytes: int = RUN_RECORD_BYTES,
    total_bytes: int = RUNS_TOTAL_BYTES,
) -> Execution:
    """The stored run under `key`, or `run()`, stored when a re-run would give the same and its
    record is within `record_bytes`; the stored runs are then kept within `total_bytes`."""
    if cache_dir is None:
        return run()
    path = Path(cache_dir) / "runs" / f"{key}.json"
    try:
        execution = Execution.from_record(json.loads(path.read_text()))
        os.utime(path)  # recently used: the last to be dropped
        return execution
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent or unreadable: run it
    execution = run()
    if not execution.reusable:
        return execution
    text = json.dumps(execution.to_record())
    if len(text) > record_bytes:
        note = (
            f"\n[grader: this run was not cached: its record is {len(text) / 2**20:.1f} MiB, "
            f"over the cache's {record_bytes / 2**20:g} MiB for one submission]\n"
        )
        return dataclasses.replace(execution, stderr=execution.stderr + note)
    _store(path, text, Path(cache_dir))
    _evict(path.parent, total_bytes)
    return execution

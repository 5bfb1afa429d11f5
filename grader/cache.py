"""Expected values cached on disk, so a re-grade does not recompute the reference.

The key is a hash of everything the values depend on: the spec's text, every
case's inputs (hidden ones included, so the secret itself is never stored) and
the reference's source code.  The file is JSON (never a pickle), readable by
the grader's user only.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from reference.cases import CaseBook
from reference.expected import Expected, expected_values
from reference.spec import Spec

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backprop-grader"


def cache_key(spec: Spec, book: CaseBook) -> str:
    digest = hashlib.sha256(spec.source.read_bytes())
    for check in spec.checks:
        for case in book.for_check(check):
            digest.update(json.dumps([check.id, case.to_dict()]).encode())
    for source in sorted(REFERENCE.glob("*.py")):
        digest.update(source.read_bytes())
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
    Path(cache_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump([e.to_dict() for e in values], handle)
    os.replace(temporary, path)
    return values

"""The inputs a check runs on, as the engine sees them: named arrays of plain numbers.

An assignment draws its cases (reference/<name>/: its `draw_cases(spec, secret)`
returns a book with `for_check(check)`, the public case first, then the check's
hidden ones).  The secret is read here and only here; it never reaches a
submission's process, and hidden cases are the same on every run with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


def _plain(value):
    """Nested lists of floats, from arrays, tuples and numbers."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return float(value)


@dataclass(frozen=True)
class Case:
    """One case: its id (given, hidden-1, ...), its inputs by argument name, and whether it is hidden."""

    id: str
    inputs: dict = field(hash=False, compare=False)  # name -> nested lists of floats
    hidden: bool = False
    key: str = ""  # a digest of the inputs: two cases with the same inputs share a call

    @classmethod
    def of(cls, case_id: str, inputs: dict, hidden: bool = False) -> Case:
        plain = {name: _plain(value) for name, value in inputs.items()}
        digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:24]
        return cls(case_id, plain, hidden, digest)

    def to_dict(self) -> dict:
        return {"id": self.id, "inputs": self.inputs, "hidden": self.hidden}

    @classmethod
    def from_dict(cls, record: dict) -> Case:
        return cls.of(record["id"], record["inputs"], record["hidden"])


class CaseBook(Protocol):
    """Every case of a run, drawn once by the assignment."""

    def for_check(self, check) -> list[Case]:
        """The check's public case first, then its hidden cases when a secret is known."""


def load_secret(spec, environ: dict, secret_file: Path | None = None) -> bytes | None:
    """The secret from a file (outside the repository) or the spec's environment variable."""
    if secret_file is not None:
        secret = Path(secret_file).read_bytes().strip()
    else:
        secret = environ.get(spec.secret_env, "").encode()
    return secret or None


def secret_rng_seed(secret: bytes, purpose: str = "hidden-cases") -> int:
    """A seed only the secret's holder can know, for drawing hidden cases."""
    return int.from_bytes(hashlib.sha256(purpose.encode() + b"\0" + secret).digest()[:16], "big")


def draw_cases(spec, secret: bytes | None) -> CaseBook:
    """The run's cases, drawn by the spec's assignment (the hidden ones only with a secret)."""
    return spec.reference.draw_cases(spec, secret)

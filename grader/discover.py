"""Discover: which submissions a folder holds.

Each entry of the folder is one submission: a `.py` or `.ipynb` file, a folder,
or a `.zip`; its id is the entry's name without the extension.  What cannot be
graded is reported as a `Problem`, and the rest are still graded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KINDS = {".py": "python", ".ipynb": "notebook", ".zip": "zip"}
IGNORED = {"__pycache__", ".DS_Store", "__MACOSX", ".ipynb_checkpoints", ".git"}


@dataclass(frozen=True)
class Submission:
    id: str
    path: Path
    kind: str  # python | notebook | zip | folder

    def to_dict(self) -> dict:
        return {"id": self.id, "path": str(self.path), "kind": self.kind}


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str

    def to_dict(self) -> dict:
        return {"path": str(self.path), "message": self.message}


@dataclass(frozen=True)
class Discovery:
    submissions: tuple[Submission, ...]
    problems: tuple[Problem, ...]


def submission_at(path: Path) -> Submission | Problem:
    """One file or folder as a submission (what `grader check PATH` grades)."""
    path = Path(path)
    if not path.exists():
        return Problem(path, "no such file or folder")
    if path.is_dir():
        return Submission(path.name, path, "folder")
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        return Problem(path, f"not a submission: {path.suffix or 'no extension'} files are not graded (expected .py, .ipynb, .zip or a folder)")
    return Submission(path.stem, path, kind)


def discover_submissions(folder: Path) -> Discovery:
    folder = Path(folder)
    if not folder.is_dir():
        return Discovery((), (Problem(folder, "not a folder"),))
    entries = sorted(p for p in folder.iterdir() if p.name not in IGNORED and not p.name.startswith("."))
    if not entries:
        return Discovery((), (Problem(folder, "the folder is empty: no submissions to grade"),))
    found: dict[str, Submission] = {}
    problems = []
    for entry in entries:
        item = submission_at(entry)
        if isinstance(item, Problem):
            problems.append(item)
        elif item.id in found:
            first = found[item.id]
            problems.append(Problem(entry, f"two submissions are named {item.id!r} ({first.path.name} and {entry.name}); only {first.path.name} is graded"))
        else:
            found[item.id] = item
    return Discovery(tuple(found.values()), tuple(problems))

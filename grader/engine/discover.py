"""Discover: which submissions a folder holds.

Each entry of the folder is one submission: a `.py` or `.ipynb` file, a folder,
or a `.zip`; its id is the entry's name without the extension.  What cannot be
graded is reported as a `Problem`, and the rest are still graded.

An id names the submission's folder of reports, beside the class outputs: an id
that is the name of one of those (`grades.csv.py`), or that another id equals
once case and Unicode form are ignored (as on macOS and Windows disks), gets a
suffix, and the submission says so.  A name holding characters that do not show (a control
character, bytes that are not UTF-8) gives an id with each of them written as its escape
(`grader.core.text.visible`), so that `alice` and `alice` + ESC stay two students in every
output.  A symbolic link is never followed: its target could be anything the grader's user
can read.
"""

from __future__ import annotations

import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader.core.text import visible

KINDS = {".py": "python", ".ipynb": "notebook", ".zip": "zip"}
IGNORED = {"__pycache__", ".DS_Store", "__MACOSX", ".ipynb_checkpoints", ".git"}


@dataclass(frozen=True)
class Submission:
    id: str
    path: Path
    kind: str  # python | notebook | zip | folder
    renaming: str = ""  # why its id is not the one its name gives, when that was taken

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "path": str(self.path),
            "kind": self.kind,
            **({"renaming": self.renaming} if self.renaming else {}),
        }


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
    if not (path.is_dir() or stat.S_ISREG(path.stat().st_mode)):
        return Problem(path, "not a regular file or folder (a pipe or a device is never read)")
    kind = "folder" if path.is_dir() else KINDS.get(path.suffix.lower())
    if kind is None:
        return Problem(
            path,
            f"not a submission: {visible(path.suffix) or 'no extension'} files are not graded "
            "(expected .py, .ipynb, .zip or a folder)",
        )
    name = path.name if kind == "folder" else path.stem
    shown = visible(name)
    renaming = (
        f"{visible(path.name)} is graded as {shown}: its name holds characters that do not show (control "
        "characters or bytes that are not UTF-8), written here as their escapes"
        if shown != name
        else ""
    )
    return Submission(shown, path, kind, renaming)


def _same_name(name: str) -> str:
    """What a case-insensitive, normalising disk (macOS, Windows) sees of a file name."""
    return unicodedata.normalize("NFC", name).casefold()


def discover_submissions(folder: Path, reserved: tuple[str, ...] = ()) -> Discovery:
    """The submissions in `folder`; `reserved` are the names the grader writes beside their folders of reports."""
    folder = Path(folder)
    if not folder.is_dir():
        return Discovery((), (Problem(folder, "not a folder"),))
    entries = sorted(
        p for p in folder.iterdir() if p.name not in IGNORED and not p.name.startswith(".")
    )
    if not entries:
        return Discovery((), (Problem(folder, "the folder is empty: no submissions to grade"),))
    found: dict[str, Submission] = {}  # by the id its name gives
    reserved_names = {_same_name(name) for name in reserved}
    taken = set(reserved_names)
    problems = []
    for entry in entries:
        if (
            entry.is_symlink()
        ):  # refused without reading where it points: that text is not the student's
            problems.append(
                Problem(
                    entry,
                    "a symbolic link: links are not followed, so it is not graded; "
                    "copy the file itself into the folder",
                )
            )
            continue
        item = submission_at(entry)
        if isinstance(item, Problem):
            problems.append(item)
        elif item.id in found:
            first = found[item.id]
            problems.append(
                Problem(
                    entry,
                    f"two submissions are named {item.id!r} ({visible(first.path.name)} and "
                    f"{visible(entry.name)}); only {visible(first.path.name)} is graded",
                )
            )
        else:
            name, number = item.id, 2
            if _same_name(name) in taken:
                while _same_name(f"{name}-{number}") in taken:
                    number += 1
                whose = (
                    "the name of a file the grader writes"
                    if _same_name(name) in reserved_names
                    else "another submission's id, to a disk that ignores case"
                )
                renaming = (
                    f"{visible(entry.name)} is graded as {name}-{number}: {name!r} is {whose}"
                )
                item = Submission(f"{name}-{number}", item.path, item.kind, renaming)
            taken.add(_same_name(item.id))
            found[name] = item
    return Discovery(tuple(found.values()), tuple(problems))

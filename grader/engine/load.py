"""Load: read a submission's source files as text, without running any of it.

A `.py` file is decoded (UTF-8, else the detected encoding: GBK is common in
this course), a notebook is parsed with nbformat, a folder is walked, a `.zip`
is read entry by entry in memory with limits on count and size and no entry
allowed outside its folder.  The result is plain data for the execute stage.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import charset_normalizer
import nbformat

from grader.engine.discover import IGNORED, Submission

MAX_FILES = 200
MAX_FILE_BYTES = 5 * 2**20
MAX_TOTAL_BYTES = 20 * 2**20
MAX_ZIP_ENTRIES = 10_000
SOURCE_SUFFIXES = {".py": "py", ".ipynb": "ipynb"}
ANSWER_FILES = {"answers.md", "answers.txt"}


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative, with forward slashes
    kind: str  # py | ipynb | answers
    text: str  # the decoded source (for a notebook, its code cells joined)
    cells: tuple[str, ...] = ()  # a notebook's code cells, in order
    markdown: tuple[str, ...] = ()  # a notebook's markdown cells, in order
    encoding: str = "utf-8"


@dataclass(frozen=True)
class LoadedSubmission:
    submission: Submission
    files: tuple[SourceFile, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def runnable(self) -> tuple[SourceFile, ...]:
        return tuple(f for f in self.files if f.kind in ("py", "ipynb"))


class LoadError(Exception):
    pass


def decode_source(data: bytes, name: str) -> tuple[str, str]:
    """Text and the encoding it was read with; LoadError where none fits."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise LoadError(
            f"{name}: not UTF-8, and its encoding could not be detected; save it as UTF-8"
        )
    return str(best), best.encoding


def _notebook(data: bytes, name: str) -> SourceFile:
    text, encoding = decode_source(data, name)
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001
        # nbformat reading any JSON at all fails in many ways; each is this file's fault
        raise LoadError(
            f"{name}: not a valid notebook ({type(error).__name__}: {str(error)[:200]})"
        ) from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise LoadError(f"{name}: not a valid notebook (it has no list of cells)")
    code, markdown = [], []
    for number, cell in enumerate(cells, start=1):
        # nbformat joins a source given as a list of strings; anything else left is not text
        source = cell.get("source") if isinstance(cell, dict) else cell
        if not isinstance(source, str):
            kinds = (
                (type(None), "missing"),
                (dict, "a mapping, not text"),
                (list, "a list, not text"),
                ((int, float), "a number, not text"),
            )
            what = next((said for kind, said in kinds if isinstance(source, kind)), "not text")
            raise LoadError(f"{name}: not a valid notebook (cell {number}: its source is {what})")
        kind = cell.get("cell_type")
        if kind == "code":
            code.append(source)
        elif kind == "markdown":
            markdown.append(source)
    return SourceFile(name, "ipynb", "\n\n".join(code), tuple(code), tuple(markdown), encoding)


def read_source(data: bytes, name: str) -> SourceFile | None:
    suffix = PurePosixPath(name).suffix.lower()
    if PurePosixPath(name).name.lower() in ANSWER_FILES:
        text, encoding = decode_source(data, name)
        return SourceFile(name, "answers", text, encoding=encoding)
    if suffix == ".ipynb":
        return _notebook(data, name)
    if suffix == ".py":
        text, encoding = decode_source(data, name)
        return SourceFile(name, "py", text, encoding=encoding)
    return None


def _entries_of_folder(folder: Path):
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in IGNORED or part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink() or not path.is_file():  # a link is never followed, wherever it points
            continue
        yield relative.as_posix(), path.stat().st_size, path.read_bytes


def _entries_of_zip(archive: zipfile.ZipFile):
    if len(archive.infolist()) > MAX_ZIP_ENTRIES:
        raise LoadError(f"the zip holds more than {MAX_ZIP_ENTRIES} entries; nothing of it is used")
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if info.is_dir():
            continue
        if (
            name.is_absolute()
            or ".." in name.parts
            or info.filename.startswith(("/", "\\"))
            or ":" in name.parts[0]
        ):
            raise LoadError(
                f"zip entry {info.filename!r} points outside its folder; nothing of this zip is used"
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise LoadError(
                f"zip entry {info.filename!r} is a symbolic link; nothing of this zip is used"
            )
        if any(part in IGNORED or part.startswith(".") for part in name.parts):
            continue
        yield (
            name.as_posix(),
            info.file_size,
            lambda info=info: archive.open(info).read(MAX_FILE_BYTES + 1),
        )


def _collect(entries, problems: list) -> list[SourceFile]:
    files, total, count = [], 0, 0
    for name, size, read in entries:
        if (
            PurePosixPath(name).suffix.lower() not in SOURCE_SUFFIXES
            and PurePosixPath(name).name.lower() not in ANSWER_FILES
        ):
            continue
        count += 1
        if count > MAX_FILES:
            raise LoadError(f"more than {MAX_FILES} source files; nothing past that was read")
        if size > MAX_FILE_BYTES:
            problems.append(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB, not read")
            continue
        data = read()
        if len(data) > MAX_FILE_BYTES:  # a zip entry that lies about its size
            problems.append(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB, not read")
            continue
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise LoadError(
                f"more than {MAX_TOTAL_BYTES // 2**20} MiB of source; nothing past {name} was read"
            )
        try:
            source = read_source(data, name)
        except LoadError as error:
            problems.append(str(error))
            continue
        if source is not None:
            files.append(source)
    _refuse_clashing_names([f.path for f in files])
    return files


def _refuse_clashing_names(paths: list[str]) -> None:
    """Every file gets a place of its own in the submission's folder: a name used twice, or used
    for a file and for a folder (`a.py` beside `a.py/b.py`), cannot be written (a zip can hold both)."""
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            raise LoadError(f"{path} is in the submission twice; nothing of it is used")
        seen.add(path)
    for path in paths:
        for folder in PurePosixPath(path).parents:
            if folder.as_posix() in seen:
                raise LoadError(
                    f"{folder.as_posix()} is in the submission both as a file and as a folder "
                    f"(holding {path}); nothing of it is used"
                )


def load_submission(submission: Submission) -> LoadedSubmission:
    problems: list[str] = []
    try:
        if submission.kind == "folder":
            files = _collect(_entries_of_folder(submission.path), problems)
        elif submission.kind == "zip":
            try:
                with zipfile.ZipFile(submission.path) as archive:
                    files = _collect(_entries_of_zip(archive), problems)
            except (zipfile.BadZipFile, OSError) as error:
                raise LoadError(f"{submission.path.name}: not a readable zip ({error})") from None
        else:
            files = _collect(
                [
                    (
                        submission.path.name,
                        submission.path.stat().st_size,
                        submission.path.read_bytes,
                    )
                ],
                problems,
            )
    except LoadError as error:
        problems.append(str(error))
        files = []
    # .py files first (so a notebook may import them), then notebooks, each in name order
    files.sort(key=lambda f: (f.kind != "py", f.path))
    if not any(f.kind in ("py", "ipynb") for f in files) and not problems:
        problems.append("no .py or .ipynb file found")
    return LoadedSubmission(submission, tuple(files), tuple(problems))

"""Build autograder.zip, the file an instructor uploads to Gradescope.

Gradescope wants `setup.sh` and `run_autograder` at the zip's root and
extracts the rest into /autograder/source.  The zip holds the grader, one
assignment's folder (its reference code, and the spec it is graded by) and the
report templates, with a file `ASSIGNMENT` naming it; never the example
submissions, the tests, reports or caches, and a secret only when one is asked for.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader.core.assignment import DEFAULT_ASSIGNMENT, folder_of, load_reference

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
ROOT_SCRIPTS = ("setup.sh", "run_autograder")  # from this folder, to the zip's root
FOLDERS = ("grader", "templates")
FILES = ("requirements.lock", "pyproject.toml", "reference/__init__.py")
ASSIGNMENT_NAME = "ASSIGNMENT"  # names the assignment folder run_autograder grades by
SKIPPED_NAMES = {"__pycache__", ".DS_Store", ".ipynb_checkpoints", "secret.txt"}
SECRET_NAME = "secret.txt"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # the same sources give the same zip, byte for byte


class BundleError(ValueError):
    """The zip cannot be built from these files; the message says what is missing."""


def _folder_on_disk(repository: Path, folder: str) -> Path:
    # an installed package keeps the templates inside the grader (pyproject's package-dir)
    if folder == "templates" and not (repository / folder).is_dir():
        return repository / "grader" / "templates"
    return repository / folder


def bundle_entries(
    repository: Path = REPOSITORY, assignment: str = DEFAULT_ASSIGNMENT
) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk), in the order they are written."""
    missing = [name for name in FILES if not (repository / name).is_file()]
    if missing:
        raise BundleError(
            f"{', '.join(missing)} not found in {repository}: "
            "build the Gradescope zip from a clone of the grader's repository, "
            "not from an installed package"
        )
    entries = [(name, repository / "grader" / "gradescope" / name) for name in ROOT_SCRIPTS]
    # the assignment's own folder, wherever it is (reference/, or a course's folder on
    # $GRADER_ASSIGNMENTS): in the zip it is reference/<name>/, where the unpacked grader finds it
    home = (
        folder_of(assignment) if repository == REPOSITORY else repository / "reference" / assignment
    )
    if not (home / "__init__.py").is_file():
        raise BundleError(f"{home}: no assignment {assignment!r} here to put in the zip")
    examples = load_reference(assignment).examples if repository == REPOSITORY else None
    for folder in (*FOLDERS, f"reference/{assignment}"):
        on_disk = (
            home if folder == f"reference/{assignment}" else _folder_on_disk(repository, folder)
        )
        for path in sorted(on_disk.rglob("*")):
            if examples is not None and path.resolve().is_relative_to(Path(examples).resolve()):
                continue  # a course's example hand-ins inside its folder: never in the zip
            relative = Path(folder) / path.relative_to(on_disk)
            if any(
                part in SKIPPED_NAMES or part.startswith(".") for part in relative.parts
            ) or relative.parts[:2] in (("grader", "templates"), ("templates", "assignment")):
                continue
            if path.is_file() and not path.is_symlink() and path.suffix != ".pyc":
                entries.append((relative.as_posix(), path))
    entries += [(name, repository / name) for name in FILES]
    return entries


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_autograder_zip(
    out: Path, repository: Path = REPOSITORY, secret_file: Path | None = None, spec=None
) -> list[str]:
    """Write the zip of `spec`'s assignment (the default one without), graded by `spec`'s file;
    returns the names it holds."""
    assignment = spec.name if spec is not None else DEFAULT_ASSIGNMENT
    spec_name = f"reference/{assignment}/assignment.toml"
    names = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for name, path in bundle_entries(repository, assignment):
            if name == spec_name and spec is not None:
                path = (
                    spec.source
                )  # the spec this zip grades by, which may be an instructor's own copy
            _add(archive, name, path.read_bytes(), 0o755 if name in ROOT_SCRIPTS else 0o644)
            names.append(name)
        _add(archive, ASSIGNMENT_NAME, assignment.encode() + b"\n", 0o644)
        names.append(ASSIGNMENT_NAME)
        if secret_file is not None:
            secret = Path(secret_file).read_bytes().strip()
            if not secret:
                raise ValueError(f"{secret_file} is empty")
            _add(archive, SECRET_NAME, secret + b"\n", 0o600)
            names.append(SECRET_NAME)
    return names

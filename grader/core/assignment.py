"""The seam: what an assignment gives the engine, and how the engine finds it.

An assignment is a folder, reference/<name>/: its spec (`assignment.toml`), a
Python package whose `REFERENCE` is a `Reference` (the contract, how cases are
drawn, the reference value of every quantity, the catalogue of mistakes, the
probes of the diagnosis, the warm-up), its starter files (`starter/`) and its
example submissions (submissions/<name>/, or the folder `examples` names).  The
engine knows nothing else of a homework: it reads this object and the spec.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.contract import Contract

REPOSITORY = Path(__file__).resolve().parents[2]
ASSIGNMENTS = REPOSITORY / "reference"
DEFAULT_ASSIGNMENT = "backprop"
SPEC_FILE = "assignment.toml"
PATH_VARIABLE = (
    "GRADER_ASSIGNMENTS"  # more folders of assignments, os.pathsep-separated, after reference/
)


@dataclass(frozen=True)
class Probes:
    """Extra calls of a submission that tell a forward bug from a backward bug.

    `plan(spec, book, first_number)` -> (probes, calls): each probe has `check_id`,
    `case` and `calls` (the ids of its calls, named "fd<n>" from `first_number`);
    `find(evidence, probe, outcomes, spec, probes)` -> a grader.engine.diagnose.Finding
    from the outcomes of its calls (`probes`: all of the run's, for evidence
    across them); a root cause names in `where` the function the bug is in."""

    plan: Callable
    find: Callable


@dataclass(frozen=True)
class Reference:
    """Everything the engine asks of an assignment's code."""

    contract: Contract
    draw_cases: (
        Callable  # (spec, secret | None) -> a book with for_check(check) -> [Case] (public first)
    )
    reference_runs: (
        Callable  # (check, case) -> ({quantity: float64 array}, *float32 runs of the same)
    )
    predict: Callable | None = (
        None  # (variation, check, case, book) -> {quantity: array}: a mistake's answer
    )
    catalog: tuple = ()  # grader.core.catalog.Misconception entries
    probes: Probes | None = None
    spec_tables: Mapping = field(
        default_factory=dict
    )  # [table] of the spec -> its JSON Schema (required tables)
    check_keys: Mapping = field(
        default_factory=dict
    )  # extra key of a [[check]] -> (JSON Schema, default)
    warm_up: Path | None = (
        None  # a script defining warm_up(), run by the warm worker before it forks
    )
    starter: tuple[Path, ...] = ()  # the files students start from
    examples: Path | None = None  # the example submissions, named by what they show
    source: Path = Path()  # the assignment's folder
    # (grader.engine.freeform.FreeformRun, spec) -> (Observation, ...): the homework found in a
    # hand-in without entry points
    recognise: Callable | None = None
    # what a free-form script's input() is answered, in turn, each with the words for the report
    # (("0.5", "the step size"),); after the last, input() gets end of input
    input_answers: tuple[tuple[str, str], ...] = ()


class AssignmentError(ValueError):
    """An assignment folder is missing a piece or contradicts itself; the message names the file and the key."""


def _search_path() -> list[Path]:
    return [
        ASSIGNMENTS,
        *(Path(p) for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p),
    ]


def folder_of(name: str) -> Path:
    """reference/<name>/, else the first folder of $GRADER_ASSIGNMENTS holding an assignment of that name."""
    for root in _search_path():
        if (root / name / SPEC_FILE).is_file():
            return root / name
    return ASSIGNMENTS / name


def names() -> list[str]:
    found = {
        p.name
        for root in _search_path()
        if root.is_dir()
        for p in root.iterdir()
        if (p / SPEC_FILE).is_file() and (p / "__init__.py").is_file()
    }
    return sorted(found)


def _import(name: str, folder: Path):
    if folder.parent == ASSIGNMENTS:
        return importlib.import_module(f"reference.{name}")
    package = f"grader_assignment_{name}"  # a course's own folder: imported by path, as a package
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[package]
            raise
    return sys.modules[package]


def load_reference(name: str) -> Reference:
    """The `REFERENCE` of the assignment's folder, imported once."""
    folder = folder_of(name)
    if not (folder / "__init__.py").is_file():
        known = ", ".join(names()) or "none"
        raise AssignmentError(
            f"{folder}: no assignment {name!r} here (its __init__.py is missing); the assignments are: {known}"
        )
    try:
        module = _import(name, folder)
    except Exception as error:  # noqa: BLE001 - a broken assignment is refused, naming its file
        raise AssignmentError(
            f"{folder / '__init__.py'}: cannot be imported: {type(error).__name__}: {error}"
        ) from None
    reference = getattr(module, "REFERENCE", None)
    if not isinstance(reference, Reference):
        raise AssignmentError(
            f"{folder / '__init__.py'}: REFERENCE: not defined, or not a grader.assignment.Reference"
        )
    problems = reference.contract.problems()
    if problems:
        key, problem = problems[0]
        raise AssignmentError(f"{folder / '__init__.py'}: {key}: {problem}")
    for key, path in (
        ("warm_up", reference.warm_up),
        *((f"starter[{i}]", p) for i, p in enumerate(reference.starter)),
    ):
        if path is not None and not Path(path).is_file():
            raise AssignmentError(f"{folder / '__init__.py'}: {key}: {path} does not exist")
    return reference

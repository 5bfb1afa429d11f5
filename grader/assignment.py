"""`grader.assignment`, by the name the README gives an assignment's authors: grader/core/assignment.py's names."""

from grader.core.assignment import (
    ASSIGNMENTS,
    DEFAULT_ASSIGNMENT,
    PATH_VARIABLE,
    REPOSITORY,
    SPEC_FILE,
    AssignmentError,
    Probes,
    Reference,
    folder_of,
    load_reference,
    names,
)

__all__ = [
    "REPOSITORY",
    "ASSIGNMENTS",
    "DEFAULT_ASSIGNMENT",
    "SPEC_FILE",
    "PATH_VARIABLE",
    "Probes",
    "Reference",
    "AssignmentError",
    "folder_of",
    "names",
    "load_reference",
]

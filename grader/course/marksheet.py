"""The written answers' marks as a spreadsheet (CSV), for courses that mark in one.

`write_marksheet` lists every student of the latest run against every question, with the
answer the run found and the current mark (empty where none); `read_marksheet` reads such
a file back into marks to write (`Gradebook.set_marks` then checks every row and writes all
or none).  Rows whose points are left empty are not marks: they are counted, not refused.
Every text cell is written so a spreadsheet shows it as text, never runs it as a formula,
and read back without the apostrophe that did so.
"""

from __future__ import annotations

import csv
from pathlib import Path

from grader.course.gradebook import GradebookError, MarkEntry
from grader.outputs.report import FORMULA_STARTS, spreadsheet_text
from grader.outputs.views import printable

COLUMNS = (
    "student",
    "question",
    "points",
    "comment",
    "marker",
)  # what an import reads; the first three are needed
EXPORTED = (*COLUMNS[:2], "question_points", "answer", *COLUMNS[2:], "when", "revision")


def write_marksheet(book, assignment: str, path: Path) -> tuple[int, int]:
    """Every (student, question) of the latest run in `path`; (rows written, of them marked)."""
    questions = book.questions(assignment)
    answers = {(a.student, q.id): a for q in questions for a in book.answers(assignment, q.id)}
    rows = marked = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORTED)
        for student in book.students(assignment):
            for question in questions:
                answer = answers.get((student, question.id))
                mark = answer.mark if answer else None
                text = [
                    spreadsheet_text(printable(t))
                    for t in (
                        student,
                        answer.text if answer else "",
                        mark.comment if mark else "",
                        mark.marker if mark else "",
                    )
                ]
                points = "" if mark is None else f"{mark.points:g}"
                writer.writerow(
                    [
                        text[0],
                        question.id,
                        f"{question.points:g}",
                        text[1],
                        points,
                        *text[2:],
                        mark.when if mark else "",
                        mark.revision if mark else "",
                    ]
                )
                rows, marked = rows + 1, marked + (mark is not None)
    return rows, marked


def read_marksheet(path: Path, marker: str = "") -> tuple[list[MarkEntry], int]:
    """The marks of a marksheet, each named by its row (the header is row 1), and how many rows
    left their points empty.  `marker` names who marked where the marker column is empty."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or ())]
            if missing:
                raise GradebookError(
                    f"{path}: the header must name {', '.join(COLUMNS[:3])} (missing: {', '.join(missing)})"
                )
            entries, unmarked = [], 0
            for row in reader:
                cells = {
                    key: (value or "").strip() for key, value in row.items() if isinstance(key, str)
                }
                if not cells.get("points"):
                    unmarked += 1
                    continue
                entries.append(
                    MarkEntry(
                        student=_unquoted(cells.get("student", "")),
                        question=_unquoted(cells.get("question", "")),
                        points=cells["points"],
                        comment=_unquoted(cells.get("comment", "")),
                        marker=_unquoted(cells.get("marker", "")) or marker,
                        where=f"row {reader.line_num}",
                    )
                )
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise GradebookError(f"{path}: cannot read the marks: {error}") from None
    return entries, unmarked


def _unquoted(text: str) -> str:
    """A cell as `spreadsheet_text` wrote it: the apostrophe that kept it from being a formula taken off."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text

"""The written answers (experiment 10), found for the person who grades them.

In a notebook, the markdown cells after a heading naming the question's id
(`## Question 10.3 ...`) up to the next heading that names a question; in an
`answers.md`, the text under such a heading.  Nothing is graded here.
"""

from __future__ import annotations

import re

from grader.core.spec import Question
from grader.core.text import storable
from grader.engine.load import LoadedSubmission

MAX_ANSWER_CHARS = 20_000


def _heading_question(line: str, ids: list[str]) -> str | None:
    if not line.lstrip().startswith("#"):
        return None
    for question_id in ids:
        if re.search(rf"(?<![\d.]){re.escape(question_id)}(?![\d])", line):
            return question_id
    return None


def _split(blocks: list[str], ids: list[str]) -> dict[str, str]:
    answers: dict[str, list[str]] = {}
    current = None
    for block in blocks:
        for line in block.splitlines():
            question = _heading_question(line, ids)
            if question is not None:
                current = question
                answers.setdefault(current, [])
                continue
            if current is not None:
                answers[current].append(line)
        if current is not None:
            answers[current].append("")
    return {
        q: storable("\n".join(lines).strip()[:MAX_ANSWER_CHARS])
        for q, lines in answers.items()
        if "\n".join(lines).strip()
    }


def find_answers(loaded: LoadedSubmission, questions: tuple[Question, ...]) -> dict[str, str]:
    ids = sorted((q.id for q in questions), key=len, reverse=True)  # "10.10" before "10.1"
    found: dict[str, str] = {}
    for source in loaded.files:
        blocks = (
            list(source.markdown)
            if source.kind == "ipynb"
            else [source.text]
            if source.kind == "answers"
            else []
        )
        for question, text in _split(blocks, ids).items():
            found.setdefault(question, text)
    return found

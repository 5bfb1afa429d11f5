"""The gradebook: every grading run remembered, the written answers and their marks, the totals.

One SQLite file beside the reports (`<out>/gradebook.sqlite`).  Its schema is versioned
(`PRAGMA user_version`) and migrated on open by the ordered MIGRATIONS below; a file of a
newer version, or one that is not a gradebook, is refused before anything is read from it.
Several writers may share it (two `grade` runs, several markers): WAL journal, a busy
timeout, and every write in one `BEGIN IMMEDIATE` transaction, so a writer either lands
whole or not at all, and a mark changed by someone else since it was read is refused
(optimistic concurrency: the marker names the revision they saw).

Nothing here runs a submission: it stores plain data drawn from results the grader made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sqlite3
import time
import tomllib
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

GRADEBOOK_FILE = "gradebook.sqlite"
RESERVED_NAMES = (
    GRADEBOOK_FILE,
    f"{GRADEBOOK_FILE}-wal",
    f"{GRADEBOOK_FILE}-shm",
    f"{GRADEBOOK_FILE}-journal",
)
APPLICATION_ID = (
    0x47524442  # "GRDB": says "a gradebook" in the file's header, for `file` and for us
)
BUSY_SECONDS = 60.0  # how long a writer waits for another one's transaction before giving up
MAX_COMMENT_CHARS = 10_000  # of a mark's comment: the gradebook stays bounded whatever a form sends

# Ordered: migration n takes a gradebook of version n-1 to version n.  Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE assignments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL);
    CREATE TABLE students (
        id INTEGER PRIMARY KEY, assignment_id INTEGER NOT NULL REFERENCES assignments(id), name TEXT NOT NULL,
        UNIQUE (assignment_id, name));
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, assignment_id INTEGER NOT NULL REFERENCES assignments(id),
        started_at TEXT NOT NULL, spec_source TEXT NOT NULL, spec_digest TEXT NOT NULL,
        grader_version TEXT NOT NULL, hidden INTEGER NOT NULL);
    CREATE TABLE run_students (
        run_id INTEGER NOT NULL REFERENCES runs(id), student_id INTEGER NOT NULL REFERENCES students(id),
        points REAL NOT NULL, max_points REAL NOT NULL, status TEXT NOT NULL, first_fix TEXT NOT NULL,
        result BLOB NOT NULL, PRIMARY KEY (run_id, student_id));  -- grading.json, zlib-compressed
    CREATE TABLE run_checks (
        run_id INTEGER NOT NULL REFERENCES runs(id), student_id INTEGER NOT NULL REFERENCES students(id),
        check_id TEXT NOT NULL, part TEXT NOT NULL, points REAL NOT NULL, """
    # one line of the SQL, in two literals: the text of a migration stays as it was first run
    """max_points REAL NOT NULL, passed INTEGER NOT NULL,
        status TEXT NOT NULL, diagnoses TEXT NOT NULL, PRIMARY KEY (run_id, student_id, check_id));
    CREATE TABLE questions (
        assignment_id INTEGER NOT NULL REFERENCES assignments(id), id TEXT NOT NULL, position INTEGER NOT NULL,
        title TEXT NOT NULL, points REAL NOT NULL, PRIMARY KEY (assignment_id, id));
    CREATE TABLE answers (
        student_id INTEGER NOT NULL REFERENCES students(id), question_id TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(id), text TEXT NOT NULL, PRIMARY KEY (student_id, question_id));
    CREATE TABLE marks (
        student_id INTEGER NOT NULL REFERENCES students(id), question_id TEXT NOT NULL, revision INTEGER NOT NULL,
        points REAL NOT NULL, comment TEXT NOT NULL, marker TEXT NOT NULL, marked_at TEXT NOT NULL,
        PRIMARY KEY (student_id, question_id, revision));
    """,
    # the spec's rubric of a written question: its lines, as a JSON list
    "ALTER TABLE questions ADD COLUMN rubric TEXT NOT NULL DEFAULT '[]';",
    # marks given in one action (every blank answer of a question), undone as one; a revision
    # that takes a mark away (no mark again); each assignment's secret salt of anonymous marking
    """
    CREATE TABLE mark_batches (
        id INTEGER PRIMARY KEY, assignment_id INTEGER NOT NULL REFERENCES assignments(id),
        question_id TEXT NOT NULL, points REAL NOT NULL, comment TEXT NOT NULL,
        marker TEXT NOT NULL, made_at TEXT NOT NULL, undone_by TEXT, undone_at TEXT);
    ALTER TABLE marks ADD COLUMN batch_id INTEGER REFERENCES mark_batches(id);
    ALTER TABLE marks ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE assignments ADD COLUMN salt TEXT NOT NULL DEFAULT '';
    UPDATE assignments SET salt = lower(hex(randomblob(16))) WHERE salt = '';
    """,
)
VERSION = len(MIGRATIONS)


class GradebookError(Exception):
    """The gradebook cannot do what was asked; the message says why, for the user."""


class MarkRefused(GradebookError):
    """A mark (or a batch of marks) not written: unknown student or question, points out of
    range or not a number, or a mark someone else changed since it was read.  `problems`
    holds (where, what) pairs, one per refused entry."""

    def __init__(self, message: str, problems: tuple[tuple[str, str], ...] = ()):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class QuestionRow:
    id: str
    title: str
    points: float
    rubric: tuple[str, ...]


@dataclass(frozen=True)
class Mark:
    student: str
    question: str
    points: float
    comment: str
    marker: str
    when: str  # ISO 8601, UTC
    revision: int  # 1 for the first mark, one more at every change
    removed: bool = False  # a revision that takes the mark away: no mark from then on (an undo)

    def to_dict(self) -> dict:
        return {
            "student": self.student,
            "question": self.question,
            "points": self.points,
            "comment": self.comment,
            "marker": self.marker,
            "when": self.when,
            "revision": self.revision,
        }


@dataclass(frozen=True)
class AnswerRow:
    student: str
    text: str  # '' where the latest run found no answer
    mark: Mark | None


@dataclass(frozen=True)
class MarkBatch:
    """Marks given in one action (every blank, unmarked answer of a question given the same
    points), taken back as one by `undo_batch`."""

    id: int
    question: str
    points: float
    comment: str
    marker: str
    when: str
    given: int  # how many marks it wrote
    standing: int  # how many of them are still the current mark
    undone_by: str | None = None
    undone_at: str | None = None


@dataclass(frozen=True)
class MarkEntry:
    """One mark to write, as a form or a spreadsheet row gives it; `where` names it in a refusal."""

    student: str
    question: str
    points: object  # a number, or its text: validated here
    comment: str = ""
    marker: str = ""
    where: str = ""


@dataclass(frozen=True)
class Total:
    student: str
    autograded: float
    autograded_max: float
    written: (
        float | None
    )  # the sum of the marks given; None while no question of the student is marked
    written_max: float
    marked: int  # how many of the questions are marked
    questions: int

    @property
    def fully_marked(self) -> bool:
        return self.marked == self.questions

    @property
    def total(self) -> float | None:
        """Autograded plus written points once every question is marked; until then, None."""
        return self.autograded + (self.written or 0.0) if self.fully_marked else None

    @property
    def total_so_far(self) -> float:
        return self.autograded + (self.written or 0.0)

    @property
    def maximum(self) -> float:
        return self.autograded_max + self.written_max


@dataclass(frozen=True)
class Run:
    id: int
    when: str  # when it was recorded, once its grading was done (ISO 8601, UTC)
    spec_source: str
    spec_digest: str
    grader_version: str
    hidden: bool
    students: int


@dataclass(frozen=True)
class CheckChange:
    check: str
    before: float | None  # None: the check was not graded in that run
    after: float | None


@dataclass(frozen=True)
class Movement:
    """One student between two runs: their autograded points then and now, and the checks whose points changed."""

    student: str
    before: float | None  # None: not in the earlier run
    after: float | None  # None: not in the later run
    checks: tuple[CheckChange, ...]

    @property
    def delta(self) -> float:
        return (self.after or 0.0) - (self.before or 0.0)

    @property
    def moved(self) -> bool:
        return self.before != self.after or bool(self.checks)


def grader_version() -> str:
    """The grader's version: the installed package's, else its pyproject.toml's."""
    try:
        return metadata.version("backprop-grader")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


PLAIN_POINTS = re.compile(
    r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
)  # what a person types: no exponent, hex or other script's digits


def parse_points(value) -> float:
    """Points from a form, a spreadsheet cell or a caller: a finite number, written as a plain
    decimal when it is text, else MarkRefused.  The one rule for every way marks come in (the
    range is the question's, checked where the question is known)."""
    if isinstance(value, bool):
        raise MarkRefused(f"points must be a number, not {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            raise MarkRefused(f"points must be a number, not {text[:40]!r}") from None
        if math.isfinite(number) and (len(text) > 20 or not PLAIN_POINTS.fullmatch(text)):
            raise MarkRefused(f"points must be a plain number such as 2 or 1.5, not {text[:40]!r}")
    if not math.isfinite(number):
        raise MarkRefused(f"points must be a finite number, not {number}")
    return number


def open_gradebook(path: Path | str, version: int = VERSION) -> Gradebook:
    """The gradebook at `path`, created or migrated to `version` (the latest unless a test asks
    for an older schema); GradebookError if the file is no gradebook or is of a newer version."""
    return Gradebook(Path(path), version)


class Gradebook:
    """A connection to one gradebook file; also a context manager that closes it.  One connection
    serves one thread at a time (a server opens one per request, or per thread): SQLite, not a
    shared connection, arbitrates between writers."""

    def __init__(self, path: Path, version: int = VERSION):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
            self._db = sqlite3.connect(
                path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as error:
            raise GradebookError(f"{path}: cannot open the gradebook: {error}") from None
        try:
            self._migrate(version)
        except sqlite3.OperationalError as error:
            self._db.close()
            if "locked" in str(error) or "busy" in str(error):  # in use, not a stranger's file
                raise GradebookError(
                    f"{path}: the gradebook is busy ({error}); try again"
                ) from None
            raise GradebookError(f"{path}: not a gradebook ({error})") from None
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise GradebookError(f"{path}: not a gradebook ({error})") from None
        except GradebookError:
            self._db.close()
            raise

    def _migrate(self, target: int) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        self._check_identity()  # before the journal mode is touched: refuse a stranger's file as it is
        db.execute("PRAGMA foreign_keys = ON")
        if db.execute("PRAGMA user_version").fetchone()[0] >= target:
            self._write_ahead_log()  # set by whoever created the file; a second opener may come first
            return  # nothing to migrate: opening writes nothing
        with (
            self._writing()
        ):  # two processes opening a new file at once: the second sees the first's schema
            self._check_identity()
            current = db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(current, target):
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
            if current < target:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {target}")
        self._write_ahead_log()

    def _write_ahead_log(self) -> None:
        """WAL, kept in the file once set.  Switching needs the file to itself, and SQLite answers
        "locked" at once rather than waiting, so another grader opening it at the same moment is
        waited for here, as long as any other write would be."""
        deadline = time.monotonic() + BUSY_SECONDS
        while self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_identity(self) -> None:
        db = self._db
        reading = not db.in_transaction
        if (
            reading
        ):  # the three reads of one state: another grader may be creating the file meanwhile
            db.execute("BEGIN")
        try:
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            application = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        finally:
            if reading:
                db.execute("COMMIT")
        if application != APPLICATION_ID and (tables or version):
            raise GradebookError(
                f"{self.path}: this SQLite file is not a gradebook (it holds other tables); "
                "give another --gradebook path"
            )
        if version > VERSION:
            raise GradebookError(
                f"{self.path}: this gradebook is of version {version}, written by a newer grader; "
                f"this grader ({grader_version()}) reads versions up to {VERSION}: "
                "upgrade the grader, or give another --gradebook path. The file was left as it is."
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def _writing(self):
        """One write transaction, taken before anything is read (BEGIN IMMEDIATE): all or nothing."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise GradebookError(
                f"{self.path}: the gradebook is busy ({error}); try again"
            ) from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except (
            sqlite3.Error
        ) as error:  # a full disk, a damaged file: nothing of this transaction stays
            self._rollback()
            raise GradebookError(
                f"{self.path}: nothing was written ({type(error).__name__}: {error}); the gradebook is as it was"
            ) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    @contextmanager
    def snapshot(self):
        """Reads that all see one state of the gradebook, whatever is written meanwhile."""
        self._db.execute("BEGIN")
        try:
            yield self
        finally:
            self._db.execute("COMMIT")

    # --- ids ---------------------------------------------------------------------------------

    def _assignment_id(
        self, name: str, title: str | None = None, create: bool = False
    ) -> int | None:
        row = self._db.execute("SELECT id FROM assignments WHERE name = ?", (name,)).fetchone()
        if row:
            if title is not None:
                self._db.execute("UPDATE assignments SET title = ? WHERE id = ?", (title, row[0]))
            return row[0]
        if not create:
            return None
        return self._db.execute(
            "INSERT INTO assignments (name, title, salt) VALUES (?, ?, ?)",
            (name, title or name, secrets.token_hex(16)),
        ).lastrowid

    def _student_id(self, assignment_id: int, name: str) -> int:
        row = self._db.execute(
            "SELECT id FROM students WHERE assignment_id = ? AND name = ?", (assignment_id, name)
        ).fetchone()
        if row:
            return row[0]
        return self._db.execute(
            "INSERT INTO students (assignment_id, name) VALUES (?, ?)", (assignment_id, name)
        ).lastrowid

    def _latest_run(self, assignment_id: int | None) -> int | None:
        if assignment_id is None:
            return None
        row = self._db.execute(
            "SELECT max(id) FROM runs WHERE assignment_id = ?", (assignment_id,)
        ).fetchone()
        return row[0]

    # --- grading runs ------------------------------------------------------------------------

    def record_run(self, assignment: str, spec, results, hidden: bool) -> int:
        """One grading run of `assignment` by `spec`: every student's points, checks, answers and
        result, and the spec's questions, in one transaction.  The run's id."""
        rows = [_student_rows(result) for result in results]  # drawn before the transaction opens
        source = Path(spec.source)
        try:
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
        except OSError:
            digest = "unreadable"
        with self._writing() as db:
            assignment_id = self._assignment_id(assignment, spec.title, create=True)
            run_id = db.execute(
                "INSERT INTO runs "
                "(assignment_id, started_at, spec_source, spec_digest, grader_version, hidden) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (assignment_id, _now(), str(source), digest, grader_version(), int(bool(hidden))),
            ).lastrowid
            db.execute("DELETE FROM questions WHERE assignment_id = ?", (assignment_id,))
            for position, question in enumerate(spec.questions):
                db.execute(
                    "INSERT INTO questions (assignment_id, id, position, title, points, rubric) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        assignment_id,
                        question.id,
                        position,
                        question.title,
                        float(question.points),
                        json.dumps(list(question.rubric)),
                    ),
                )
            for student, summary, checks, answers in rows:
                student_id = self._student_id(assignment_id, student)
                db.execute(
                    "INSERT INTO run_students "
                    "(run_id, student_id, points, max_points, status, first_fix, result) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, student_id, *summary),
                )
                db.executemany(
                    "INSERT INTO run_checks (run_id, student_id, check_id, part, "
                    "points, max_points, passed, status, diagnoses) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, student_id, *check) for check in checks],
                )
                db.execute(
                    "DELETE FROM answers WHERE student_id = ?", (student_id,)
                )  # the latest run's text, none left from before
                db.executemany(
                    "INSERT INTO answers (student_id, question_id, run_id, text) VALUES (?, ?, ?, ?)",
                    [(student_id, q, run_id, text) for q, text in answers.items()],
                )
        return run_id

    def runs(self, assignment: str) -> list[Run]:
        assignment_id = self._assignment_id(assignment)
        rows = self._db.execute(
            "SELECT r.id, r.started_at, r.spec_source, r.spec_digest, r.grader_version, r.hidden, count(s.student_id) "
            "FROM runs r LEFT JOIN run_students s ON s.run_id = r.id "
            "WHERE r.assignment_id = ? GROUP BY r.id ORDER BY r.id",
            (assignment_id,),
        ).fetchall()
        return [Run(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6]) for row in rows]

    def _run_points(self, run_id: int) -> dict[str, tuple[float, dict[str, float]]]:
        """student -> (autograded points, check -> points) in one run."""
        found: dict[str, tuple[float, dict[str, float]]] = {}
        for name, points in self._db.execute(
            "SELECT st.name, rs.points FROM run_students rs "
            "JOIN students st ON st.id = rs.student_id WHERE rs.run_id = ?",
            (run_id,),
        ):
            found[name] = (points, {})
        for name, check, points in self._db.execute(
            "SELECT st.name, rc.check_id, rc.points FROM run_checks rc "
            "JOIN students st ON st.id = rc.student_id WHERE rc.run_id = ?",
            (run_id,),
        ):
            found[name][1][check] = points
        return found

    def movements(
        self, assignment: str, before: int | None = None, after: int | None = None
    ) -> list[Movement]:
        """Who moved between two runs (by default the last two) and which checks changed; those
        who did not move are left out.  Empty where there is only one run."""
        ids = [run.id for run in self.runs(assignment)]
        after = after if after is not None else (ids[-1] if ids else None)
        if before is None:
            earlier = [i for i in ids if after is not None and i < after]
            before = earlier[-1] if earlier else None
        for run_id in (before, after):
            if run_id is not None and run_id not in ids:
                raise GradebookError(
                    f"no run {run_id} of {assignment} in {self.path} (runs: {', '.join(map(str, ids)) or 'none'})"
                )
        if before is None or after is None:
            return []
        then, now = self._run_points(before), self._run_points(after)
        moved = []
        for student in sorted(set(then) | set(now)):
            old_total, old_checks = then.get(student, (None, {}))
            new_total, new_checks = now.get(student, (None, {}))
            changes = tuple(
                CheckChange(check, old_checks.get(check), new_checks.get(check))
                for check in dict.fromkeys([*old_checks, *new_checks])
                if old_checks.get(check) != new_checks.get(check)
            )
            movement = Movement(student, old_total, new_total, changes)
            if movement.moved:
                moved.append(movement)
        return moved

    def run_result(self, assignment: str, run_id: int, student: str) -> dict:
        """The instructor's result of `student` in run `run_id`, as grading.json held it then."""
        row = self._db.execute(
            "SELECT rs.result FROM run_students rs JOIN students st ON st.id = rs.student_id "
            "JOIN runs r ON r.id = rs.run_id "
            "JOIN assignments a ON a.id = r.assignment_id WHERE a.name = ? AND rs.run_id = ? AND st.name = ?",
            (assignment, run_id, student),
        ).fetchone()
        if row is None:
            raise GradebookError(f"no result of {student!r} in run {run_id} of {assignment}")
        try:
            return json.loads(zlib.decompress(row[0]))
        except (zlib.error, TypeError, ValueError) as error:
            raise GradebookError(
                f"the stored result of {student!r} in run {run_id} cannot be read ({error})"
            ) from None

    def assignments(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT name FROM assignments ORDER BY name")]

    def autograded(self, assignment: str) -> dict[str, dict]:
        """student -> their latest run's summary, in the order they were graded: points, max_points,
        status, first_fix, checks (id -> points), diagnoses (check id -> names), parts (id -> [points, max])."""
        run_id = self._latest_run(self._assignment_id(assignment))
        found: dict[str, dict] = {}
        if run_id is None:
            return found
        for name, points, most, status, first_fix in self._db.execute(
            "SELECT st.name, rs.points, rs.max_points, rs.status, rs.first_fix "
            "FROM run_students rs JOIN students st ON st.id = rs.student_id "
            "WHERE rs.run_id = ? ORDER BY rs.rowid",
            (run_id,),
        ):
            found[name] = {
                "points": points,
                "max_points": most,
                "status": status,
                "first_fix": first_fix,
                "checks": {},
                "diagnoses": {},
                "parts": {},
            }
        for name, check, part, points, most, diagnoses in self._db.execute(
            "SELECT st.name, rc.check_id, rc.part, rc.points, rc.max_points, rc.diagnoses "
            "FROM run_checks rc JOIN students st ON st.id = rc.student_id "
            "WHERE rc.run_id = ? ORDER BY rc.rowid",
            (run_id,),
        ):
            found[name]["checks"][check] = points
            found[name]["diagnoses"][check] = json.loads(diagnoses)
            got, possible = found[name]["parts"].get(part, (0.0, 0.0))
            found[name]["parts"][part] = (got + points, possible + most)
        return found

    # --- written answers and marks ---------------------------------------------------------------

    def questions(self, assignment: str) -> list[QuestionRow]:
        rows = self._db.execute(
            "SELECT q.id, q.title, q.points, q.rubric FROM questions q "
            "JOIN assignments a ON a.id = q.assignment_id WHERE a.name = ? ORDER BY q.position",
            (assignment,),
        ).fetchall()
        return [QuestionRow(row[0], row[1], row[2], tuple(json.loads(row[3]))) for row in rows]

    def students(self, assignment: str) -> list[str]:
        """The students of the latest run, sorted."""
        run_id = self._latest_run(self._assignment_id(assignment))
        rows = self._db.execute(
            "SELECT st.name FROM run_students rs JOIN students st ON st.id = rs.student_id "
            "WHERE rs.run_id = ? ORDER BY st.name",
            (run_id,),
        )
        return [row[0] for row in rows]

    def _question(self, assignment: str, question_id: str) -> QuestionRow:
        for question in self.questions(assignment):
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions(assignment)) or "none"
        raise MarkRefused(f"unknown question {question_id!r} of {assignment} (questions: {known})")

    def _current_marks(
        self, assignment: str, question_id: str | None = None
    ) -> dict[tuple[str, str], Mark]:
        query = (
            "SELECT st.name, m.question_id, m.points, m.comment, m.marker, m.marked_at, m.revision FROM marks m "
            "JOIN students st ON st.id = m.student_id JOIN assignments a ON a.id = st.assignment_id "
            "WHERE a.name = ? AND m.removed = 0 AND m.revision = (SELECT max(revision) FROM marks "
            "WHERE student_id = m.student_id AND question_id = m.question_id)"
        )
        parameters: tuple = (assignment,)
        if question_id is not None:
            query += " AND m.question_id = ?"
            parameters += (question_id,)
        return {(row[0], row[1]): Mark(*row) for row in self._db.execute(query, parameters)}

    def answers(self, assignment: str, question_id: str) -> list[AnswerRow]:
        """Every student's answer to one question (the latest run's text, '' if none) and its current mark."""
        self._question(assignment, question_id)
        marks = self._current_marks(assignment, question_id)
        texts = dict(
            self._db.execute(
                "SELECT st.name, an.text FROM answers an JOIN students st ON st.id = an.student_id "
                "JOIN assignments a ON a.id = st.assignment_id "
                "WHERE a.name = ? AND an.question_id = ?",
                (assignment, question_id),
            ).fetchall()
        )
        return [
            AnswerRow(student, texts.get(student, ""), marks.get((student, question_id)))
            for student in self.students(assignment)
        ]

    def marks(self, assignment: str) -> list[Mark]:
        """The current marks (the latest revision of each), by student then question."""
        order = {q.id: n for n, q in enumerate(self.questions(assignment))}
        return sorted(
            self._current_marks(assignment).values(),
            key=lambda m: (m.student, order.get(m.question, len(order)), m.question),
        )

    def mark_history(self, assignment: str, student: str, question_id: str) -> list[Mark]:
        """Every revision of one mark, the first first (one that took it away is `removed`)."""
        rows = self._db.execute(
            "SELECT st.name, m.question_id, m.points, m.comment, m.marker, m.marked_at, "
            "m.revision, m.removed FROM marks m JOIN students st ON st.id = m.student_id "
            "JOIN assignments a ON a.id = st.assignment_id "
            "WHERE a.name = ? AND st.name = ? AND m.question_id = ? ORDER BY m.revision",
            (assignment, student, question_id),
        )
        return [Mark(*row[:7], removed=bool(row[7])) for row in rows]

    def set_mark(
        self,
        assignment: str,
        student: str,
        question_id: str,
        points,
        comment: str,
        marker: str,
        expected_revision: int | None = None,
    ) -> Mark:
        """Mark one answer.  `expected_revision` is the revision the marker saw (None: no mark yet);
        if someone changed the mark since, MarkRefused says who, and nothing is written."""
        with self._writing():
            mark = self._validated(
                assignment,
                MarkEntry(student, question_id, points, comment, marker),
                expected_revision,
                check_revision=True,
            )
            return self._write(assignment, mark)

    def set_marks(self, assignment: str, entries: list[MarkEntry]) -> list[Mark]:
        """Many marks at once, over whatever was there (a spreadsheet's import): every entry is
        validated first, and either all are written or none (MarkRefused lists each refused one)."""
        with self._writing():
            validated, problems = [], []
            for entry in entries:
                try:
                    validated.append(self._validated(assignment, entry, None, check_revision=False))
                except MarkRefused as refusal:
                    problems.append((entry.where, str(refusal)))
            seen: dict[tuple[str, str], str] = {}
            for entry in entries:
                key = (entry.student, entry.question)
                if key in seen:
                    problems.append(
                        (
                            entry.where,
                            f"a second mark of {entry.student!r} on question {entry.question!r} (first in {seen[key]})",
                        )
                    )
                seen.setdefault(key, entry.where)
            if problems:
                said = "; ".join(
                    f"{where}: {what}" if where else what for where, what in problems[:20]
                )
                more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
                raise MarkRefused(
                    f"{len(problems)} of {len(entries)} marks refused, none written: {said}{more}",
                    tuple(problems),
                )
            return [self._write(assignment, mark) for mark in validated]

    def _validated(
        self, assignment: str, entry: MarkEntry, expected_revision: int | None, check_revision: bool
    ) -> Mark:
        question = self._question(assignment, entry.question)
        if entry.student not in self.students(assignment):
            raise MarkRefused(
                f"unknown student {entry.student!r}: not graded in the latest run of {assignment}"
            )
        points = parse_points(entry.points)
        if not 0 <= points <= question.points:
            raise MarkRefused(
                f"{points:g} points is out of range for question {question.id} (0 to {question.points:g})"
            )
        current = self._current_marks(assignment, entry.question).get(
            (entry.student, entry.question)
        )
        if check_revision and (current.revision if current else None) != expected_revision:
            if current is None:
                raise MarkRefused(
                    f"the mark of {entry.student!r} on question {entry.question} was removed since you read it; reload"
                )
            you_saw = "no mark" if expected_revision is None else f"revision {expected_revision}"
            raise MarkRefused(
                f"{current.marker or 'someone'} changed the mark of {entry.student!r} "
                f"on question {entry.question} at {current.when} "
                f"(now {current.points:g}, revision {current.revision}; you saw {you_saw}); "
                "reload and mark again"
            )
        if len(str(entry.comment or "")) > MAX_COMMENT_CHARS or len(str(entry.marker or "")) > 200:
            raise MarkRefused(
                f"the comment is longer than {MAX_COMMENT_CHARS} characters (or the marker's name than 200)"
            )
        revision = self._last_revision(assignment, entry.student, entry.question) + 1
        return Mark(
            entry.student,
            entry.question,
            points,
            str(entry.comment or ""),
            str(entry.marker or ""),
            _now(),
            revision,
        )

    def _last_revision(self, assignment: str, student: str, question_id: str) -> int:
        """The number of a mark's latest revision, one that took it away included; 0 if none."""
        row = self._db.execute(
            "SELECT max(m.revision) FROM marks m JOIN students st ON st.id = m.student_id "
            "JOIN assignments a ON a.id = st.assignment_id "
            "WHERE a.name = ? AND st.name = ? AND m.question_id = ?",
            (assignment, student, question_id),
        ).fetchone()
        return row[0] or 0

    def _write(
        self, assignment: str, mark: Mark, batch_id: int | None = None, removed: bool = False
    ) -> Mark:
        student_id = self._student_id(self._assignment_id(assignment), mark.student)
        self._db.execute(
            "INSERT INTO marks (student_id, question_id, revision, points, comment, marker, "
            "marked_at, batch_id, removed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                student_id,
                mark.question,
                mark.revision,
                mark.points,
                mark.comment,
                mark.marker,
                mark.when,
                batch_id,
                int(removed),
            ),
        )
        return mark

    # --- marks given in one action ---------------------------------------------------------------

    def mark_blank_answers(
        self, assignment: str, question_id: str, points, comment: str, marker: str
    ) -> MarkBatch:
        """Give `points` to every answer of `question_id` that is blank (the latest run found no
        text) and not marked yet, as one batch in one transaction; a mark someone gave is never
        replaced.  MarkRefused when no such answer is left."""
        with self._writing() as db:
            question = self._question(assignment, question_id)
            points = parse_points(points)
            if not 0 <= points <= question.points:
                raise MarkRefused(
                    f"{points:g} points is out of range for question {question.id} "
                    f"(0 to {question.points:g})"
                )
            if len(comment) > MAX_COMMENT_CHARS or len(marker) > 200:
                raise MarkRefused(f"the comment is longer than {MAX_COMMENT_CHARS} characters")
            blank = [
                answer.student
                for answer in self.answers(assignment, question.id)
                if not answer.text.strip() and answer.mark is None
            ]
            if not blank:
                raise MarkRefused(f"no blank answer of question {question.id} is left unmarked")
            when = _now()
            batch_id = db.execute(
                "INSERT INTO mark_batches (assignment_id, question_id, points, comment, marker, "
                "made_at) VALUES (?, ?, ?, ?, ?, ?)",
                (self._assignment_id(assignment), question.id, points, comment, marker, when),
            ).lastrowid
            for student in blank:
                revision = self._last_revision(assignment, student, question.id) + 1
                mark = Mark(student, question.id, points, comment, marker, when, revision)
                self._write(assignment, mark, batch_id)
        return MarkBatch(
            batch_id, question.id, points, comment, marker, when, len(blank), len(blank)
        )

    def last_batch(self, assignment: str, question_id: str) -> MarkBatch | None:
        """The latest batch of marks given to `question_id`, undone or not; None if none was."""
        row = self._db.execute(
            "SELECT b.id FROM mark_batches b JOIN assignments a ON a.id = b.assignment_id "
            "WHERE a.name = ? AND b.question_id = ? ORDER BY b.id DESC LIMIT 1",
            (assignment, question_id),
        ).fetchone()
        return self._batch(assignment, row[0]) if row else None

    def _batch(self, assignment: str, batch_id: int) -> MarkBatch | None:
        row = self._db.execute(
            "SELECT b.id, b.question_id, b.points, b.comment, b.marker, b.made_at, b.undone_by, "
            "b.undone_at FROM mark_batches b JOIN assignments a ON a.id = b.assignment_id "
            "WHERE a.name = ? AND b.id = ?",
            (assignment, batch_id),
        ).fetchone()
        if row is None:
            return None
        given, standing = self._db.execute(
            "SELECT count(*), coalesce(sum(m.revision = (SELECT max(revision) FROM marks "
            "WHERE student_id = m.student_id AND question_id = m.question_id)), 0) "
            "FROM marks m WHERE m.batch_id = ? AND m.removed = 0",
            (batch_id,),
        ).fetchone()
        return MarkBatch(*row[:6], given, standing, row[6], row[7])

    def undo_batch(self, assignment: str, batch_id: int, marker: str) -> tuple[int, int]:
        """Take back a batch in one transaction: each of its marks that is still the current one
        goes (a revision by `marker` that removes it, so the answer has no mark again, as before
        the batch); one changed since is someone's later decision and is kept.  (taken back,
        kept); MarkRefused if the batch is unknown or was undone already."""
        with self._writing() as db:
            batch = self._batch(assignment, batch_id)
            if batch is None:
                raise MarkRefused(f"no batch of marks {batch_id} in {assignment}")
            if batch.undone_at is not None:
                raise MarkRefused(
                    f"those marks were taken back already, by {batch.undone_by or 'someone'} "
                    f"at {batch.undone_at}"
                )
            when, taken = _now(), 0
            rows = db.execute(
                "SELECT st.name, m.revision FROM marks m JOIN students st ON st.id = m.student_id "
                "WHERE m.batch_id = ? AND m.removed = 0",
                (batch_id,),
            ).fetchall()
            for student, revision in rows:
                if self._last_revision(assignment, student, batch.question) != revision:
                    continue  # changed since: kept
                gone = Mark(student, batch.question, 0.0, "", marker, when, revision + 1, True)
                self._write(assignment, gone, batch_id, removed=True)
                taken += 1
            db.execute(
                "UPDATE mark_batches SET undone_by = ?, undone_at = ? WHERE id = ?",
                (marker, when, batch_id),
            )
        return taken, len(rows) - taken

    # --- anonymous marking -----------------------------------------------------------------------

    def handin_keys(self, assignment: str) -> dict[str, str]:
        """student -> a key that names their hand-in without their name: keyed by the assignment's
        secret salt (random, kept in the gradebook), so every marking server of this gradebook
        gives the same keys, which no one can work out from a name, and sorting by them shuffles
        the class in an order that holds across runs."""
        row = self._db.execute(
            "SELECT salt FROM assignments WHERE name = ?", (assignment,)
        ).fetchone()
        salt = (row[0] if row else "").encode()
        return {
            student: hmac.new(
                salt, student.encode("utf-8", "surrogatepass"), hashlib.sha256
            ).hexdigest()[:16]
            for student in self.students(assignment)
        }

    # --- totals ------------------------------------------------------------------------------

    def totals(self, assignment: str) -> list[Total]:
        """Per student of the latest run, sorted: autograded points, the written marks so far, the total."""
        questions = self.questions(assignment)
        marks = self._current_marks(assignment)
        written_max = sum(q.points for q in questions)
        totals = []
        for student, summary in self.autograded(assignment).items():
            given = [marks[(student, q.id)].points for q in questions if (student, q.id) in marks]
            totals.append(
                Total(
                    student,
                    summary["points"],
                    summary["max_points"],
                    sum(given) if given else None,
                    written_max,
                    len(given),
                    len(questions),
                )
            )
        return sorted(totals, key=lambda total: total.student)


def _create_private(path: Path) -> None:
    """A new gradebook is readable by its owner only (SQLite gives its journal files the same
    mode): it holds every result in full, hidden cases' inputs too, and it may sit outside the
    output folder that is kept private while submissions run."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _student_rows(result) -> tuple:
    """What the gradebook keeps of one submission's result: (id, run_students values, run_checks values, answers)."""
    from grader.outputs import (
        html,
    )  # the renderers' own words for a status, one wording for every view
    from grader.outputs.causes import causes_of
    from grader.outputs.views import printable_data

    try:
        document = json.dumps(printable_data(result.to_dict()), default=str)
    except Exception as error:  # noqa: BLE001 - one result that cannot be drawn must not cost the run
        document = json.dumps(
            {"not_written": f"{type(error).__name__}", "submission": {"id": result.submission.id}}
        )
    status = html.run_status(result)  # graded | read free-form | did not load: why
    causes = causes_of(result)
    checks = [
        (
            c.check.id,
            c.check.part,
            float(c.score),
            float(c.check.points),
            int(c.passed and not c.withheld),
            "withheld" if c.withheld else c.status,
            json.dumps([d.id for d in c.diagnoses]),
        )
        for c in result.checks
    ]
    summary = (
        float(result.score),
        float(result.max_score),
        status,
        causes[0].summary if causes else "",
        zlib.compress(document.encode("utf-8"), 6),
    )
    return result.submission.id, summary, checks, dict(result.answers)

"""Does the gradebook remember every run, keep the written marks, and show totals that include them?

A small class (four bundled submissions, four checks) is graded through the real command
line into a gradebook; marks go in and out as CSV through the command line too.  Expected
values come from the grader's own outputs (grading.json, grades.csv) and the spec.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from contextlib import closing
from pathlib import Path

import pytest

from grader.core.spec import load_spec
from grader.course.gradebook import VERSION, GradebookError, MarkRefused, open_gradebook
from tests.conftest import REPO, SUBMISSIONS, run_grader, write_spec

CLASS = (
    "correct_scalar.py",
    "hidden_delta_from_weight_grads.py",
    "syntax_error.py",
    "correct_notebook_with_magics.ipynb",
)
CHECKS = ("np-forward-output", "np-gradients", "torch-forward-output", "torch-gradients")
CHANGED = "np-gradients"  # the check whose points the re-grade changes


def _class(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in CLASS:
        shutil.copy(SUBMISSIONS / name, folder / name)
    return folder


def _grade(submissions: Path, out: Path, spec: Path, *more: str) -> subprocess.CompletedProcess:
    completed = run_grader(
        "grade", str(submissions), "--out", str(out), "--spec", str(spec), "--jobs", "2", *more
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def _grades(out: Path) -> dict[str, dict]:
    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def _with_points(spec: Path, check: str, points: float, folder: Path) -> Path:
    """A copy of `spec` in `folder` where `check` is worth `points`."""
    text = spec.read_text(encoding="utf-8")
    sections = re.split(r"(?m)^(?=\[)", text)
    changed = [
        re.sub(r"(?m)^points = .*$", f"points = {points}", s)
        if re.search(rf'(?m)^id = "{re.escape(check)}"$', s)
        else s
        for s in sections
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "assignment.toml"
    path.write_text("".join(changed), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def regraded(tmp_path_factory):
    """The class graded by a small spec, then again after one check's points changed: the
    grades of each run as grades.csv said them, the spec, the reports folder."""
    root = tmp_path_factory.mktemp("gradebook")
    submissions = _class(root / "class")
    (root / "spec1").mkdir()
    first_spec = write_spec(root / "spec1", CHECKS)
    out = root / "out"
    first = _grade(submissions, out, first_spec)
    before = _grades(out)
    old_points = load_spec(first_spec).check(CHANGED).points
    second_spec = _with_points(first_spec, CHANGED, old_points + 2, root / "spec2")
    second = _grade(submissions, out, second_spec)
    return {
        "out": out,
        "spec": load_spec(second_spec),
        "before": before,
        "after": _grades(out),
        "first": first,
        "second": second,
        "submissions": submissions,
    }


def _movers(before: dict, after: dict) -> dict[str, dict[str, tuple[str, str]]]:
    """student -> check -> (points before, after), for the checks whose points changed between two grades.csv."""
    moved = {}
    for student, row in after.items():
        changed = {
            check: (before[student][check], row[check])
            for check in CHECKS
            if before[student][check] != row[check]
        }
        if changed:
            moved[student] = changed
    return moved


def test_history_names_who_moved_and_the_checks_that_changed(regraded):
    """After a re-grade with a check worth more, does `history` name exactly the students whose points changed, and how?"""
    moved = _movers(regraded["before"], regraded["after"])
    assert moved and set(moved) != set(
        regraded["after"]
    )  # some moved, some did not: the test can tell them apart
    completed = run_grader("history", "--out", str(regraded["out"]))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    said = completed.stdout
    assert f"{len(moved)} moved" in said
    for student in regraded["after"]:
        line = f"{student}: {regraded['before'][student]['score']} -> {regraded['after'][student]['score']}"
        assert (line in said) == (student in moved), (student, said)
    for checks in moved.values():
        for check, (old, new) in checks.items():
            assert f"  {check}: {old} -> {new}" in said
    since = run_grader("history", "--since", "1", "--out", str(regraded["out"]))
    assert (
        since.stdout.split("Between", 1)[1] == said.split("Between", 1)[1]
    )  # run 1 is the one before the latest
    assert (
        "nobody moved"
        in run_grader("history", "--since", "2", "--out", str(regraded["out"])).stdout
    )  # a run against itself
    one = next(iter(moved))
    alone = run_grader("history", one, "--out", str(regraded["out"]))
    assert "1 moved" in alone.stdout and f"{one}: " in alone.stdout
    assert not any(f"{other}: " in alone.stdout for other in regraded["after"] if other != one)


def test_the_dashboard_shows_who_moved_since_the_previous_run(regraded):
    """Does the dashboard list the movers (and only them) under "moved since the previous run"?"""
    page = (regraded["out"] / "index.html").read_text(encoding="utf-8")
    movers = page.split('id="movers"', 1)[1].split("</ul>", 1)[0]
    moved = _movers(regraded["before"], regraded["after"])
    for student in regraded["after"]:
        assert (f">{student}</a>" in movers) == (student in moved)
    assert "moved since the previous run" in regraded["second"].stdout


def test_an_earlier_runs_results_are_shown_again(regraded):
    """`history STUDENT --run 1` prints that run's stored result: the score grades.csv had then, not now."""
    moved = next(iter(_movers(regraded["before"], regraded["after"])))
    completed = run_grader("history", moved, "--run", "1", "--out", str(regraded["out"]))
    assert completed.returncode == 0, completed.stderr
    stored = json.loads(completed.stdout[completed.stdout.index("{") :])
    assert stored["submission"]["id"] == moved
    assert (
        str(stored["score"]).removesuffix(".0")
        == regraded["before"][moved]["score"]
        != regraded["after"][moved]["score"]
    )
    now = json.loads((regraded["out"] / moved / "grading.json").read_text(encoding="utf-8"))
    assert [c["score"] for c in now["checks"]] != [c["score"] for c in stored["checks"]]
    missing = run_grader("history", moved, "--run", "99", "--out", str(regraded["out"]))
    assert missing.returncode == 2 and "no result" in missing.stdout


def test_each_run_is_recorded_with_its_spec_and_the_answers_found(regraded):
    """Does each run keep its spec's digest and whether hidden cases ran, and are the answers the latest run found stored?"""
    spec = regraded["spec"]
    with open_gradebook(regraded["out"] / "gradebook.sqlite") as book:
        runs = book.runs(spec.name)
        assert [r.students for r in runs] == [len(CLASS)] * 2 and not any(r.hidden for r in runs)
        assert runs[0].spec_digest != runs[1].spec_digest
        assert runs[1].spec_digest == hashlib.sha256(spec.source.read_bytes()).hexdigest()
        assert [(q.id, q.points, q.rubric) for q in book.questions(spec.name)] == [
            (q.id, q.points, q.rubric) for q in spec.questions
        ]
        assert all(
            q.rubric for q in spec.questions
        )  # the assignment's own spec gives each question a rubric
        for student in book.students(spec.name):
            stored = json.loads(
                (regraded["out"] / student / "grading.json").read_text(encoding="utf-8")
            )
            for question in stored["questions"]:
                found = [
                    a.text for a in book.answers(spec.name, question["id"]) if a.student == student
                ]
                assert found == [question["answer"] or ""]
        assert any(
            a.text for a in book.answers(spec.name, spec.questions[0].id)
        )  # the notebook's answers were found


def _marks_file(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "points", "comment", "marker"])
        writer.writerows(rows)
    return path


@pytest.fixture
def marked(regraded, tmp_path):
    """A copy of the graded reports folder, for tests that write marks."""
    out = tmp_path / "out"
    shutil.copytree(regraded["out"], out)
    return out, regraded["spec"]


def test_marks_round_trip_and_totals_include_them(marked, tmp_path):
    """Marks imported for every question of one student and one question of another come back out
    of `marks export` unchanged; grades.csv totals the fully marked one, and the others say "not marked"."""
    out, spec = marked
    students = sorted(_grades(out))
    full, partial = students[0], students[1]
    rows = [
        [full, q.id, q.points / 2, f"comment on {q.id}, with a comma", "ta-one"]
        for q in spec.questions
    ]
    rows.append(
        [
            partial,
            spec.questions[-1].id,
            spec.questions[-1].points,
            "=1+1 is not a formula",
            "ta-two",
        ]
    )
    imported = run_grader(
        "marks", "import", str(_marks_file(tmp_path / "marks.csv", rows)), "--out", str(out)
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    exported = run_grader("marks", "export", str(tmp_path / "back.csv"), "--out", str(out))
    assert exported.returncode == 0, exported.stdout
    with (tmp_path / "back.csv").open(encoding="utf-8-sig", newline="") as handle:
        sheet = list(csv.DictReader(handle))
    assert len(sheet) == len(students) * len(
        spec.questions
    )  # every student against every question, marked or not
    back = [
        [r["student"], r["question"], float(r["points"]), r["comment"], r["marker"]]
        for r in sheet
        if r["points"]
    ]
    assert sorted(back) == sorted(
        [
            [s, q, float(p), c.replace("=", "'=", 1) if c.startswith("=") else c, m]
            for s, q, p, c, m in rows
        ]
    )
    for row in sheet:  # the answer the run found, for marking in the spreadsheet
        stored = json.loads((out / row["student"] / "grading.json").read_text(encoding="utf-8"))
        assert row["answer"] == next(
            q["answer"] or "" for q in stored["questions"] if q["id"] == row["question"]
        )
    assert any(row["answer"] for row in sheet)
    again = run_grader(
        "marks", "import", str(tmp_path / "back.csv"), "--out", str(out)
    )  # its own export reads back
    assert again.returncode == 0, again.stdout
    assert f"{len(sheet) - len(rows)} rows without points left as they were" in " ".join(
        again.stdout.split()
    )
    grades = _grades(out)
    written = sum(q.points / 2 for q in spec.questions)
    autograded = float(grades[full]["score"])
    assert (
        float(grades[full]["written_score"]) == written
        and grades[full]["written_marked"] == f"{len(spec.questions)} of {len(spec.questions)}"
    )
    assert float(grades[full]["total"]) == autograded + written
    assert (
        float(grades[partial]["written_score"]) == spec.questions[-1].points
        and grades[partial]["total"] == "not fully marked"
    )
    for student in students[2:]:
        assert (
            grades[student]["written_score"] == "not marked"
            and grades[student]["total"] == "not marked"
        )
    board = (out / "index.html").read_text(encoding="utf-8")
    assert f"{autograded + written:g} / {float(grades[full]['total_max']):g}" in board
    page = (out / full / "report.html").read_text(encoding="utf-8")
    assert (
        f'id="total-score">{autograded + written:g} /' in page
        and "comment on" in page
        and "ta-one" not in page
    )  # no marker's name on the student's page
    assert "ta-one" in (out / full / "instructor.html").read_text(encoding="utf-8")
    unmarked = (out / students[2] / "report.html").read_text(encoding="utf-8")
    answered = any(
        q["answer"]
        for q in json.loads((out / students[2] / "grading.json").read_text(encoding="utf-8"))[
            "questions"
        ]
    )
    if answered:  # how far marking is, never a total that looks final
        assert f'id="written-score">0 of {len(spec.questions)} marked so far<' in unmarked
    else:  # nothing to mark: no "not marked" tile
        assert "No written answers found" in unmarked and 'id="written-score"' not in unmarked


def test_bad_mark_rows_are_refused_with_their_row_and_nothing_is_written(marked, tmp_path):
    """Unknown student, unknown question, points out of range and "abc": is each row named, and is no mark written, not even the good ones?"""
    out, spec = marked
    student, question = sorted(_grades(out))[0], spec.questions[0]
    rows = [
        [student, question.id, question.points, "a good row", "ta"],
        ["nobody-graded-this", question.id, 1, "", "ta"],
        [student, "no-such-question", 1, "", "ta"],
        [student, spec.questions[1].id, spec.questions[1].points + 1, "", "ta"],
        [student, spec.questions[2].id, "abc", "", "ta"],
        [student, spec.questions[3].id, "nan", "", "ta"],
        [student, spec.questions[4].id, -1, "", "ta"],
    ]
    grades_before = (out / "grades.csv").read_bytes()
    completed = run_grader(
        "marks", "import", str(_marks_file(tmp_path / "bad.csv", rows)), "--out", str(out)
    )
    said = " ".join(completed.stdout.split())
    assert completed.returncode == 2, said
    assert "6 of 7 rows refused; no mark was written" in said
    refused = dict(re.findall(r"refused row (\d+): (.*?)(?= refused row |$)", said))
    expected = {
        "3": "unknown student 'nobody-graded-this'",
        "4": "unknown question 'no-such-question'",
        "5": "out of range",
        "6": "not 'abc'",
        "7": "finite",
        "8": "out of range",
    }
    assert set(refused) == set(expected), said  # the good row (2) is not among them
    for line, words in expected.items():
        assert words in refused[line], (line, refused[line])
    with open_gradebook(out / "gradebook.sqlite") as book:
        assert book.marks(spec.name) == []
    assert (out / "grades.csv").read_bytes() == grades_before


@pytest.mark.parametrize("points", ["1e0", "\uff11", "0x1"])
def test_an_import_holds_points_to_the_marking_pages_rule(marked, tmp_path, points):
    """Points the marking page refuses (an exponent, another script's digits, hex) are refused from a spreadsheet too."""
    out, spec = marked
    student, question = sorted(_grades(out))[0], spec.questions[0]
    completed = run_grader(
        "marks",
        "import",
        str(_marks_file(tmp_path / "odd.csv", [[student, question.id, points, "", "ta"]])),
        "--out",
        str(out),
    )
    assert completed.returncode == 2, completed.stdout
    assert "no mark was written" in " ".join(completed.stdout.split())
    with open_gradebook(out / "gradebook.sqlite") as book:
        assert book.marks(spec.name) == []


def test_two_markers_never_overwrite_each_other(marked):
    """Two markers read the same unmarked answer; the second to save is refused, told who marked it, and the first mark stands."""
    out, spec = marked
    path = out / "gradebook.sqlite"
    student, question = sorted(_grades(out))[0], spec.questions[0]
    with open_gradebook(path) as first, open_gradebook(path) as second:
        seen = [a.mark for a in second.answers(spec.name, question.id) if a.student == student]
        assert seen == [None]
        kept = first.set_mark(spec.name, student, question.id, question.points, "", "ta-one")
        with pytest.raises(MarkRefused, match="ta-one changed the mark"):
            second.set_mark(
                spec.name, student, question.id, 0, "", "ta-two", expected_revision=None
            )
        assert second.marks(spec.name) == [kept]
        changed = second.set_mark(
            spec.name,
            student,
            question.id,
            0,
            "on reflection",
            "ta-two",
            expected_revision=kept.revision,
        )
        assert first.marks(spec.name) == [changed] and changed.revision == kept.revision + 1
        assert first.mark_history(spec.name, student, question.id) == [
            kept,
            changed,
        ]  # the old mark is kept


def _dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as connection:
        return list(connection.iterdump())


def _old_gradebook(path: Path, spec, student: str) -> None:
    """A gradebook as the first version of the schema held it (no rubric): one run, one mark."""
    with open_gradebook(path, version=1):
        pass
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO assignments (id, name, title) VALUES (1, ?, ?)", (spec.name, spec.title)
        )
        db.execute("INSERT INTO students (id, assignment_id, name) VALUES (1, 1, ?)", (student,))
        db.execute(
            "INSERT INTO runs (id, assignment_id, started_at, spec_source, spec_digest, grader_version, hidden) VALUES (1, 1, '2026-01-01T00:00:00+00:00', 'old.toml', 'abc', '0.0.1', 0)"
        )
        db.execute(
            "INSERT INTO run_students VALUES (1, 1, 3, 41, 'graded', '', ?)",
            (zlib.compress(b"{}"),),
        )
        for position, question in enumerate(spec.questions):
            db.execute(
                "INSERT INTO questions (assignment_id, id, position, title, points) VALUES (1, ?, ?, ?, ?)",
                (question.id, position, question.title, question.points),
            )
        db.execute(
            "INSERT INTO marks VALUES (1, ?, 1, 1, 'kept across the upgrade', 'ta', '2026-01-02T00:00:00+00:00')",
            (spec.questions[0].id,),
        )


def test_an_older_gradebook_is_migrated_and_keeps_its_marks(tmp_path, regraded):
    """A version-1 file: is it upgraded on open, with its run and its mark intact, and the rubric empty?"""
    spec = regraded["spec"]
    path = tmp_path / "old.sqlite"
    _old_gradebook(path, spec, "alice")
    with closing(sqlite3.connect(path)) as db, db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    completed = run_grader(
        "marks",
        "export",
        str(tmp_path / "marks.csv"),
        "--out",
        str(tmp_path),
        "--gradebook",
        str(path),
    )
    assert completed.returncode == 0, completed.stdout
    assert "kept across the upgrade" in (tmp_path / "marks.csv").read_text(encoding="utf-8-sig")
    with open_gradebook(path) as book:
        assert book.version == VERSION > 1
        assert [q.rubric for q in book.questions(spec.name)] == [()] * len(spec.questions)
        assert [t.written for t in book.totals(spec.name)] == [1.0]


@pytest.mark.parametrize("kind", ["newer", "not-sqlite", "foreign-sqlite"])
def test_a_gradebook_it_cannot_read_is_refused_and_left_alone(tmp_path, regraded, kind):
    """A newer version, a file that is no database, another program's database: refused with a
    message by `history` and by `grade` (before grading anything), and the file left byte for byte."""
    path = tmp_path / "gradebook.sqlite"
    if kind == "newer":
        shutil.copy(regraded["out"] / "gradebook.sqlite", path)
        with closing(sqlite3.connect(path)) as db, db:
            db.execute(f"PRAGMA user_version = {VERSION + 1}")
        words = f"version {VERSION + 1}, written by a newer grader"
    elif kind == "not-sqlite":
        path.write_text("student,points\nalice,3\n" * 50, encoding="utf-8")
        words = "not a gradebook"
    else:
        with closing(sqlite3.connect(path)) as db, db:
            db.execute("CREATE TABLE photos (name TEXT)")
        words = "not a gradebook"
    before = path.read_bytes()
    history = run_grader("history", "--out", str(tmp_path))
    assert history.returncode == 2 and words in " ".join(history.stdout.split()), history.stdout
    graded = run_grader(
        "grade",
        str(regraded["submissions"]),
        "--out",
        str(tmp_path),
        "--spec",
        str(regraded["spec"].source),
    )
    assert graded.returncode == 2 and words in " ".join(graded.stdout.split()), graded.stdout
    assert not (tmp_path / "grades.csv").exists() and path.read_bytes() == before
    with pytest.raises(GradebookError, match=words.split(",")[0]):
        open_gradebook(path)


def test_two_grade_runs_at_once_both_land_whole(tmp_path, regraded):
    """Two `grade` runs sharing one gradebook at the same time: are both runs recorded, complete, in a sound file?"""
    path = tmp_path / "shared.sqlite"
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(regraded["submissions"]),
        "--spec",
        str(regraded["spec"].source),
        "--jobs",
        "1",
        "--gradebook",
        str(path),
    ]
    runs = [
        subprocess.Popen(
            [*command, "--out", str(tmp_path / f"out{n}")],
            cwd=REPO,
            env=_environment({}),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    with open_gradebook(path) as book:
        recorded = book.runs(regraded["spec"].name)
        assert [r.students for r in recorded] == [len(CLASS)] * 2
        assert book._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for n in (1, 2):
        assert set(_grades(tmp_path / f"out{n}")) == set(regraded["after"])


def _environment(more: dict) -> dict:
    return {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"} | {"COLUMNS": "200"} | more


STALL = """
import sys, time
from pathlib import Path
from grader.course.gradebook import open_gradebook
from grader.core.spec import load_spec

spec = load_spec(sys.argv[2])


class Stalling:
    # the spec, except that its questions stall once the run's transaction is open
    def __getattr__(self, name):
        return getattr(spec, name)

    @property
    def questions(self):
        yield spec.questions[0]
        print("inside the transaction", flush=True)
        time.sleep(600)
        yield from spec.questions[1:]


open_gradebook(Path(sys.argv[1])).record_run(spec.name, Stalling(), [], hidden=True)
"""


def test_a_run_killed_inside_its_transaction_leaves_the_gradebook_as_it_was(marked, tmp_path):
    """A writer killed (SIGKILL) with its run's transaction open, rows already written in it: is the file, read again, what it was?"""
    out, spec = marked
    path = out / "gradebook.sqlite"
    with open_gradebook(path) as book:
        book.set_mark(
            spec.name, sorted(_grades(out))[0], spec.questions[0].id, 1, "before the kill", "ta"
        )
    before = _dump(path)
    writer = subprocess.Popen(
        [sys.executable, "-c", STALL, str(path), str(spec.source)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "inside the transaction"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert _dump(path) == before
    with open_gradebook(path) as book:
        assert len(book.runs(spec.name)) == 2 and [m.comment for m in book.marks(spec.name)] == [
            "before the kill"
        ]


def test_grade_killed_at_any_point_leaves_the_previous_run_or_the_whole_new_one(marked):
    """`grade` killed with SIGKILL at several moments of a re-grade (while grading, and just after its
    last report is written, when the gradebook's write comes): the gradebook holds either exactly what
    it held before, or that plus the whole new run; never part of a run, never a damaged file."""
    out, spec = marked
    path = out / "gradebook.sqlite"
    submissions = _class(out.parent / "class")
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--spec",
        str(spec.source),
        "--jobs",
        "2",
        "--no-cache",
    ]
    # one whole re-grade, watched: how long grading takes, and how long from its last report to the run's commit
    runs, since, started = _run_ids(path), time.time_ns(), time.monotonic()
    grade = subprocess.Popen(
        command,
        cwd=REPO,
        env=_environment({}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_reports(out, since, grade)
    grading = time.monotonic() - started
    while _run_ids(path) == runs and grade.poll() is None:
        time.sleep(0.005)
    window = time.monotonic() - started - grading
    assert grade.wait(timeout=600) == 0 and len(_run_ids(path)) == len(runs) + 1
    moments = [("while grading", 0.5 * grading)] + [
        ("after the last report", share * window) for share in (0.0, 0.5, 0.9, 1.0, 1.5)
    ]
    outcomes = []
    for when, delay in moments:
        before, runs = _dump(path), _run_ids(path)
        since = time.time_ns()
        grade = subprocess.Popen(
            command,
            cwd=REPO,
            env=_environment({}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if when == "after the last report":
            _wait_for_reports(out, since, grade)
        time.sleep(delay)
        _kill_group(grade)
        after = _run_ids(path)
        with open_gradebook(path) as book:
            assert book._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            if after == runs:
                assert _dump(path) == before, when
                outcomes.append("unchanged")
            else:
                assert after == [*runs, max(runs) + 1], (when, delay, runs, after)
                assert book.runs(spec.name)[-1].students == len(CLASS)
                assert all(
                    len(summary["checks"]) == len(CHECKS)
                    for summary in book.autograded(spec.name).values()
                )
                outcomes.append("whole new run")
    assert outcomes[0] == "unchanged", outcomes  # killed while grading: nothing was written yet


def _wait_for_reports(out: Path, since: int, grade: subprocess.Popen) -> None:
    """Until every submission's instructor page has been written by this run (or the run ended)."""
    pages = [out / Path(name).stem / "instructor.html" for name in CLASS]
    while grade.poll() is None:
        try:
            if all(page.stat().st_mtime_ns >= since for page in pages):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.002)


def _run_ids(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as db, db:
        return [row[0] for row in db.execute("SELECT id FROM runs ORDER BY id")]


def _kill_group(grade: subprocess.Popen) -> None:
    """SIGKILL to the run and its own process group (its submissions' processes)."""
    try:
        os.killpg(grade.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    grade.wait(timeout=30)


HOSTILE = REPO / "tests" / "hostile" / "reads_and_writes_the_gradebook.py"


@pytest.mark.parametrize(
    "skip", ["", "netns,ipcns,private-root,landlock"], ids=["every-layer", "uid-drop-only"]
)
def test_a_submission_cannot_read_or_change_a_gradebook_kept_elsewhere(
    tmp_path, regraded, skip, request
):
    """A gradebook outside the reports folder (in a folder anyone may list), attacked by a submission
    of the next run: is it kept from the submission's user (its own mode, where no mount namespace or
    Landlock hides it), unchanged, and then given the new run?"""
    from grader.isolation.sandbox import probe_layers

    if "uid-drop" not in probe_layers(skip).layers:
        pytest.skip("the sandbox cannot drop to another user here")
    keep = Path(
        tempfile.mkdtemp(prefix="course-")
    )  # in /tmp itself: every folder above it may be listed by anyone
    request.addfinalizer(lambda: shutil.rmtree(keep, ignore_errors=True))
    keep.chmod(0o755)
    path = keep / "gradebook.sqlite"
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(SUBMISSIONS / "correct_scalar.py", batch / "correct_scalar.py")
    environment = {"GRADER_SANDBOX_SKIP": skip}
    spec = str(regraded["spec"].source)
    first = run_grader(
        "grade",
        str(batch),
        "--out",
        str(tmp_path / "out"),
        "--spec",
        spec,
        "--gradebook",
        str(path),
        env=environment,
    )
    assert first.returncode == 0, first.stdout
    assert path.stat().st_mode & 0o077 == 0  # created readable by its owner only
    attack = HOSTILE.read_text(encoding="utf-8").replace(
        "TARGETS: list = []", f"TARGETS: list = {[str(path)]!r}", 1
    )
    (batch / HOSTILE.name).write_text(attack, encoding="utf-8")
    before = _dump(path)
    second = run_grader(
        "grade",
        str(batch),
        "--out",
        str(tmp_path / "out"),
        "--spec",
        spec,
        "--gradebook",
        str(path),
        env=environment,
    )
    assert second.returncode == 0, second.stdout
    graded = json.loads(
        (tmp_path / "out" / HOSTILE.stem / "grading.json").read_text(encoding="utf-8")
    )
    said = graded["stdout"]
    assert "LEAKED" not in said and all(
        f"denied {what} {path}" in said for what in ("read", "write", "delete")
    ), said
    assert (
        next(c for c in graded["checks"] if c["check"] == "np-forward-output")["status"] == "passed"
    )
    with open_gradebook(path) as book:
        assert book._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [r.students for r in book.runs(regraded["spec"].name)] == [1, 2]
    assert set(before) <= set(_dump(path))  # the earlier run's rows all still there, as they were


FORGER = REPO / "tests" / "hostile" / "answer_forges_the_gradebook_region.ipynb"


def test_an_answer_cannot_forge_the_gradebooks_region_of_the_pages(tmp_path, regraded):
    """Answers holding the pages' gradebook markers, a script and a forged total: after a mark, do
    both pages keep one region, the template's, with the gradebook's mark and no forged total?"""
    from grader.outputs.html import GRADEBOOK_END, GRADEBOOK_START

    batch, out = tmp_path / "batch", tmp_path / "out"
    batch.mkdir()
    shutil.copy(FORGER, batch / FORGER.name)
    _grade(batch, out, regraded["spec"].source)
    question = regraded["spec"].questions[0]
    marks = _marks_file(
        tmp_path / "marks.csv",
        [[FORGER.stem, question.id, question.points, "<b>not bold</b>", "ta"]],
    )
    assert run_grader("marks", "import", str(marks), "--out", str(out)).returncode == 0
    for page in ("report.html", "instructor.html"):
        text = (out / FORGER.stem / page).read_text(encoding="utf-8")
        assert text.count(GRADEBOOK_START) == 1 and text.count(GRADEBOOK_END) == 1, page
        assert (
            "<script>alert" not in text
            and 'id="total-score">51 / 51' not in text
            and "<b>not bold" not in text
        )
        region = text.split(GRADEBOOK_START, 1)[1].split(GRADEBOOK_END, 1)[0]
        assert (
            f'id="written-score">1 of {len(regraded["spec"].questions)} marked so far<' in region
            and f"{question.points:g} / {question.points:g}: " in region
            and "&lt;b&gt;not bold&lt;/b&gt;" in region
        )
        assert "&lt;!-- /gradebook --&gt;" in text  # the answer itself, shown as text
    grading = json.loads((out / FORGER.stem / "grading.json").read_text(encoding="utf-8"))
    assert (
        next(c for c in grading["checks"] if c["check"] == "np-forward-output")["status"]
        == "passed"
    )


@pytest.mark.parametrize(
    ("rubric", "words"),
    [
        ('"a line, not a list"', "is not of type 'array'"),
        ("[1, 2]", "is not of type 'string'"),
        ('[""]', "should be non-empty"),
    ],
)
def test_a_malformed_rubric_is_refused_naming_its_key(tmp_path, rubric, words):
    """Does the spec's validation name `question[0].rubric` when a rubric is not a list of lines?"""
    from grader.core.spec import SpecError

    text = (REPO / "reference" / "backprop" / "assignment.toml").read_text(encoding="utf-8")
    first = text.index("[[question]]")
    head, rest = text[:first], text[first:]
    rest = re.sub(r"(?ms)^rubric = \[.*?^\]\n", f"rubric = {rubric}\n", rest, count=1)
    (tmp_path / "assignment.toml").write_text(head + rest, encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape("question[0].rubric")) as refused:
        load_spec(tmp_path / "assignment.toml")
    assert words in str(refused.value)


def test_a_run_that_fails_half_way_through_its_write_leaves_nothing(marked):
    """A run whose write fails after some of its rows went in (two questions with one id): refused with a message, the gradebook as it was?"""
    import dataclasses

    out, spec = marked
    path = out / "gradebook.sqlite"
    before = _dump(path)
    broken = dataclasses.replace(spec, questions=spec.questions + spec.questions[:1])
    with open_gradebook(path) as book, pytest.raises(GradebookError, match="nothing was written"):
        book.record_run(spec.name, broken, [], hidden=False)
    assert _dump(path) == before


def test_marks_imported_at_the_same_time_all_reach_grades_csv(marked, tmp_path):
    """Two imports at once, each marking other students: are both kept, and does the last redraw of grades.csv show both?"""
    out, spec = marked
    students = sorted(_grades(out))
    files = []
    for number, group in enumerate((students[:2], students[2:])):
        rows = [
            [student, q.id, q.points, f"import {number}", f"ta-{number}"]
            for student in group
            for q in spec.questions
        ]
        files.append(_marks_file(tmp_path / f"marks{number}.csv", rows))
    imports = [
        subprocess.Popen(
            [sys.executable, "-m", "grader", "marks", "import", str(f), "--out", str(out)],
            cwd=REPO,
            env=_environment({}),
            stdout=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    assert [run.wait(timeout=120) for run in imports] == [0, 0], [
        run.stdout.read() for run in imports
    ]
    grades = _grades(out)
    written = sum(q.points for q in spec.questions)
    for student in students:
        assert (
            float(grades[student]["written_score"]) == written
            and float(grades[student]["total"]) == float(grades[student]["score"]) + written
        )


OPENER = """
import sys, time
from pathlib import Path
from grader.course.gradebook import GradebookError, open_gradebook
while (left := float(sys.argv[2]) - time.time()) > 0:
    time.sleep(min(left, 0.001))  # every opener starts at the same moment
try:
    open_gradebook(Path(sys.argv[1])).close()
except GradebookError as error:
    print(error)
"""


def test_graders_opening_a_new_gradebook_at_the_same_moment_all_get_it(tmp_path):
    """Six processes opening one new file at once, ten times over: does each get the gradebook, none being
    told it is busy or is another program's file while the first one creates it?"""
    for trial in range(10):
        path, start = tmp_path / f"new-{trial}.sqlite", time.time() + 0.5
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(path), str(start)],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        refusals = [
            line for opener in openers for line in opener.communicate(timeout=120)[0].splitlines()
        ]
        assert refusals == [], (trial, refusals)
        with open_gradebook(path) as book:
            assert book.version == VERSION

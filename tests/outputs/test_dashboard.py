"""Does the class dashboard find who needs help, and does grades.csv carry what a spreadsheet needs?

One `grade` run of the real CLI (hidden cases on, a small spec of five checks with a
2 s call limit, two at a time) over a class with two syntax errors, an endless loop at
import, two submissions whose calls hang, two catalogued mistakes, a rule broken, a
missing entry point, a correct hand-in and one named like a spreadsheet formula.
Who is in which group is read from what the grader wrote (grading.json), and the
bundled examples' docstrings say what each one is.
"""

from __future__ import annotations

import csv
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from grader.core.spec import load_spec
from tests.conftest import REPO, SUBMISSIONS, TEST_SECRET, grading, run_grader, write_spec

HOSTILE = REPO / "tests" / "hostile"
CHECKS = (
    "np-forward-hidden",
    "np-gradients",
    "np-one-step-weights",
    "np-train-lr5-1000-curve",
    "torch-forward-output",
)
BUNDLED = (
    "correct_scalar", "syntax_error", "missing_entry_point", "hidden_delta_from_weight_grads",
    "textbook_weight_numbering", "infinite_loop", "autograd_in_numpy_part",
)  # fmt: skip
NOT_LOADING = {"syntax_error", "syntax_error_again", "infinite_loop_at_import"}
TIMING_OUT = {"infinite_loop", "ignores_sigterm_and_hangs_in_a_call", "infinite_loop_at_import"}
FORMULA = "=1+2"  # an id a spreadsheet would run as a formula


@pytest.fixture(scope="module")
def triage(tmp_path_factory):
    """(the grade run, its output folder, the spec file)."""
    root = tmp_path_factory.mktemp("triage")
    folder = root / "class"
    folder.mkdir()
    for name in BUNDLED:
        shutil.copy(SUBMISSIONS / f"{name}.py", folder / f"{name}.py")
    shutil.copy(SUBMISSIONS / "syntax_error.py", folder / "syntax_error_again.py")
    shutil.copy(SUBMISSIONS / "correct_scalar.py", folder / f"{FORMULA}.py")
    for name in ("infinite_loop_at_import", "ignores_sigterm_and_hangs_in_a_call"):
        shutil.copy(HOSTILE / f"{name}.py", folder / f"{name}.py")
    spec = write_spec(root, CHECKS, limits={"call_seconds": 4, "load_seconds": 6})
    out = root / "out"
    completed = run_grader(
        "grade",
        str(folder),
        "--out",
        str(out),
        "--spec",
        str(spec),
        "--jobs",
        "2",
        secret=TEST_SECRET,
        env={"COLUMNS": "80"},  # an 80-column terminal (the table's test measures it)
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed, out, spec


def block(board: str, anchor: str) -> str:
    """The list or table under the heading (or item) with id `anchor`."""
    start = board.index(f'id="{anchor}"')
    ends = [board.find(tag, start) for tag in ("</ul>", "</table>")]
    return board[start : min(e for e in ends if e >= 0)]


def linked(fragment: str) -> set[str]:
    """The students a fragment names: the ids of its links to their instructor's pages."""
    return {
        unescape(text)
        for text in re.findall(r'<a href="[^"]+/instructor\.html">([^<]+)</a>', fragment)
    }


def ids(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir())


def test_the_dashboard_lists_who_did_not_load_grouped_by_why(triage):
    """One line per reason, said once, with its students under it: where each one failed beside it,
    unless they all failed alike."""
    _, out, _ = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    section = block(board, "not-loaded")
    assert linked(section) == NOT_LOADING
    groups = {
        unescape(re.search(r"<strong>([^<]+)</strong>", item).group(1)): item
        for item in section.split("<li>")[1:]
    }
    assert linked(groups["SyntaxError while loading"]) == {"syntax_error", "syntax_error_again"}
    for student in ("syntax_error", "syntax_error_again"):  # each where its own file failed
        where = groups["SyntaxError while loading"].split(f">{student}</a>")[1].split(";")[0]
        assert f"{student}.py, line " in unescape(where) and "/tmp" not in where
    timed_out = groups["loading timed out"]
    assert linked(timed_out) == {"infinite_loop_at_import"}
    assert grading(out, "infinite_loop_at_import")["load"]["message"] in unescape(timed_out)


def test_the_dashboard_lists_who_timed_out_with_the_checks(triage):
    """Grouped by what the grader said of the hang, said once; each student with where it hung."""
    _, out, _ = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    section = block(board, "timed-out")
    assert linked(section) == TIMING_OUT
    for item in section.split("<li>")[1:]:
        said = unescape(item.split("</strong>")[0].removeprefix("<strong>"))
        for student in linked(item):
            own = item.split(f">{student}</a>", 1)[1].split("; <a href=")[0]
            record = grading(out, student)
            if record["load"]["status"] == "timeout":
                assert "while loading" in item and record["load"]["message"] in said
                continue
            for check in record["checks"]:
                assert (check["check"] in own) == (check["status"] == "timeout"), (
                    student,
                    check["check"],
                )


def test_each_catalogued_mistake_is_listed_with_the_students_who_made_it(triage):
    _, out, _ = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    made: dict[str, set[str]] = {}
    root_causes = set()
    for student in ids(out):
        for check in grading(out, student)["checks"]:
            for diagnosis in check["diagnoses"]:
                if diagnosis["kind"] == "misconception":
                    made.setdefault(diagnosis["id"], set()).add(student)
                else:  # where the bug is, or a consequence of another function's bug
                    root_causes.add(diagnosis["id"])
    assert {"hidden-delta-from-weight-grads", "textbook-numbering"} <= set(
        made
    ) and root_causes  # the class holds both kinds
    for mistake, students in made.items():
        assert linked(board[board.index(f'id="mistake-{mistake}"') :].split("</li>")[0]) == students
    mistakes = block(board, "mistakes")
    for finding in root_causes:  # where a bug is: said with the mistake, not a mistake of its own
        assert f'id="mistake-{finding}"' not in mistakes


def test_each_rule_broken_is_listed_with_its_students(triage):
    _, out, _ = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    broken: dict[str, set[str]] = {}
    for student in ids(out):
        for rule in grading(out, student)["rules"]:
            broken.setdefault(rule["rule"], set()).add(student)
    assert broken and all("autograd_in_numpy_part" in s for s in broken.values())
    for rule, students in broken.items():
        assert linked(board[board.index(f'id="rule-{rule}"') :].split("</li>")[0]) == students


def test_pass_rates_are_over_the_students_who_loaded(triage):
    _, out, spec = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    loaded = [s for s in ids(out) if s not in NOT_LOADING]
    table = block(board, "pass-rates") if 'id="pass-rates"' in board else ""
    rows = re.findall(
        r'<span class="mono">([^<]+)</span>.*?<span class="num">(\d+) / (\d+)</span>', table
    )
    basis = board[board.index('id="pass-rate-basis"') :].split("</p>")[0]
    everyone = re.findall(r'not listed: <span class="mono">([^<]+)</span>', basis)
    rows += [
        (check, len(loaded), len(loaded)) for check in ", ".join(everyone).split(", ") if check
    ]
    assert sorted(check for check, _, _ in rows) == sorted(c.id for c in load_spec(spec).checks)
    for check, passed, total in rows:
        statuses = [
            next(c["status"] for c in grading(out, s)["checks"] if c["check"] == check)
            for s in loaded
        ]
        assert (int(passed), int(total)) == (statuses.count("passed"), len(loaded))
    assert (
        f"over the {len(loaded)} submissions that loaded ({len(NOT_LOADING)} did not load"
        in " ".join(board.split())
    )


def test_the_most_frequent_failures_group_one_cause_across_details(triage):
    """ "worst w1" and "worst w6" are one failure, written out as one of them had it; the students
    who did not load are said once, under "Did not load", not again here."""
    _, out, _ = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    rows = block(board, "failures").split("<li>")[1:]
    assert rows and not any(linked(row) & NOT_LOADING for row in rows)
    worst = {
        grading(out, s)["checks"][2]["message"].split("worst ")[1].split(":")[0]
        for s in ("hidden_delta_from_weight_grads", "textbook_weight_numbering")
    }
    assert len(worst) == 2  # the two hand-ins differ in the detail ...
    weights = [
        row
        for row in rows
        if "np-one-step-weights" in row and "values of the final weights are off" in row
    ]
    assert len(weights) == 1 and {
        "hidden_delta_from_weight_grads",
        "textbook_weight_numbering",
    } <= linked(weights[0])  # ... and are one row
    messages = {  # ... said with the words and numbers of one of them
        grading(out, s)["checks"][2]["message"]
        for s in ("hidden_delta_from_weight_grads", "textbook_weight_numbering")
    }
    assert any(unescape(message) in unescape(weights[0]) for message in messages)
    for row in rows:  # every failure written out: no detail left blank
        assert "…" not in unescape(row.split('<span class="muted">Who:</span>')[0]), row


def test_the_students_table_has_the_first_thing_to_fix_and_both_views(triage):
    _, out, _ = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    table = block(board, "students")
    row = next(r for r in table.split("<tr") if ">hidden_delta_from_weight_grads</a>" in r)
    assert (
        "Hidden-layer delta" in row and 'href="hidden_delta_from_weight_grads/report.html"' in row
    )
    syntax = next(r for r in table.split("<tr") if ">syntax_error</a>" in r)
    assert '<a href="#not-loaded">Did not load: SyntaxError while loading</a>' in syntax
    assert (
        'id="filter"' in board
    )  # the filter box (tried in a browser in test_pages_in_a_browser.py)


def test_a_run_with_hidden_cases_says_so_and_one_without_says_it_did_not(triage, tmp_path):
    completed, out, spec = triage
    printed = " ".join(completed.stdout.split())
    assert (
        "secret: read from $GRADER_SECRET; hidden cases ran" in printed
        and TEST_SECRET not in completed.stdout + completed.stderr
    )
    board = (out / "index.html").read_text(encoding="utf-8")
    assert "<strong>Hidden cases ran</strong>" in board
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(SUBMISSIONS / "correct_scalar.py", folder / "correct_scalar.py")
    public = run_grader("grade", str(folder), "--out", str(tmp_path / "out"), "--spec", str(spec))
    assert public.returncode == 0, public.stdout + public.stderr
    assert "secret:" not in public.stdout and "No secret" in public.stdout
    without = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<strong>No hidden cases ran</strong>" in without and "Hidden cases ran" not in without


def test_grades_csv_has_points_per_check_and_the_diagnoses_and_stays_text(triage):
    _, out, spec = triage
    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {
        "'" + FORMULA if i == FORMULA else i for i in ids(out)
    }  # the formula is kept as text
    for student in ids(out):
        data, row = grading(out, student), rows["'" + FORMULA if student == FORMULA else student]
        for check in data["checks"]:
            assert float(row[check["check"]]) == check["score"]
        assert row["diagnoses"].split() == list(
            dict.fromkeys(d["id"] for c in data["checks"] for d in c["diagnoses"])
        )
        assert row["status"].startswith("did not load") == (student in NOT_LOADING)
    assert rows["hidden_delta_from_weight_grads"]["diagnoses"]


def test_a_call_not_made_after_a_timeout_names_the_call_that_hung(triage):
    _, out, _ = triage
    checks = {c["check"]: c for c in grading(out, "infinite_loop")["checks"]}
    hung = next(
        c for c in checks.values() if c["status"] == "timeout" and "not called" not in c["message"]
    )
    skipped = [c for c in checks.values() if "not called" in c["message"]]
    assert skipped, "infinite_loop's later calls of the hanging function are not made"
    for check in skipped:
        assert (
            f"an earlier call, {hung['call']} on the given case, did not return" in check["message"]
        )


def test_the_self_check_says_in_a_students_words_that_hidden_cases_come_at_hand_in(triage):
    _, _, spec = triage
    completed = run_grader("check", str(SUBMISSIONS / "correct_scalar.py"), "--spec", str(spec))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert {c.hidden_cases for c in load_spec(spec).checks} == {1}
    said = " ".join(completed.stdout.split())
    assert "When you hand in, hidden cases with other inputs are checked too." in said
    assert "hidden case for each" not in said and "sandbox:" not in said


def test_the_grade_table_is_one_line_per_student_at_80_columns_then_a_summary(triage):
    """Sorted highest score first (the lowest stay in view above the closing line), in the staff's
    words, closed by one line as pytest's; the progress of a piped run is one line per hand-in."""
    completed, out, _ = triage
    lines = completed.stdout.splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("submission "))
    students = ids(out)
    rows = lines[header + 1 : header + 1 + len(students)]
    assert max(len(line) for line in lines[header:]) <= 80
    data = {student: grading(out, student) for student in students}
    shown = [row.split()[0] for row in rows]
    scores = [
        next(d["score"] for i, d in data.items() if i.startswith(s.rstrip("…"))) for s in shown
    ]
    assert scores == sorted(scores, reverse=True) and len(set(shown)) == len(students)
    assert not any(line.startswith(tuple(students)) for line in lines[header + 1 + len(students) :])
    for student in NOT_LOADING - {"infinite_loop_at_import"}:  # a syntax error: did not load
        row = next(r for r in rows if r.startswith(student + " "))
        assert "did not load: SyntaxError" in row and "Your submission" not in row
    full = sum(d["score"] == d["max_score"] for d in data.values())
    flagged = sum(any(r["outcome"] == "flag" for r in d["rules"]) for d in data.values())
    mean = sum(d["score"] for d in data.values()) / len(data)
    closing = lines[-1].strip("= ")
    assert closing.startswith(f"{len(students)} graded, {full} full marks, ")
    assert f"mean {mean:.1f}/" in closing, closing
    assert (f"{flagged} flagged" in closing) if flagged else ("flagged" not in closing), closing
    assert f"{len(NOT_LOADING)} not loaded" in closing
    progress = [line for line in completed.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == len(students) and all(len(line) <= 80 for line in progress)


def test_the_one_table_gives_each_student_their_scores_and_first_thing_to_fix(triage):
    """Autograded, per part, written and total in one row, and what to fix first: the one cause
    and what it costs for who lost points, "full marks" for who did not."""
    _, out, spec = triage
    board = (out / "index.html").read_text(encoding="utf-8")
    table = block(board, "students")
    rows = {
        unescape(re.search(r'<td class="who"[^>]*><a href="[^"]+">([^<]+)</a>', row).group(1)): row
        for row in table.split("<tr")[2:]
    }
    assert set(rows) == set(ids(out))
    questions = load_spec(spec).questions
    for student, row in rows.items():
        record = grading(out, student)
        scores = re.findall(r'<span class="score">([^<]+)</span>', row)
        assert scores[0] == f"{record['score']:g} / {record['max_score']:g}", student
        assert len(scores) == 1 + 2 + (1 if questions else 0) + 1  # autograded, parts, marks
        fix = unescape(re.search(r'<td class="fix"[^>]*>(.*?)</td>', row).group(1))
        if student in NOT_LOADING:
            assert "Did not load" in fix
        elif record["score"] < record["max_score"]:
            assert re.search(r"\(\d+ checks?, [\d.]+ points?", fix), (student, fix)
        else:
            assert "full marks" in fix
    assert "Hidden-layer delta built from the output-weight gradients (" in unescape(
        rows["hidden_delta_from_weight_grads"]
    )

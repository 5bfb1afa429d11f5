"""Shared wrong answers and similar code, for staff: a class of the course's linear-layer
homework built to hold a copied pair (renamed variables, reordered lines), one hand-in
submitted under two ids, independent students who make one uncatalogued mistake in their own
code and two who make a catalogued one, graded by the real `grade` with hidden cases."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from bench.integrity import write_class
from grader.course.integrity import LEADS_PAGE, PAIR_PAGES, common_above
from tests.conftest import TEST_SECRET, course_assignment, run_grader

INDEPENDENT = 5  # more than common_above(10): their shared wrong answer is a common one


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    _, env = course_assignment(tmp_path_factory.mktemp("course"))
    folder = tmp_path_factory.mktemp("class")
    truth = write_class(folder, pairs=1, independent=INDEPENDENT, catalogued=2)
    hand_ins = len(list(folder.glob("*.py")))
    assert INDEPENDENT > common_above(hand_ins)
    out = tmp_path_factory.mktemp("out")
    completed = run_grader(
        "grade", str(folder), "--assignment", "linmse", "--out", str(out),
        secret=TEST_SECRET, env=env,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed, out, truth, env


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    following = page.find("<h2", start + 1)
    return page[start : following if following > 0 else len(page)]


def test_grade_says_where_the_leads_are_and_that_they_are_no_verdict(graded):
    completed, out, _, _ = graded
    said = " ".join(completed.stdout.split())
    assert "Shared wrong answers (staff only, a lead, never a verdict): 2 pairs" in said
    assert str(out / LEADS_PAGE) in said
    page = _text((out / LEADS_PAGE).read_text())
    assert "never a verdict" in page and "Nothing on this page changes a score" in page
    assert f'href="{LEADS_PAGE}"' in (out / "index.html").read_text()  # linked from the dashboard


def test_the_copied_pair_and_the_resubmission_come_first_and_no_independent_student_is_accused(
    graded,
):
    _, out, truth, _ = graded
    page = (out / LEADS_PAGE).read_text()
    similar = _section(page, "similar")
    listed = [frozenset(pair) for pair in re.findall(r'id="lead-([^"]+?)--([^"]+)"', similar)]
    assert set(listed) == truth["copied"] | truth["identical"]
    assert listed[0] in truth["identical"]  # identical code ranks first, said as such
    assert "identical code" in _text(_section(page, "similar"))
    everywhere = _text(_section(page, "similar") + _section(page, "different"))
    assert not [student for student in truth["independent"] if student in everywhere]


def test_an_uncatalogued_mistake_many_make_is_counted_common_and_a_catalogued_one_left_out(graded):
    _, out, _, _ = graded
    page = (out / LEADS_PAGE).read_text()
    common = _text(_section(page, "common"))
    assert f"np-db hidden-1 {INDEPENDENT}" in common  # db the batch mean, on every case
    assert "np-dw" not in common  # the gradients of the sum: the catalogue names it
    summary = _text(page)
    catalogued = re.search(r"Left out as common: (\d+) wrong answers a catalogued mistake", summary)
    assert catalogued and int(catalogued.group(1)) > 0


def test_the_pair_page_marks_the_matching_passages_of_both_hand_ins(graded):
    _, out, truth, _ = graded
    [pair] = truth["copied"]
    original, copy = sorted(pair, key=lambda name: "copy" in name)
    [path] = out.glob(f"{PAIR_PAGES}*{original[:7]}*.html")
    page = path.read_text()
    columns = page.split("<h2>")[1:]
    assert len(columns) == 2
    for column in columns:
        marked = "".join(re.findall(r"<mark>(.*?)</mark>", column, re.DOTALL))
        assert len(marked) > 200, "most of the copied code is marked"
    assert "upstream_grad" in _text(columns[1]) or "upstream_grad" in _text(columns[0])
    assert "For staff only" in page


def test_nothing_of_it_reaches_a_students_page_or_results(graded):
    _, out, truth, _ = graded
    students = {s for pair in truth["copied"] for s in pair}
    for student in students:
        for name in ("report.html", "results.json"):
            text = (out / student / name).read_text()
            assert LEADS_PAGE not in text and "Shared wrong answers" not in text
            assert not [other for other in students - {student} if other in text]


def test_the_similar_command_writes_the_same_leads_again(graded):
    _, out, _, env = graded
    page = out / LEADS_PAGE
    before = _section(page.read_text(), "similar")
    page.unlink()
    completed = run_grader("similar", str(out), env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 pairs share wrong answers few others give" in " ".join(completed.stdout.split())
    assert _section(page.read_text(), "similar") == before


def test_a_class_of_one_has_nothing_to_compare(graded, tmp_path):
    _, _, _, env = graded
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "alone.py").write_text("x = 1\n")  # defines no entry point
    out = tmp_path / "out"
    completed = run_grader(
        "grade", str(folder), "--assignment", "linmse", "--out", str(out), env=env
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "fewer than two hand-ins: nothing to compare" in " ".join(completed.stdout.split())
    assert "nothing to compare" in _text((out / LEADS_PAGE).read_text())
    assert json.loads((out / "alone" / "grading.json").read_text())["score"] == 0

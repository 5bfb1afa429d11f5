"""Can one submission stop the class?  Every renderer over any number, each submission's
outputs failing for it alone, ids that never take the class files' names, and links
that are never followed.

The renderers are fed the extremes of a float (±1e308, the largest float, 5e-324,
-0.0, nan, ±inf), integers past a float, and lists empty or 100 000 long, fixed
and drawn at random (a seeded generator).  One run of the real CLI, twice with the
run cache on, grades a small folder holding tests/hostile files under colliding
names, links out of the folder and one correct submission.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from grader.core.cases import draw_cases
from grader.core.expected import expected_values
from grader.core.spec import load_spec
from grader.course.gradebook import open_gradebook
from grader.engine.compare import judge
from grader.engine.discover import Submission
from grader.engine.execute import LoadReport
from grader.engine.score import CheckResult, SubmissionResult
from grader.outputs import charts, html, report, terminal
from grader.outputs.charts import curve_chart, histogram
from grader.outputs.views import student_view
from tests.conftest import REPO, SUBMISSIONS, TEST_SECRET, run_grader

HOSTILE = REPO / "tests" / "hostile"
LARGEST = sys.float_info.max
EXTREMES = (
    1e308,
    -1e308,
    LARGEST,
    -LARGEST,
    5e-324,
    -5e-324,
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    1.0,
    0.25,
)
NOT_FLOATS = (10**400, -(10**400), "text", None, True)


def curves():
    """Loss curves no training gives, and some it does."""
    yield []
    for value in EXTREMES:
        yield [value]
        yield [value] * 50
    yield [
        1e308 * (1 - i / 100) for i in range(50)
    ]  # the curve of tests/hostile/huge_but_finite_loss_curve.py
    yield [float(v) for v in np.geomspace(1e-320, 1e308, 1000)]
    yield [0.1] * 100_000
    rng = np.random.default_rng(20240612)
    for _ in range(400):
        yield [EXTREMES[i] for i in rng.integers(0, len(EXTREMES), rng.integers(0, 9))]


def _finite_numbers(text: str) -> list[float]:
    numbers = [float(n) for n in re.split(r"[ ,]", text) if n]
    assert all(math.isfinite(n) for n in numbers), text
    return numbers


def test_the_loss_chart_is_drawn_for_any_numbers():
    """Is every chart's geometry finite and inside the picture, whatever the curves hold?"""
    every = list(curves())
    rng = np.random.default_rng(7)
    for observed, expected in zip(every, every[1:] + every[:1]):
        compared = [bool(c) for c in rng.integers(0, 2, max(len(observed), len(expected)))]
        parts_at = int(rng.integers(0, len(observed) + 2))
        chart = curve_chart(
            observed + list(NOT_FLOATS[:2]), expected, compared + [True, True], parts_at=parts_at
        )
        difference = chart.difference
        if (
            difference is not None
        ):  # |submitted - reference| under the curves: inside its own picture
            points = [
                n for segment in difference.line.segments for n in _finite_numbers(segment)
            ] + [n for dot in difference.line.dots for n in dot]
            assert all(0 <= n <= difference.width for n in points[0::2]) and all(
                0 <= n <= difference.height for n in points[1::2]
            ), (observed, expected)
            assert all(
                difference.top - 0.5 <= t.position <= difference.bottom + 0.5
                for t in difference.y_ticks
            )
        assert chart.parts_at is None or chart.left <= chart.parts_at.position <= chart.right
        for tick in chart.x_ticks + chart.y_ticks:
            assert 0 <= tick.position <= max(chart.width, chart.height), (observed, expected, tick)
        for band in chart.bands:
            assert chart.left <= band.x <= chart.right and 0 < band.width <= chart.width
        for line in chart.lines:
            assert (
                sum(len(segment.split()) for segment in line.segments) + len(line.dots)
                <= 2 * charts.MAX_POINTS
            )
            points = [n for segment in line.segments for n in _finite_numbers(segment)] + [
                n for dot in line.dots for n in dot
            ]
            assert all(0 <= n <= chart.width for n in points), (observed, expected)
        assert chart.caption.startswith(f"{chart.steps} step")


def test_the_histogram_counts_any_totals():
    for max_score in (*EXTREMES, 41.0, *NOT_FLOATS[:2]):
        scores = [*EXTREMES, *NOT_FLOATS[:2], 41.0, 3.0]
        drawn = histogram(scores, max_score)
        assert sum(bar.count for bar in drawn.bars) == sum(
            1 for s in scores if not math.isnan(charts.as_float(s))
        )
        for bar in drawn.bars:
            assert all(math.isfinite(v) for v in (bar.x, bar.y, bar.width, bar.height)), (
                max_score,
                bar,
            )
        assert histogram([], max_score).bars


def test_numbers_are_formatted_whatever_they_are():
    for value in (*EXTREMES, *NOT_FLOATS):
        for text in (
            html.format_number(value),
            html.error_size(value),
            html.format_number(value, "g"),
        ):
            assert isinstance(text, str) and text
    for value in EXTREMES:
        if math.isfinite(value):
            assert float(html.format_number(value)) == pytest.approx(value, rel=1e-5)
        else:
            assert html.format_number(value) == str(value)
    assert html.format_number(10**400) == "inf" and html.format_number(None) == "—"


@pytest.fixture(scope="module")
def two_checks():
    """A gradient check and a 50-epoch loss-curve check, with their reference values."""
    full = load_spec()
    spec = dataclasses.replace(
        full, checks=tuple(full.check(i) for i in ("np-gradients", "np-train-lr1-50-curve"))
    )
    return spec, expected_values(spec, draw_cases(spec, b"a-secret-of-this-test"))


def _result(spec, items, fill, submission_id="alice") -> SubmissionResult:
    checks = []
    for check in spec.checks:
        verdicts = tuple(
            judge(check, item, fill(item.value.copy()))
            for item in items
            if item.check_id == check.id
        )
        checks.append(CheckResult(check, verdicts, f"{check.entry}(x, y, w)"))
    return SubmissionResult(
        Submission(submission_id, Path(f"{submission_id}.py"), "python"),
        tuple(checks),
        spec.questions,
        LoadReport("ok"),
    )


def test_every_renderer_takes_extreme_values(two_checks, tmp_path):
    """The report page (both views), results.json, grading.json, grades.csv, the tables and the dashboard."""
    spec, items = two_checks
    fills = [lambda v, e=e: np.full_like(v, e) for e in EXTREMES]
    fills += [
        lambda v, i=i: np.array(
            [EXTREMES[k] for k in np.random.default_rng(i).integers(0, len(EXTREMES), v.size)]
        ).reshape(v.shape)
        for i in range(12)
    ]
    fills.append(lambda v: v * 1e308 / np.max(np.abs(v)))
    results = [_result(spec, items, fill, f"s{number}") for number, fill in enumerate(fills)]
    for result in results:
        for view in (result, student_view(result)):
            assert "could not draw" not in html.render_report(view, spec)
        json.dumps(
            report.gradescope_results(result, spec.hidden_visibility, output_format="html"),
            allow_nan=False,
        )
        assert report.write_outputs(result, spec, tmp_path / result.submission.id) == []
        for page in html.PAGES.values():
            assert "could not draw" not in (tmp_path / result.submission.id / page).read_text()
    with open_gradebook(
        tmp_path / "gradebook.sqlite"
    ) as book:  # grades.csv is drawn from the gradebook
        book.record_run(spec.name, spec, results, hidden=False)
        report.write_grades_csv(book, spec.name, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(encoding="utf-8-sig") as handle:
        assert [row["id"] for row in csv.DictReader(handle)] == [r.submission.id for r in results]
    console = Console(file=io.StringIO(), width=200)
    console.print(terminal.summary_table(results))
    for result in results:
        console.print(terminal.check_table(result))
    assert "could not draw" not in html.write_dashboard(results, spec, tmp_path).read_text()


def test_a_report_that_cannot_be_drawn_costs_that_submission_only(
    two_checks, tmp_path, monkeypatch
):
    """A renderer that raises: does the page say so, and is results.json still valid JSON?"""
    spec, items = two_checks

    def broken(*arguments, **keywords):
        raise OverflowError("a renderer that is not total")

    monkeypatch.setattr(html, "curve_chart", broken)
    result = _result(spec, items, lambda v: v)
    folder = tmp_path / "pages"
    failures = report.write_outputs(result, spec, folder)
    assert failures == []  # each file drew, a plainer way where needed
    for view, page in html.PAGES.items():
        text = (folder / page).read_text()
        assert "could not draw this report" in text and "OverflowError" in text
        assert ("not total" in text) == (
            view == "instructor"
        )  # the student's view names the exception's type only
    results = json.loads((folder / "results.json").read_text())
    assert {test["output_format"] for test in results["tests"]} == {"html", "text"}
    assert json.loads((folder / "grading.json").read_text())["score"] == result.score
    scored = dataclasses.replace(
        result,
        checks=tuple(
            dataclasses.replace(c, check=dataclasses.replace(c.check, points=math.inf))
            for c in result.checks
        ),
    )
    failures = report.write_outputs(scored, spec, tmp_path / "infinite")
    assert [f.split(":")[0] for f in failures] == ["results.json"]
    assert json.loads((tmp_path / "infinite" / "results.json").read_text())["tests"] == []


# ------------------------------------------------------------------ the real CLI on a small class

MARKER = "text-of-a-file-outside-the-submissions-7d41"


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    """(first run, second run with the cache, output folder, the folder's mode before)."""
    root = tmp_path_factory.mktemp("class-outputs")
    batch, outside, out, cache = root / "batch", root / "outside", root / "out", root / "cache"
    for folder in (batch, outside, out):
        folder.mkdir()
    (outside / "notes.py").write_text(f'print("{MARKER}")\nANSWER = "{MARKER}"\n')
    shutil.copy(SUBMISSIONS / "correct_scalar.py", batch / "correct_scalar.py")
    shutil.copy(HOSTILE / "huge_but_finite_loss_curve.py", batch / "huge_but_finite_loss_curve.py")
    shutil.copy(HOSTILE / "named_like_grades_csv.py", batch / "grades.csv.py")
    shutil.copy(
        HOSTILE / "named_like_index_html.py", batch / "Index.HTML.py"
    )  # the same name to a disk that ignores case
    (batch / "links_out_of_the_submissions_folder.py").symlink_to(outside / "notes.py")
    (batch / "links_out_of_the_submissions_folder").symlink_to(outside, target_is_directory=True)
    inner = batch / "folder_with_links_inside"
    inner.mkdir()
    shutil.copy(SUBMISSIONS / "correct_scalar.py", inner / "backprop.py")
    (inner / "notes.py").symlink_to(outside / "notes.py")
    (inner / "more").symlink_to(outside, target_is_directory=True)
    mode = stat.S_IMODE(out.stat().st_mode)
    arguments = ("grade", str(batch), "--out", str(out), "--cache", str(cache), "--jobs", "2")
    first = run_grader(*arguments, secret=TEST_SECRET)
    second = run_grader(*arguments, secret=TEST_SECRET)
    return first, second, out, mode


def _statuses(out: Path, submission_id: str) -> dict[str, str]:
    return {
        check["check"]: check["status"]
        for check in json.loads((out / submission_id / "grading.json").read_text())["checks"]
    }


def test_the_class_is_graded_and_its_outputs_written_twice(small_class):
    """Exit 0, grades.csv and index.html, each submission's folder, and the folder not left private; a re-grade from the cache too."""
    first, second, out, mode = small_class
    for run in (first, second):
        assert run.returncode == 0, run.stderr[-3000:]
    assert "were not run again" in second.stdout
    assert (out / "grades.csv").is_file() and (out / "index.html").is_file()
    with (out / "grades.csv").open(encoding="utf-8-sig") as handle:
        ids = {row["id"] for row in csv.DictReader(handle)}
    expected = {
        "correct_scalar",
        "huge_but_finite_loss_curve",
        "grades.csv-2",
        "Index.HTML-2",
        "folder_with_links_inside",
    }
    assert ids == expected == {p.name for p in out.iterdir() if p.is_dir()}
    assert stat.S_IMODE(out.stat().st_mode) == mode


def test_a_huge_but_finite_loss_curve_fails_its_losses_and_is_drawn(small_class):
    _, _, out, _ = small_class
    quantities = {check.id: check.quantity for check in load_spec().checks}
    correct, huge = _statuses(out, "correct_scalar"), _statuses(out, "huge_but_finite_loss_curve")
    assert set(correct.values()) == {"passed"}
    assert huge == {
        check: "failed" if quantities[check] in ("loss", "loss_curve") else "passed"
        for check in correct
    }
    page = (out / "huge_but_finite_loss_curve" / "report.html").read_text()
    assert "could not draw" not in page and page.count("<svg") >= sum(
        q == "loss_curve" for q in quantities.values()
    )
    assert "1e+308" in page


def test_colliding_ids_are_renamed_and_announced(small_class):
    first, _, out, _ = small_class
    said = " ".join(first.stdout.split())
    assert (
        "renamed grades.csv.py is graded as grades.csv-2: 'grades.csv' is the name of a file the grader writes"
        in said
    )
    assert (
        "renamed Index.HTML.py is graded as Index.HTML-2: 'Index.HTML' is the name of a file the grader writes"
        in said
    )
    board = (out / "index.html").read_text()
    assert (
        "grades.csv.py is graded as grades.csv-2" in board
        and "Index.HTML.py is graded as Index.HTML-2" in board
    )
    for renamed in ("grades.csv-2", "Index.HTML-2"):
        assert _statuses(out, renamed)["np-forward-output"] == "passed"


def test_links_are_never_followed(small_class):
    """A link in the folder is skipped with a message; a link inside a folder submission is not read."""
    first, _, out, _ = small_class
    said = " ".join(first.stdout.split())
    for name in ("links_out_of_the_submissions_folder.py", "links_out_of_the_submissions_folder"):
        assert f"skipped {name}: a symbolic link: links are not followed" in said
    assert set(_statuses(out, "folder_with_links_inside").values()) == {"passed"}
    grading = json.loads((out / "folder_with_links_inside" / "grading.json").read_text())
    assert MARKER not in json.dumps(grading)
    for path in out.rglob("*"):
        if path.is_file():
            assert MARKER not in path.read_text(errors="replace"), path
    assert MARKER not in first.stdout + first.stderr


def test_on_gradescope_a_huge_but_finite_loss_curve_still_gets_its_results(tmp_path):
    """The container's path: a valid results.json with this submission's own score, not the grader's failure."""
    import jsonschema

    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    shutil.copy(HOSTILE / "huge_but_finite_loss_curve.py", root / "submission" / "homework.py")
    completed = run_grader("gradescope", "--root", str(root))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(
        results,
        json.loads(
            (Path(html.__file__).parents[1] / "gradescope" / "gradescope_schema.json").read_text()
        ),
    )
    quantities = {check.id: check.quantity for check in load_spec().checks}
    status = {test["extra_data"]["check"]: test["status"] for test in results["tests"]}
    assert status == {
        check: "failed" if quantity in ("loss", "loss_curve") else "passed"
        for check, quantity in quantities.items()
    }
    assert all(test["output"] for test in results["tests"])

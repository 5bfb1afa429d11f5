"""Do the pages read well in a real browser: at phone width, on paper, and with numbers and curves that say something?

One `grade` run of the real CLI (the full spec, hidden cases on) over the hidden-delta
hand-in, whose 1000-epoch curve is off at 999 epochs and whose zero-weights gradients
are expected to be exactly 0 where it returns non-zero values, a correct hand-in and the
published two-file hand-in graded free-form; none of them holds a written answer.
The pages are opened in headless Chromium; a probe script, put in a copy of a page
before its Content-Security-Policy, measures the layout and writes what it found into
the DOM that Chromium dumps.

The class dashboard is measured on a class of 52: the bundled hand-ins graded through the
grader's own API (their runs read back from the cache the session's `grade` of the bundled
class filled), each recorded under two or three names in a gradebook, as `grade` records a
run.  The endless loop is left out: a run that timed out is never cached, and would cost
its time limit again.  The page is opened in frames 1280 and 390 px wide, so that its own
media rules see those widths (a window of --dump-dom is at least 500 px wide).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

import pytest
from markupsafe import escape

from grader.core.spec import load_spec
from grader.course.gradebook import open_gradebook
from grader.engine.cache import default_cache_dir
from grader.engine.compare import element_names
from grader.engine.discover import discover_submissions
from grader.engine.pipeline import grade_class, open_session
from grader.outputs import html, report
from grader.outputs.html import PRINTED_ROWS, format_number
from tests.conftest import SUBMISSIONS, TEST_SECRET, grading, run_grader

CHROMIUM = next(
    (
        shutil.which(name)
        for name in ("chromium", "chromium-browser", "google-chrome")
        if shutil.which(name)
    ),
    None,
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

MISTAKE = "hidden_delta_from_weight_grads"
CURVE = "np-train-lr5-1000-curve"  # 1000 epochs
ZEROS = "np-zero-init-gradients"  # some gradients are exactly 0 there
FREEFORM = "freeform_published"  # two scripts, without the template's entry points
CORRECT = "correct_scalar"
PRINTED_PAGES = 10  # "a few": the page printed 16 before it had print rules, the instructor's 32
TALLEST = (
    6000  # CSS px at 1280 px: the hidden-delta page was 16,382 when each hidden case had a block
)
FREEFORM_RATIO = (
    1.2  # the free-form page against the correct template hand-in's (24,272 against 5,417)
)

# Measures, once the page is laid out: header cells of value tables past the right edge, and
# the smallest drawn size (CSS pixels) of a chart's visible label, every fold opened.
# Headless Chromium lays out --dump-dom pages at least 500 px wide (its screenshots at 400 px
# are 400): the probe narrows the page itself to 400 px, inside the phone rules (max-width 600px).
LAYOUT_PROBE = """<head><script>addEventListener('load', function () {
  document.documentElement.style.width = '400px';
  document.querySelectorAll('details').forEach(function (fold) { fold.open = true; });  // as a reader opens them
  var width = document.documentElement.getBoundingClientRect().width, clipped = 0, measured = 0, smallest = 1e9;
  document.querySelectorAll('table.values th').forEach(function (cell) {
    if (cell.offsetParent === null || getComputedStyle(cell).display === 'none') { return; }
    measured += 1;
    if (cell.getBoundingClientRect().right > width + 0.5) { clipped += 1; }
  });
  var labels = 0;
  document.querySelectorAll('svg.chart text').forEach(function (text) {
    var svg = text.ownerSVGElement, matrix = svg.getScreenCTM();
    if (!matrix || svg.getBoundingClientRect().width === 0 || getComputedStyle(text).display === 'none') { return; }
    labels += 1;
    smallest = Math.min(smallest, parseFloat(getComputedStyle(text).fontSize) * matrix.a);
  });
  document.body.setAttribute('data-layout', [Math.round(width), measured, clipped, labels, smallest.toFixed(2)].join(' '));
});</script>"""
# The phone rules undone: chart labels at their desktop size, value tables at their natural width.
UNFIXED = (
    "<style>svg.chart text { font-size: 12px !important; } table.values { width: auto !important; table-layout: auto !important;"
    " font-size: 1rem !important; } table.values td, table.values th { padding: .25rem .6rem !important; overflow-wrap: normal !important; }"
    " table.values .state { display: table-cell !important; }</style>"
)
# The page's height; where the note of missing written answers is; and the text of the first failing
# check as a reader sees it without opening anything (what a closed <details> holds taken out).
PAGE_PROBE = """<head><script>addEventListener('load', function () {
  var body = document.body, first = document.querySelector('section.check:not(.passed)');
  body.setAttribute('data-height', document.documentElement.scrollHeight);
  var note = document.getElementById('written-missing');
  body.setAttribute('data-written-at', note ? Math.round(note.getBoundingClientRect().top) : -1);
  if (first) {
    var copy = first.cloneNode(true);
    copy.querySelectorAll('details:not([open]) > :not(summary)').forEach(function (e) { e.remove(); });
    body.setAttribute('data-first', first.id.replace('check-', ''));
    body.setAttribute('data-first-text', copy.textContent.replace(/\\s+/g, ' '));
  }
});</script>"""
FILTER_PROBE = """<head><script>addEventListener('load', function () {
  var box = document.getElementById('filter');
  box.value = 'HIDDEN delta'; box.dispatchEvent(new Event('input'));
  var shown = Array.prototype.filter.call(document.querySelectorAll('#students tbody tr'), function (row) { return !row.hidden; });
  document.body.setAttribute('data-shown', shown.map(function (row) { return row.cells[0].querySelector('a').textContent.trim(); }).join(','));
  box.value = ''; box.dispatchEvent(new Event('input'));
  document.body.setAttribute('data-all', document.querySelectorAll('#students tbody tr:not([hidden])').length);
});</script>"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    folder = root / "class"
    folder.mkdir()
    for name in (MISTAKE, CORRECT):
        shutil.copy(SUBMISSIONS / f"{name}.py", folder / f"{name}.py")
    shutil.copytree(SUBMISSIONS / FREEFORM, folder / FREEFORM)
    out = root / "out"
    completed = run_grader(
        "grade", str(folder), "--out", str(out), "--jobs", "2", secret=TEST_SECRET
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out, root


def probed(page: Path, probe: str, name: str, style: str = "") -> Path:
    """A copy of `page` beside it with `probe` (and `style`) first in its head."""
    copy = page.with_name(name)
    copy.write_text(
        page.read_text(encoding="utf-8").replace("<head>", probe + style, 1), encoding="utf-8"
    )
    return copy


def chromium(profile: Path, *arguments: str) -> str:
    completed = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=90,
    )
    return completed.stdout


def section(page: str, check_id: str) -> str:
    start = page.rindex("<section", 0, page.index(f'id="check-{check_id}"'))
    return page[start : page.index("</section>", start)]


@pytest.fixture(scope="module")
def opened(pages):
    """Every browser run of the tests, at once: (the DOMs dumped, the files written)."""
    out, root = pages
    instructor, student = out / MISTAKE / "instructor.html", out / MISTAKE / "report.html"
    shots = root / "shots"
    shots.mkdir()
    runs = {
        "phone": (
            "--window-size=400,3000",
            "--dump-dom",
            probed(instructor, LAYOUT_PROBE, "phone.html").as_uri(),
        ),
        # the probe must be able to fail: the same page with the phone rules for chart labels undone
        "phone-unfixed": (
            "--window-size=400,3000",
            "--dump-dom",
            probed(instructor, LAYOUT_PROBE, "unfixed.html", UNFIXED).as_uri(),
        ),
        "filter": (
            "--dump-dom",
            probed(out / "index.html", FILTER_PROBE, "index-filter.html").as_uri(),
        ),
        "print": (
            f"--print-to-pdf={root / 'student.pdf'}",
            "--no-pdf-header-footer",
            student.as_uri(),
        ),
        "desktop-shot": (
            f"--screenshot={shots / 'desktop.png'}",
            "--window-size=1280,2400",
            student.as_uri(),
        ),
        "phone-shot": (
            f"--screenshot={shots / 'phone.png'}",
            "--window-size=400,2400",
            student.as_uri(),
        ),
    }
    for name, page in (
        ("mistake", student),
        ("mistake-instructor", instructor),
        ("correct", out / CORRECT / "report.html"),
        ("freeform", out / FREEFORM / "report.html"),
    ):
        runs[f"page-{name}"] = (
            "--window-size=1280,2000",
            "--dump-dom",
            probed(page, PAGE_PROBE, f"probed-{page.name}").as_uri(),
        )
    with ThreadPoolExecutor(3) as pool:
        doms = dict(
            zip(
                runs,
                pool.map(
                    lambda item: chromium(root / f"profile-{item[0]}", *item[1]), runs.items()
                ),
            )
        )
    return doms, root


def layout(dom: str) -> tuple[int, int, int, int, float]:
    width, measured, clipped, labels, smallest = (
        re.search(r'data-layout="([^"]+)"', dom).group(1).split()
    )
    return int(width), int(measured), int(clipped), int(labels), float(smallest)


def test_at_phone_width_the_error_columns_stay_on_screen_and_chart_labels_readable(opened):
    doms, root = opened
    width, measured, clipped, labels, smallest = layout(doms["phone"])
    assert width <= 400 and measured > 0 and labels > 0
    assert clipped == 0, (
        f"{clipped} of {measured} value-table headers past the right edge at {width} px"
    )
    assert smallest >= 11, f"a chart label is drawn at {smallest} px"
    _, _, clipped, _, smallest = layout(doms["phone-unfixed"])
    assert clipped > 0 and smallest < 11  # the measures see columns off screen and labels too small
    for shot in ("desktop.png", "phone.png"):
        assert (root / "shots" / shot).stat().st_size > 10_000


def test_a_report_prints_in_a_few_pages(opened):
    _, root = opened
    pdf = (root / "student.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 1 <= pages <= PRINTED_PAGES, f"the hidden-delta hand-in's page prints as {pages} pages"


def test_the_students_table_filters_as_one_types(opened):
    doms, _ = opened
    dom = doms["filter"]
    # every word, in any case: the two hand-ins with the hidden-delta mistake, template and free-form
    assert set(re.search(r'data-shown="([^"]*)"', dom).group(1).split(",")) == {MISTAKE, FREEFORM}
    assert re.search(r'data-all="(\d+)"', dom).group(1) == "3"


def test_a_long_curve_shows_its_difference_and_where_it_parts(pages):
    out, _ = pages
    grading = json.loads((out / MISTAKE / "grading.json").read_text(encoding="utf-8"))
    check = next(c for c in grading["checks"] if c["check"] == CURVE)
    case = check["cases"][0]
    names = element_names(load_spec().check(CURVE), (len(case["expected"]),))
    first = next(index for index, name in enumerate(names) if name in case["off"])
    assert (
        len(case["off"]) > 900
    )  # almost every epoch off, and on a linear axis the curves look alike
    page = section((out / MISTAKE / "instructor.html").read_text(encoding="utf-8"), CURVE)
    given = page[: page.index("hidden case 1")]
    assert 'class="chart difference"' in given and f"parts at epoch {first}" in given
    rows = re.findall(r'<tr class="off"><td class="mono">([^<]+)', given)
    assert (
        rows[0].strip() == names[first]
    )  # the table starts where the curves part, not at the worst epoch


def test_relative_error_where_the_expected_value_is_0_is_a_dash_and_no_number_is_minus_zero(pages):
    out, _ = pages
    grading = json.loads((out / MISTAKE / "grading.json").read_text(encoding="utf-8"))
    case = next(c for c in grading["checks"] if c["check"] == ZEROS)["cases"][0]
    assert (
        0.0 in case["expected"] and case["max_rel_error"] > 1e100
    )  # the data holds the huge ratio
    for name in ("instructor.html", "report.html"):
        page = (out / MISTAKE / name).read_text(encoding="utf-8")
        row = (
            r'<tr class="[^"]+"><td class="mono">[^<]*(?:<span[^>]*>[^<]*</span>)?</td>'
            + r'<td class="num mono">([^<]*)</td>' * 2
        )
        rows = re.findall(
            row + r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td>', section(page, ZEROS)
        )
        assert rows, name
        for _, expected, _, relative in rows:
            assert relative == "—" if expected == "0" else relative != "—"
        numbers = re.findall(r'<td class="num[^"]*">([^<]+)</td>', page)
        assert not [n for n in numbers if re.fullmatch(r"-0(\.0*)?", n)]
        assert not [
            n
            for n in numbers
            if re.search(r"e\+(\d+)", n) and int(re.search(r"e\+(\d+)", n).group(1)) > 50
        ]
        assert "e+305" not in unescape(section(page, ZEROS))


def test_gradescope_feedback_uses_no_css_class(pages):
    out, _ = pages
    for student in (MISTAKE, "correct_scalar"):
        results = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
        outputs = [results["output"], *(test["output"] for test in results["tests"])]
        assert all("class=" not in output for output in outputs), student
        assert any("Likely mistake" in output for output in outputs) or student != MISTAKE


def probe(dom: str, name: str) -> str:
    return unescape(re.search(rf'data-{name}="([^"]*)"', dom).group(1))


def page_order(grading: dict) -> list[dict]:
    """The checks in the order a page draws them: by part, then by experiment, as the spec lists them."""
    parts = list(dict.fromkeys(c["part"] for c in grading["checks"]))
    return sorted(grading["checks"], key=lambda c: (parts.index(c["part"]), c["experiment"]))


def test_the_hidden_delta_page_is_short_and_the_free_form_page_no_longer_than_a_correct_one(opened):
    doms, _ = opened
    heights = {
        name: int(probe(doms[f"page-{name}"], "height"))
        for name in ("mistake", "correct", "freeform")
    }
    assert heights["mistake"] <= TALLEST, heights
    assert heights["freeform"] <= FREEFORM_RATIO * heights["correct"], heights


@pytest.mark.parametrize("name", ["mistake", "mistake-instructor", "freeform"])
def test_the_first_failing_checks_values_and_cause_are_shown_without_opening_anything(
    pages, opened, name
):
    """Does the first failing check on the page show what it got, what was expected and its cause
    with every <details> closed?  Values and the mistake come from grading.json."""
    out, _ = pages
    doms, _ = opened
    student = FREEFORM if name == "freeform" else MISTAKE
    grading = json.loads((out / student / "grading.json").read_text(encoding="utf-8"))
    first = next(c for c in page_order(grading) if c["status"] != "passed")
    dom = doms[f"page-{name}"]
    assert probe(dom, "first") == first["check"]
    text = probe(dom, "first-text")
    if first["mode"] == "free-form":
        seen = next(o for o in first["observations"] if o["status"] == "wrong")
        got, want = seen["observed"][0], seen["expected"][0]
    else:
        case = next(c for c in first["cases"] if c["status"] != "passed" and not c["hidden"])
        names = element_names(load_spec().check(first["check"]), (len(case["expected"]),))
        index = next(i for i, element in enumerate(names) if element in case["off"])
        got, want = case["observed"][index], case["expected"][index]
    assert format_number(got) in text and format_number(want) in text, text
    assert first["diagnoses"] and first["diagnoses"][0]["title"] in text, text


def test_hidden_cases_are_one_line_and_paper_says_what_it_leaves_out(pages):
    out, _ = pages
    grading = json.loads((out / MISTAKE / "grading.json").read_text(encoding="utf-8"))
    page = (out / MISTAKE / "report.html").read_text(encoding="utf-8")
    first = next(c for c in page_order(grading) if c["status"] != "passed")
    hidden = [c for c in first["cases"] if c["hidden"]]
    words = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out"}
    line = " · ".join(f"{n} {words[c['status']]}" for n, c in enumerate(hidden, start=1))
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", section(page, first["check"]))).split())
    assert f"hidden cases: {line} — wrong value" in text
    assert "hidden case 1" not in text and page.count("only whether it passed") == 1
    given = next(c for c in first["cases"] if not c["hidden"])
    left_out = len(given["off"]) - PRINTED_ROWS
    assert left_out > 0 and f"+{left_out} more row{'s' if left_out != 1 else ''} off" in text


def test_missing_written_answers_are_said_at_the_top_and_marking_says_how_far_it_is(opened, pages):
    """No answer in the hand-in: the page says so near its top, with the points at stake, and
    nothing reads "not marked".  One question marked: "1 of n marked so far", not a total."""
    out, root = pages
    doms, _ = opened
    spec = load_spec()
    points = format_number(sum(q.points for q in spec.questions), "g")
    page = (out / MISTAKE / "report.html").read_text(encoding="utf-8")
    assert f"<strong>No written answers found:</strong> {points} points depend on them" in page
    assert "not marked" not in page and 'id="written-score"' not in page
    assert 0 < int(probe(doms["page-mistake"], "written-at")) < 1000
    marked = root / "marked"
    shutil.copytree(out, marked)
    question = spec.questions[0]
    sheet = root / "marks.csv"
    sheet.write_text(
        f"student,question,points,comment,marker\n{MISTAKE},{question.id},{question.points},,ta\n"
    )
    completed = run_grader("marks", "import", str(sheet), "--out", str(marked))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    page = (marked / MISTAKE / "report.html").read_text(encoding="utf-8")
    region = page.split("<!-- gradebook -->", 1)[1].split("<!-- /gradebook -->", 1)[0]
    assert f'id="written-score">1 of {len(spec.questions)} marked so far<' in region
    assert 'id="total-score"' not in region and f"{question.points:g} / " in region


def test_results_json_explains_each_mistake_once(pages):
    out, _ = pages
    results = json.loads((out / MISTAKE / "results.json").read_text(encoding="utf-8"))
    grading = json.loads((out / MISTAKE / "grading.json").read_text(encoding="utf-8"))
    text = "".join([results["output"], *(test["output"] for test in results["tests"])])
    mistakes = {d["id"]: d for c in grading["checks"] for d in c["diagnoses"]}
    shared = [
        m
        for m in mistakes.values()
        if sum(m["id"] in t["extra_data"]["diagnoses"] for t in results["tests"]) > 1
    ]
    assert shared, "a mistake that explains several checks"
    for mistake in mistakes.values():  # a paragraph once, and one that differs per check once each
        paragraphs = {
            d["explanation"]
            for c in grading["checks"]
            for d in c["diagnoses"]
            if d["id"] == mistake["id"]
        }
        for paragraph in paragraphs:
            assert text.count(str(escape(paragraph))) == 1, mistake["id"]
        assert text.count(f"Likely mistake: {escape(mistake['title'])}") == sum(
            mistake["id"] in t["extra_data"]["diagnoses"] for t in results["tests"]
        )  # named at every test it explains


# ------------------------------------------------------------------ the dashboard of a class of 52

CLASS_SIZE = 52
TALLEST = 6000  # px at 1280 px: the dashboard of 52 was 12,265 px and 15 printed pages
DASHBOARD_PAGES = 8
# In a page of frames (file pages may read each other with --allow-file-access-from-files): each
# frame's document height and width against its own width, and the scores drawn past the frame's
# edge, or past a box that scrolls or clips them.
FRAMES_PROBE = """<!doctype html><body>%s<script>
function measure(frame) {
  var d = frame.contentDocument, width = d.documentElement.clientWidth, scores = 0, cut = [];
  d.querySelectorAll('.score').forEach(function (score) {
    var box = score.getBoundingClientRect();
    if (box.width === 0) { return; }
    scores += 1;
    var clipped = box.right > width + 0.5 || score.scrollWidth > score.clientWidth + 1;
    for (var up = score.parentElement; up && !clipped; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') {
        var edge = up.getBoundingClientRect();
        clipped = box.right > edge.right + 0.5 || box.left < edge.left - 0.5;
      }
    }
    if (clipped) { cut.push(score.textContent.trim()); }
  });
  return [d.documentElement.scrollHeight, d.documentElement.scrollWidth, width, scores, cut.length].join(' ');
}
var frames = document.querySelectorAll('iframe'), left = frames.length, found = {};
frames.forEach(function (frame) { frame.addEventListener('load', function () {
  found[frame.id] = measure(frame); left -= 1;
  if (!left) { document.body.setAttribute('data-frames', JSON.stringify(found)); }
}); });
</script>"""
# The phone rules of the dashboard's tables undone: its rows laid out as a table again.
TABLES = (
    "<style>table.board { display: table !important; width: auto !important; } table.board thead"
    " { display: table-header-group !important; } table.board tbody { display: table-row-group"
    " !important; } table.board tr { display: table-row !important; } table.board td, table.board"
    " th { display: table-cell !important; width: auto !important; white-space: nowrap; }</style>"
)


@pytest.fixture(scope="module")
def class_of_52(graded_class, tmp_path_factory):
    """(the output folder of a class of 52, its results).  `graded_class` graded the bundled
    hand-ins with this spec and secret in this session, so their runs are in the cache."""
    out = tmp_path_factory.mktemp("class-of-52")
    spec = load_spec()
    found = discover_submissions(SUBMISSIONS).submissions
    bundled = tuple(s for s in found if s.id != "infinite_loop")
    with open_session(
        spec, TEST_SECRET.encode(), cache_dir=default_cache_dir(), warm=True, environ=os.environ
    ) as session:
        results = [graded.result for graded in grade_class(session, bundled, jobs=2)]
    named = [
        dataclasses.replace(
            result,
            submission=dataclasses.replace(
                result.submission, id=result.submission.id + (f"-{copy}" if copy > 1 else "")
            ),
        )
        for copy in (1, 2, 3)
        for result in results
    ][:CLASS_SIZE]
    with open_gradebook(out / "gradebook.sqlite") as book:  # as `grade` records its run
        book.record_run(spec.name, spec, named, hidden=True)
        html.write_dashboard(named, spec, out)
        report.refresh_class_outputs(out, book, spec.name)
    return out, named


def frames(page: Path, widths: dict[str, int], name: str) -> Path:
    """A page beside `page` holding it in one frame per width."""
    held = "".join(
        f'<iframe id="{id_}" src="{page.name}" width="{width}" height="800"></iframe>'
        for id_, width in widths.items()
    )
    framed = page.with_name(name)
    framed.write_text(FRAMES_PROBE % held, encoding="utf-8")
    return framed


@pytest.fixture(scope="module")
def measured_dashboard(class_of_52):
    """{frame: (height, width, frame width, scores, scores clipped)} and the printed pages."""
    out, _ = class_of_52
    board = out / "index.html"
    unfixed = probed(board, "<head>", "index-tables.html", TABLES)
    runs = {
        "frames": (
            "--allow-file-access-from-files",
            "--dump-dom",
            frames(board, {"wide": 1280, "narrow": 390}, "frames.html").as_uri(),
        ),
        "unfixed": (
            "--allow-file-access-from-files",
            "--dump-dom",
            frames(unfixed, {"narrow-unfixed": 390}, "frames-unfixed.html").as_uri(),
        ),
        "print": (f"--print-to-pdf={out / 'board.pdf'}", "--no-pdf-header-footer", board.as_uri()),
    }
    with ThreadPoolExecutor(3) as pool:
        doms = dict(
            zip(
                runs,
                pool.map(lambda item: chromium(out / f"profile-{item[0]}", *item[1]), runs.items()),
            )
        )
    found = {}
    for name in ("frames", "unfixed"):
        said = unescape(re.search(r'data-frames="([^"]*)"', doms[name]).group(1))
        found |= {frame: tuple(map(int, v.split())) for frame, v in json.loads(said).items()}
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", (out / "board.pdf").read_bytes()))
    print(f"dashboard of {CLASS_SIZE}: {found}, printed on {pages} pages")
    return found, pages


def test_the_dashboard_of_a_class_of_52_is_short_fits_a_phone_and_cuts_no_score(
    measured_dashboard,
):
    found, pages = measured_dashboard
    height, _, _, scores, clipped = found["wide"]
    assert height <= TALLEST and scores >= CLASS_SIZE and clipped == 0, found["wide"]
    height, width, frame, scores, clipped = found["narrow"]
    assert width <= frame == 390 and scores >= CLASS_SIZE and clipped == 0, found["narrow"]
    _, width, frame, _, clipped = found["narrow-unfixed"]
    assert width > frame or clipped > 0  # the measures see a table laid out too wide for the phone
    assert 1 <= pages <= DASHBOARD_PAGES, f"the dashboard of {CLASS_SIZE} prints on {pages} pages"


def free_form_and_not_loaded(board: str) -> tuple[set[str], set[str]]:
    """The students the dashboard lists as read free-form, and as not loaded."""

    def listed(anchor: str) -> set[str]:
        start = board.index(f'id="{anchor}"')
        part = board[start : board.index("<h2", start + 1)]
        return {
            unescape(n) for n in re.findall(r'<a href="[^"]+/instructor\.html">([^<]+)</a>', part)
        }

    return listed("free-form"), listed("not-loaded")


def test_no_hand_in_read_free_form_is_listed_as_not_loaded(graded_class, class_of_52):
    """On the dashboard of the session's `grade` of the bundled class and on the one of 52: is each
    hand-in graded free-form (its grading.json says so) under "Read free-form", with what was
    found of it, and under "Did not load" only those whose files did not load?"""
    _, out = graded_class
    students = [p.name for p in out.iterdir() if p.is_dir()]
    free = {s for s in students if any(c["mode"] == "free-form" for c in grading(out, s)["checks"])}
    assert len(free) >= 5
    board = (out / "index.html").read_text(encoding="utf-8")
    listed_free, listed_not_loaded = free_form_and_not_loaded(board)
    assert listed_free == free and not listed_free & listed_not_loaded
    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        status = {row["id"]: row["status"] for row in csv.DictReader(handle)}
    assert free == {s for s, said in status.items() if said == "read free-form"}
    assert listed_not_loaded == {s for s, said in status.items() if said.startswith("did not load")}
    entries = board[board.index('id="free-forms"') :].split("</ul>")[0].split("<li>")
    published = next(entry for entry in entries if ">freeform_published</a>" in entry)
    statuses: dict[str, set] = {}
    for observation in grading(out, "freeform_published")["observations"]:
        statuses.setdefault(observation["quantity"], set()).add(observation["status"])
    parts = re.split(r'class="found-(right|wrong|none)">', published.split('"muted hints"')[0])
    said = {kind: unescape(words) for kind, words in zip(parts[1::2], parts[2::2])}
    assert {"right", "wrong"} <= set(said)
    for quantity, found in statuses.items():  # each quantity once: wrong anywhere, else found
        kind = "wrong" if "wrong" in found else "right" if "right" in found else "none"
        assert unescape(quantity) in said[kind], (quantity, found)
        assert not any(unescape(quantity) in said[k] for k in said if k != kind), quantity
    big, named = class_of_52
    listed_free, listed_not_loaded = free_form_and_not_loaded(
        (big / "index.html").read_text(encoding="utf-8")
    )
    assert listed_free == {r.submission.id for r in named if html.read_free_form(r)}
    assert not listed_free & listed_not_loaded and listed_not_loaded

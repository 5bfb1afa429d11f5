"""Do the pages read well in a real browser: at phone width, on paper, and with numbers and curves that say something?

One `grade` run of the real CLI (the full spec, hidden cases on) over the hidden-delta
hand-in, whose 1000-epoch curve is off at 999 epochs and whose zero-weights gradients
are expected to be exactly 0 where it returns non-zero values, and a correct hand-in.
The pages are opened in headless Chromium; a probe script, put in a copy of a page
before its Content-Security-Policy, measures the layout and writes what it found into
the DOM that Chromium dumps.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

import pytest

from grader.core.spec import load_spec
from grader.engine.compare import element_names
from tests.conftest import SUBMISSIONS, TEST_SECRET, run_grader

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
PRINTED_PAGES = 10  # "a few": the page printed 16 before it had print rules, the instructor's 32

# Measures, once the page is laid out: header cells of value tables past the right edge, and
# the smallest drawn size (CSS pixels) of a chart's visible label.
# Headless Chromium lays out --dump-dom pages at least 500 px wide (its screenshots at 400 px
# are 400): the probe narrows the page itself to 400 px, inside the phone rules (max-width 600px).
LAYOUT_PROBE = """<head><script>addEventListener('load', function () {
  document.documentElement.style.width = '400px';
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
    for name in (MISTAKE, "correct_scalar"):
        shutil.copy(SUBMISSIONS / f"{name}.py", folder / f"{name}.py")
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
    assert re.search(r'data-shown="([^"]*)"', dom).group(1) == MISTAKE  # every word, in any case
    assert re.search(r'data-all="(\d+)"', dom).group(1) == "2"


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

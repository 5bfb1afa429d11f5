"""Do the HTML reports show each student what happened, safely, and give the instructor a dashboard?

One `grade` run of the real CLI (hidden cases on) over a small class built in a
temporary folder: two bundled submissions, the bundled notebook renamed to an id
with a comma and accents, and tests/hostile/prints_html_and_100mb_raises_html.py.
One `check` run gives the student view.  Expected values are read from what the
grader wrote (the reference's numbers), never typed here.  The browser test
opens the pages in headless Chromium where it is installed.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
from markupsafe import escape

from grader.core.cases import draw_cases
from grader.core.expected import expected_values
from grader.core.spec import load_spec
from grader.course.integrity import LEADS_PAGE
from grader.engine.compare import judge
from grader.engine.discover import Submission
from grader.engine.execute import LoadReport
from grader.engine.score import CheckResult, SubmissionResult
from grader.outputs import html, report, views
from tests.conftest import REPO, SUBMISSIONS, TEST_SECRET, grading, run_grader

HOSTILE = REPO / "tests" / "hostile" / "prints_html_and_100mb_raises_html.py"
ACCENTED = "müller, anna"  # an id with a comma and non-ASCII letters
SCHEMA = json.loads((REPO / "grader" / "gradescope" / "gradescope_schema.json").read_text())
TWO_MB = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    """(grade run, its output folder, check run, its output folder)."""
    root = tmp_path_factory.mktemp("small-class")
    submissions = root / "submissions"
    submissions.mkdir()
    for name in ("correct_scalar.py", "hidden_delta_from_weight_grads.py"):
        shutil.copy(SUBMISSIONS / name, submissions / name)
    shutil.copy(
        SUBMISSIONS / "correct_notebook_with_magics.ipynb", submissions / f"{ACCENTED}.ipynb"
    )
    shutil.copy(HOSTILE, submissions / HOSTILE.name)
    out, student = root / "out", root / "student"
    graded = run_grader(
        "grade", str(submissions), "--out", str(out), secret=TEST_SECRET, env={"COLUMNS": "120"}
    )
    checked = run_grader(
        "check",
        str(SUBMISSIONS / "hidden_delta_from_weight_grads.py"),
        "--out",
        str(student),
        secret=TEST_SECRET,
    )
    return graded, out, checked, student


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes, and the text of its scripts."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def section(page: str, check_id: str) -> str:
    start = page.rindex("<section", 0, page.index(f'id="check-{check_id}"'))
    return page[start : page.index("</section>", start)]


def results(out: Path, submission_id: str) -> dict:
    return json.loads((out / submission_id / "results.json").read_text(encoding="utf-8"))


def test_every_submission_gets_a_report_and_the_dashboard_links_to_each(small_class):
    graded, out, _, _ = small_class
    assert graded.returncode == 0, graded.stderr
    ids = {p.name for p in out.iterdir() if p.is_dir()}
    assert ACCENTED in ids and len(ids) == 4
    dashboard = (out / "index.html").read_text(encoding="utf-8")
    links = {unquote(href) for href in re.findall(r'href="([^"#]+)"', dashboard)}
    assert links == {f"{i}/{page}" for i in ids for page in ("report.html", "instructor.html")} | {
        LEADS_PAGE
    }  # the student's page and the instructor's; the staff's shared wrong answers
    assert all((out / link).is_file() for link in links)


def test_the_grade_table_is_one_line_per_student_at_120_columns_with_the_parts(small_class):
    """A header, one line per student with its points per part, the closing line last."""
    graded, out, _, _ = small_class
    lines = graded.stdout.splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("submission "))
    students = sorted((p.name for p in out.iterdir() if p.is_dir()), key=len, reverse=True)
    rows = lines[header + 1 : header + 1 + len(students)]
    assert all(row.startswith(tuple(students)) for row in rows) and len(rows) == len(students)
    assert not lines[header + 1 + len(students)].startswith(tuple(students))
    assert max(len(line) for line in lines) <= 120
    for part, score in grading(out, "hidden_delta_from_weight_grads")["parts"].items():
        assert f" {part} " in f" {lines[header]} "
        row = next(r for r in rows if r.startswith("hidden_delta_from_weight_grads "))
        assert f" {score['score']:g}/{score['max_score']:g} " in row
    assert lines[-1].startswith("=") and lines[-1].strip("= ").startswith(f"{len(students)} graded")


def test_every_bundled_submission_gets_a_report_linked_from_the_dashboard(graded_class):
    """The class of submissions/ (graded once for the whole session)."""
    _, out = graded_class
    ids = {p.name for p in out.iterdir() if p.is_dir()}
    links = {
        unquote(href)
        for href in re.findall(r'href="([^"#]+)"', (out / "index.html").read_text(encoding="utf-8"))
    }
    assert ids and links == {
        f"{i}/{page}" for i in ids for page in ("report.html", "instructor.html")
    } | {LEADS_PAGE}
    assert all(
        (out / i / page).stat().st_size > 0
        for i in ids
        for page in ("report.html", "instructor.html")
    )


def test_a_hostile_submission_gets_a_small_report_that_shows_its_html_as_text(small_class):
    """100 MB printed, <script> and <img onerror> in output and exception messages: under 2 MB, nothing live."""
    _, out, _, _ = small_class
    folder = out / HOSTILE.stem
    for page_name in ("report.html", "instructor.html"):
        assert (folder / page_name).stat().st_size < TWO_MB
        parsed = Tags((folder / page_name).read_text(encoding="utf-8"))
        assert [
            tag for tag, _ in parsed.tags if tag in ("img", "i", "iframe", "object", "embed")
        ] == []
        assert not [name for _, attrs in parsed.tags for name in attrs if name.startswith("on")]
        assert parsed.scripts == []  # a report runs no script at all
    assert "&lt;img src=x onerror=alert(&#39;forward&#39;)&gt;" in (
        folder / "report.html"
    ).read_text(encoding="utf-8")  # a public case's error
    page = (folder / "instructor.html").read_text(
        encoding="utf-8"
    )  # what it printed: the instructor's view only, hidden cases ran
    assert "&lt;script&gt;alert(&#39;stdout&#39;)&lt;/script&gt;" in page
    assert (
        "&lt;img src=x onerror=alert(&#39;forward&#39;)&gt;" in page
    )  # the exception message, escaped
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#39;stderr&#39;)" in page
    assert (
        "characters not shown" in page or "more bytes not kept" in page
    )  # the 100 MB were cut, and it says so
    for test in results(out, HOSTILE.stem)["tests"]:
        assert "<script" not in test["output"] and "<img" not in test["output"]


def test_nan_and_inf_are_shown_as_nan_and_inf(small_class):
    _, out, _, _ = small_class
    page = (out / HOSTILE.stem / "report.html").read_text(encoding="utf-8")
    gradients = section(page, "np-gradients")
    for value in ("nan", "inf", "-inf"):
        assert f'<td class="num mono">{value}</td>' in gradients
    assert "not finite" in gradients
    curve = section(page, "np-train-lr1-50-curve")
    assert (
        "<svg" in curve and ">nan</text>" in curve and ">inf</text>" in curve
    )  # bands on the chart
    assert "inf at epoch 10" in curve and "nan at epochs 20–49" in curve


def test_a_failed_call_shows_its_error_instead_of_a_chart(small_class):
    _, out, _, _ = small_class
    curve = section(
        (out / HOSTILE.stem / "report.html").read_text(encoding="utf-8"), "np-zero-init-curve"
    )
    assert "No curve to draw" in curve and "RuntimeError" in curve and "<svg" not in curve


def test_loss_curves_put_the_submission_over_the_reference_with_a_log_axis_where_it_helps(
    small_class,
):
    _, out, _, _ = small_class
    page = (out / "correct_scalar" / "report.html").read_text(encoding="utf-8")
    checks = {c["check"]: c for c in grading(out, "correct_scalar")["checks"]}
    curves = [c for c in checks.values() if c["quantity"] == "loss_curve"]
    assert curves
    for check in curves:
        given = check["cases"][0]
        values = [float(v) for v in given["expected"] if math.isfinite(float(v))]
        chart = section(page, check["check"]).split("<svg", 2)[1]  # the given case's chart
        assert (
            chart.count('stroke="#0969da"') >= 1 and chart.count('stroke-dasharray="7 5"') >= 1
        )  # submitted, reference
        assert ">epoch</text>" in chart
        log_helps = min(values) > 0 and max(values) / min(values) > 100
        assert ("(log scale)" in chart) == log_helps, check["check"]


def test_scores_per_part_and_experiment_match_the_results(small_class):
    _, out, _, _ = small_class
    for folder in (p for p in out.iterdir() if p.is_dir()):
        data, page = grading(out, folder.name), (folder / "report.html").read_text(encoding="utf-8")
        assert f'id="score">{data["score"]:g} / {data["max_score"]:g}<' in page
        for part, score in data["parts"].items():
            assert f'id="part-score-{part}">{score["score"]:g} / {score["max_score"]:g}<' in page
        for number in {c["experiment"] for c in data["checks"]}:
            got = sum(c["score"] for c in data["checks"] if c["experiment"] == number)
            possible = sum(c["max_score"] for c in data["checks"] if c["experiment"] == number)
            assert re.search(
                rf'<span class="label">{number}\. [^<]+</span><strong>{got:g} / {possible:g}</strong>',
                page,
            ), number


def test_written_answers_are_shown_escaped_with_their_points(small_class):
    _, out, _, _ = small_class
    page = (out / ACCENTED / "report.html").read_text(encoding="utf-8")
    questions = grading(out, ACCENTED)["questions"]
    assert any(q["answer"] for q in questions)
    for question in questions:
        assert (
            f"({question['points']:g} point{'' if question['points'] == 1 else 's'})" in page
        )  # "(1 point)", never "(1 points)"
        if question["answer"]:
            assert str(escape(question["answer"])) in page


def test_grades_csv_keeps_ids_with_commas_and_accents(small_class):
    _, out, _, _ = small_class
    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {p.name for p in out.iterdir() if p.is_dir()}
    assert float(rows[ACCENTED]["score"]) == results(out, ACCENTED)["score"]


def test_every_results_json_the_grader_writes_is_gradescope_html(small_class, graded_class):
    """Validated against grader/gradescope/gradescope_schema.json, Gradescope's documented format."""
    _, out, _, student = small_class
    folders = [p for base in (out, student, graded_class[1]) for p in base.iterdir() if p.is_dir()]
    for folder in folders:
        data = results(folder.parent, folder.name)
        jsonschema.validate(data, SCHEMA)
        assert data["output_format"] == "html" and {t["output_format"] for t in data["tests"]} == {
            "html"
        }


def test_the_schema_refuses_what_gradescope_does_not_know():
    good = {
        "score": 1,
        "tests": [
            {"name": "a", "status": "passed", "visibility": "visible", "output_format": "md"}
        ],
    }
    jsonschema.validate(good, SCHEMA)
    for broken in (
        {"status": "error"},
        {"visibility": "students"},
        {"output_format": "markdown"},
        {"outptu": ""},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"score": 1, "tests": [{**good["tests"][0], **broken}]}, SCHEMA)


def test_the_student_view_holds_no_hidden_case_and_no_secret(small_class):
    _, _, checked, student = small_class
    assert checked.returncode == 0, checked.stderr
    for path in (student / "hidden_delta_from_weight_grads").iterdir():
        text = path.read_text(encoding="utf-8")
        assert TEST_SECRET not in text and "hidden-1" not in text and "hidden case 1" not in text, (
            path.name
        )
        assert '"hidden": true' not in text, path.name
    page = (student / "hidden_delta_from_weight_grads" / "report.html").read_text(encoding="utf-8")
    assert "Student's view: public cases only; no hidden cases ran." in page and "<svg" in page


# ---------------------------------------------------------------- rendering in-process


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """The shape of a diagnosis on CheckResult.diagnoses: id, title, explanation, formula, kind."""

    id: str
    title: str
    explanation: str
    formula: str = ""
    kind: str = "misconception"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@pytest.fixture(scope="module")
def hidden_graded():
    """Two checks graded on their given and hidden cases, the first four elements of every case off."""
    full = load_spec()
    spec = dataclasses.replace(
        full, checks=tuple(full.check(i) for i in ("np-gradients", "np-train-lr1-50-curve"))
    )
    items = expected_values(spec, draw_cases(spec, b"only-this-test-knows"))
    mistake = Diagnosis(
        "hidden-delta",
        "<b>hidden</b> deltas from the weight gradients",
        "dE/dw1 uses dE/dw5 + dE/dw6 & more",
    )
    checks = []
    for check in spec.checks:
        verdicts = []
        for item in (i for i in items if i.check_id == check.id):
            observed = item.value.copy()
            observed[:4] += 0.01
            verdicts.append(judge(check, item, observed))
        checks.append(
            CheckResult(
                check,
                tuple(verdicts),
                f"{check.entry}(x, y, w)",
                (mistake,) if check.quantity == "gradients" else (),
            )
        )
    printed = "epoch 0 loss " + ", ".join(
        str(v) for v in items[1].value
    )  # printed on a hidden case
    result = SubmissionResult(
        Submission("alice", Path("alice.py"), "python"),
        tuple(checks),
        spec.questions,
        LoadReport("ok"),
        stdout=printed,
    )
    hidden_values = [v for i in items if i.case.hidden for v in i.value.tolist()]
    return spec, result, hidden_values, mistake


def test_the_student_view_never_shows_a_hidden_expected_value(hidden_graded):
    spec, result, hidden_values, _ = hidden_graded
    student = html.render_report(views.student_view(result), spec)
    gradescope = json.dumps(
        report.gradescope_results(result, "after_published", output_format="html")
    )
    instructor = html.render_report(result, spec)
    shown = [html.format_number(v) for v in hidden_values]
    assert all(value not in student and value not in gradescope for value in shown)
    assert any(value in instructor for value in shown)  # the instructor sees them
    assert (
        "Not shown here: the output includes runs on hidden cases." in student
        and "epoch 0 loss" in instructor
    )
    assert "only whether it passed and a generic reason" in student  # said once, at the top
    # each check's hidden cases in one line, by number and verdict, the fixed reason said once
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", student)).split())
    for check in spec.checks:
        line = " · ".join(f"{n} failed" for n in range(1, check.hidden_cases + 1))
        assert f"hidden cases: {line} — {views.REASONS['wrong-value']}" in text, check.id
    assert "A hidden case:" not in student


def test_a_diagnosis_is_shown_to_the_student_and_counted_on_the_dashboard(hidden_graded):
    spec, result, _, mistake = hidden_graded
    page = html.render_report(views.student_view(result), spec)
    assert (
        '<a href="#cause-1">np_backward: &lt;b&gt;hidden&lt;/b&gt; deltas from the weight gradients</a>'
        in page
    )  # at the check
    assert (
        "<strong>np_backward: &lt;b&gt;hidden&lt;/b&gt; deltas from the weight gradients</strong>"
        in page
    )  # the cause, at the top
    assert page.count("dE/dw1 uses dE/dw5 + dE/dw6 &amp; more") == 1  # explained once
    fragment = report.gradescope_results(result, "after_published", output_format="html")["tests"][
        0
    ]["output"]
    assert (
        "Likely mistake: &lt;b&gt;hidden&lt;/b&gt; deltas" in fragment
        and "dE/dw5 + dE/dw6 &amp; more" in fragment
    )
    named = "<img src=x onerror=alert(1)>"  # a file name is an id, and may hold HTML
    other = dataclasses.replace(result, submission=Submission(named, Path(f"{named}.py"), "python"))
    board = html.render_dashboard([result, other], spec)
    listed = board[board.index('id="mistake-hidden-delta"') :].split("</li>")[
        0
    ]  # the mistake, with both students in it
    assert (
        "<strong>&lt;b&gt;hidden&lt;/b&gt; deltas" in listed
        and "<strong>2 students</strong>" in listed
        and listed.count("<a href=") == 2
    )
    assert (
        "<img" not in board
        and 'href="%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/report.html"' in board
    )


def test_the_dashboard_lists_pass_rates_hardest_first(small_class):
    _, out, _, _ = small_class
    board = (out / "index.html").read_text(encoding="utf-8")
    table = board[
        board.index('id="pass-rates"') : board.index("</ul>", board.index('id="pass-rates"'))
    ]
    rates = [
        int(passed) / int(total)
        for passed, total in re.findall(r'<span class="num">(\d+) / (\d+)</span>', table)
    ]
    basis = board[board.index('id="pass-rate-basis"') :].split("</p>")[0]
    everyone = re.findall(r'not listed: <span class="mono">([^<]+)</span>', basis)
    listed = len(rates) + len(", ".join(everyone).split(", ") if everyone else [])
    assert (
        listed == len(load_spec().checks) and rates == sorted(rates) and all(r < 1 for r in rates)
    )


# ---------------------------------------------------------------- in a real browser

CHROMIUM = next(
    (
        shutil.which(name)
        for name in ("chromium", "chromium-browser", "google-chrome")
        if shutil.which(name)
    ),
    None,
)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
)  # fmt: skip


def chromium(
    page: Path, profile: Path, screenshot: Path | None = None, size: str = "1280,2000"
) -> tuple[str, list[str]]:
    """Open `page`: (its DOM once loaded, its console messages); console lines carry ':CONSOLE'."""
    shot = [f"--screenshot={screenshot}", f"--window-size={size}"] if screenshot else []
    completed = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            *shot,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    console = [line for line in completed.stderr.splitlines() if ":CONSOLE" in line]
    return completed.stdout, console


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver; .ci/run does it as root)",
)
def test_the_pages_open_in_chromium_with_the_score_shown_and_no_console_errors(
    small_class, tmp_path
):
    _, out, _, _ = small_class
    shots = tmp_path / "screenshots"
    shots.mkdir()
    # The console check must be able to fail: a page with a deliberate error is caught.
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!doctype html><title>x</title><script>console.error('seen'); missing();</script>"
    )
    # Sorting: a copy of the dashboard with a probe that clicks "total" twice (it runs before
    # the page's Content-Security-Policy is read, so the policy does not block it).
    probe = (
        "<head><script>addEventListener('load', function () {"
        " var total = document.querySelectorAll('#students th button')[1], first = function () {"
        " return document.querySelector('#students tbody tr td a').textContent.trim(); };"
        " total.click(); document.body.setAttribute('data-up', first());"
        " total.click(); document.body.setAttribute('data-down', first()); });</script>"
    )
    probed = (
        out / "index-probe.html"
    )  # beside index.html, so its links work in the screenshot's page too
    probed.write_text(
        (out / "index.html").read_text(encoding="utf-8").replace("<head>", probe, 1),
        encoding="utf-8",
    )
    pages = {
        "broken": (broken, None, ""),
        "report": (
            out / "hidden_delta_from_weight_grads" / "report.html",
            shots / "report.png",
            "1280,2400",
        ),
        "hostile": (out / HOSTILE.stem / "report.html", shots / "report-phone.png", "390,1600"),
        "dashboard": (probed, shots / "dashboard.png", "1280,2000"),
    }
    with ThreadPoolExecutor(len(pages)) as pool:  # one browser per page, at once
        opened = dict(
            zip(
                pages,
                pool.map(
                    lambda item: chromium(
                        item[1][0], tmp_path / f"profile-{item[0]}", *item[1][1:]
                    ),
                    pages.items(),
                ),
            )
        )
    probed.unlink()

    assert len(opened["broken"][1]) == 2, opened["broken"][1]
    for name, submission_id in (
        ("report", "hidden_delta_from_weight_grads"),
        ("hostile", HOSTILE.stem),
    ):
        dom, console = opened[name]
        data = results(out, submission_id)
        assert f'id="score">{data["score"]:g} / {data["extra_data"]["max_score"]:g}<' in dom
        assert console == [], (
            console
        )  # no script error, and no blocked script or image from the submission
    dom, console = opened["dashboard"]
    assert console == [] and "4 submissions" in dom
    listed = [
        unescape(i)
        for i in re.findall(
            r'<td class="who"[^>]*><a href="[^"]+">([^<]+)</a>',
            (out / "index.html").read_text(encoding="utf-8"),
        )
    ]
    score = {i: results(out, i)["score"] for i in listed}
    lowest, highest = (
        sorted(listed, key=score.get)[0],
        sorted(listed, key=lambda i: -score[i])[0],
    )  # stable, as in the page
    assert f'data-up="{escape(lowest)}"' in dom and f'data-down="{escape(highest)}"' in dom
    for _, screenshot, _ in pages.values():
        assert screenshot is None or screenshot.stat().st_size > 10_000, screenshot
    print(f"screenshots in {shots}")

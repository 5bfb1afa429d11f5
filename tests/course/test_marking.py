"""Can teaching assistants mark the written answers in a browser, safely and at the same time?

A class of three (folders holding the correct scalar hand-in and an answers.md, one of
them with HTML in its answer) is graded by the real CLI into a gradebook; then
`python -m grader mark` runs as a real server on a free port, and the URL it prints is
the way in.  Plain HTTP (urllib) probes what the server refuses; headless Chromium, driven
by selenium, marks by keyboard as two assistants at once, and grades.csv and the
dashboard are read afterwards.  A class of 52 of which one hand-in has written answers
(two hand-ins graded once by the grader's pipeline, recorded under 52 names as `grade`
records a run) shows what marking skips: the blank answers.
"""

from __future__ import annotations

import csv
import dataclasses
import http.cookiejar
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.core.spec import load_spec
from grader.course.gradebook import open_gradebook
from tests.conftest import REPO, SUBMISSIONS, run_grader, write_spec

CHROMIUM = next(
    (
        shutil.which(name)
        for name in ("chromium", "chromium-browser", "google-chrome")
        if shutil.which(name)
    ),
    None,
)
CHROMEDRIVER = shutil.which("chromedriver")
ASSIGNMENT = "backprop"
ANSWERS = {
    "ada": {
        "10.1": "They agree to rounding.\nAutograd applies the same chain rule.",
        "10.2": "ReLU: o2 gets stuck.",
        "10.3": "Symmetry: the hidden units stay equal.",
    },
    "bob": {
        "10.1": '<script>alert("marked")</script><b>not bold</b> & <img src=x onerror=alert(1)>\nsecond line',
        "10.2": "No idea.",
        "10.3": "Zero gradients.",
    },
    "cy": {
        "10.1": "Same values.",
        "10.2": "MSELoss doubles the gradients.",
        "10.3": "They cannot break symmetry.",
    },
}


@dataclass(frozen=True)
class Graded:
    out: Path
    gradebook: Path


def hand_in(folder: Path, answers: dict[str, str] | None) -> None:
    """The correct scalar hand-in in `folder`, with an answers.md of `answers` (none if None)."""
    folder.mkdir(parents=True)
    shutil.copy(SUBMISSIONS / "correct_scalar.py", folder / "main.py")
    if answers is not None:
        text = "".join(f"## Question {q}\n{answer}\n\n" for q, answer in answers.items())
        (folder / "answers.md").write_text(text, encoding="utf-8")


def spec_of(root: Path, questions: tuple[str, ...] | None = None) -> Path:
    """A spec of one check and only `questions` (all of the assignment's, if None)."""
    spec = write_spec(root, ("np-forward-hidden",))
    if questions is not None:
        sections = re.split(r"(?m)^(?=\[)", spec.read_text(encoding="utf-8"))
        kept = [
            s
            for s in sections
            if not s.startswith("[[question]]")
            or re.search(r'(?m)^id = "([^"]+)"', s).group(1) in questions
        ]
        spec.write_text("".join(kept), encoding="utf-8")
    return spec


def grade_three(root: Path, questions: tuple[str, ...] | None = None) -> Graded:
    """The class of three, graded by `grade` on one check (the written answers are what is marked here),
    by a spec holding only `questions` (all of the assignment's, if None)."""
    folder = root / "class"
    for student, answers in ANSWERS.items():
        hand_in(folder / student, answers)
    spec = spec_of(root, questions)
    out = root / "out"
    completed = run_grader(
        "grade", str(folder), "--out", str(out), "--spec", str(spec), "--jobs", "2"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    gradebook = out / "gradebook.sqlite"
    assert gradebook.is_file(), completed.stdout
    return Graded(out, gradebook)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    return grade_three(tmp_path_factory.mktemp("marking"))


CLASS_SIZE = 52
QUESTION = "10.1"  # the one written question of the class of 52


@dataclass(frozen=True)
class BigClass:
    graded: Graded
    students: tuple[str, ...]
    answered: str  # the one student whose hand-in has written answers
    answer: str  # their answer, as the grader read it


def class_with_one_answer(root: Path, size: int = CLASS_SIZE) -> BigClass:
    """A class of `size` of which one hand-in has written answers, cheaply: two hand-ins (ada's
    answers.md and none) graded once, here, by the grader's own pipeline, and the run recorded as
    `grade` records one, under `size` names (the blank one's result for all but one); grades.csv
    drawn from it."""
    from grader.engine.discover import discover_submissions
    from grader.engine.pipeline import grade_class, open_session
    from grader.outputs import report

    hand_in(root / "two" / "answered", ANSWERS["ada"])
    hand_in(root / "two" / "blank", None)
    spec = load_spec(spec_of(root, (QUESTION,)))
    with open_session(spec, None) as session:
        graded = {
            g.result.submission.id: g.result
            for g in grade_class(session, discover_submissions(root / "two").submissions, jobs=2)
        }
    assert graded["answered"].answers.get(QUESTION) and not graded["blank"].answers
    students = tuple(f"pupil{number:02d}" for number in range(1, size + 1))
    answered = students[size * 3 // 5]  # neither first nor last, by name
    results = [
        dataclasses.replace(
            graded["answered" if student == answered else "blank"],
            submission=dataclasses.replace(graded["blank"].submission, id=student),
        )
        for student in students
    ]
    out = root / "out"
    with open_gradebook(out / "gradebook.sqlite") as book:
        book.record_run(spec.name, spec, results, hidden=False)
        report.refresh_class_outputs(out, book, spec.name)
    answer = graded["answered"].answers[QUESTION]
    return BigClass(Graded(out, out / "gradebook.sqlite"), students, answered, answer)


@pytest.fixture(scope="module")
def big_class(tmp_path_factory) -> BigClass:
    return class_with_one_answer(tmp_path_factory.mktemp("big-class"))


@dataclass
class Server:
    process: subprocess.Popen
    url: str  # as printed, with the token
    said: list[str]  # everything it printed so far

    @property
    def log(self) -> str:
        return "".join(self.said)

    @property
    def base(self) -> str:
        return self.url.split("/?", 1)[0]

    @property
    def token(self) -> str:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)["token"][0]


@contextmanager
def marking_server(graded: Graded, *arguments: str, command: list[str] | None = None):
    """`python -m grader mark --out OUT --port 0 ARGS` (or `command`) until the block ends; its URL read from what it
    prints.  It runs in a process group of its own, which is stopped whole (make's child too)."""
    environment = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
    process = subprocess.Popen(
        command or [sys.executable, "-m", "grader", "mark", "--out", str(graded.out), "--port", "0", *arguments],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    said: list[str] = []

    def read():  # keeps draining the pipe: the server never blocks on a full one
        for line in process.stdout:
            said.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=60)
            if line is None:
                raise AssertionError(
                    "the marking server stopped before printing its URL:\n" + "".join(said)
                )
            found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line)
            if found:
                break
        yield Server(process, found.group(0), said)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(graded):
    with marking_server(graded, "--marker", "Plain Probe") as running:
        yield running


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def client(follow: bool = True) -> urllib.request.OpenerDirector:
    """A browser-like HTTP client: it keeps cookies (and, unless told not to, follows redirects)."""
    handlers = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())]
    return urllib.request.build_opener(*handlers, *([] if follow else [NoRedirect()]))


def fetch(
    opener, url: str, form: dict | None = None, headers: dict | None = None
) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def signed_in(server: Server):
    """A client let in by the printed URL, and the CSRF token of its session (from a question page's forms)."""
    opener = client()
    status, page = fetch(opener, server.url)
    assert status == 200, page
    status, page = fetch(opener, server.base + "/question/10.1")
    assert status == 200, page
    return opener, re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def post_mark(
    server: Server,
    opener,
    csrf: str | None,
    question: str,
    student: str,
    points: str,
    origin: str | None = "same",
    **extra,
) -> tuple[int, str]:
    form = {
        "student": student,
        "points": points,
        "comment": extra.pop("comment", ""),
        "revision": extra.pop("revision", ""),
        **extra,
    }
    if csrf is not None:
        form["csrf"] = csrf
    headers = {"Origin": server.base if origin == "same" else origin} if origin else {}
    return fetch(
        opener, f"{server.base}/question/{urllib.parse.quote(question, safe='')}", form, headers
    )


def current_marks(graded: Graded) -> dict[tuple[str, str], tuple]:
    with open_gradebook(graded.gradebook) as book:
        return {
            (m.student, m.question): (m.points, m.comment, m.marker, m.revision)
            for m in book.marks(ASSIGNMENT)
        }


def question_points(graded: Graded) -> dict[str, float]:
    with open_gradebook(graded.gradebook) as book:
        return {q.id: q.points for q in book.questions(ASSIGNMENT)}


# -- plain HTTP: what the server refuses


def test_only_the_printed_token_lets_a_browser_in(server):
    """Is every request without the right token (in the URL, or the cookie set from it) refused with 403?"""
    stranger = client()
    for path in (
        "/",
        "/question/10.1",
        "/static/marking.js",
        "/?token=" + "x" * len(server.token),
        "/?token=",
        "/?token=" + server.token[:-1],
    ):
        status, page = fetch(stranger, server.base + path)
        assert status == 403, (path, page)
    forged = client()
    forged.addheaders = [
        ("Cookie", f"marking-{urllib.parse.urlsplit(server.base).port}-token=not-the-token")
    ]
    assert fetch(forged, server.base + "/")[0] == 403
    # the right token: the address loses it (a redirect), and the cookie then lets the browser in
    bare = client(follow=False)
    try:
        bare.open(server.url, timeout=30)
        raise AssertionError("the URL with the token was not redirected")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303 and "token" not in redirect.headers["Location"]
        assert all(
            "HttpOnly" in c and "SameSite=Strict" in c
            for c in redirect.headers.get_all("Set-Cookie")
        )
    opener, _ = signed_in(server)
    assert fetch(opener, server.base + "/static/marking.js")[0] == 200


def test_a_request_for_another_host_name_is_refused(server):
    """Does the server answer only to its own address (a rebound DNS name pointing at 127.0.0.1 gets 403)?"""
    port = urllib.parse.urlsplit(server.base).port
    for host in (f"evil.example:{port}", f"localhost:{port}", "127.0.0.1"):
        assert fetch(client(), server.url, headers={"Host": host})[0] == 403, host


def test_a_form_without_the_sessions_csrf_token_or_from_elsewhere_is_refused(server, graded):
    """Is a mark posted without the session's CSRF token, with another session's, or from another origin refused with 403, and nothing stored?"""
    before = current_marks(graded)
    opener, csrf = signed_in(server)
    _, others = signed_in(server)
    assert others != csrf
    for token, origin in (
        (None, "same"),
        ("", "same"),
        ("0" * len(csrf), "same"),
        (others, "same"),
        (csrf, None),
        (csrf, "http://evil.example"),
        (csrf, "null"),
    ):
        status, page = post_mark(server, opener, token, "10.1", "ada", "1", origin=origin)
        assert status == 403, (token, origin, page)
    assert current_marks(graded) == before


@pytest.mark.parametrize("points", ["abc", "-1", "nan", "inf", "1e0", "", "0x1", "１"])
def test_points_that_are_no_plain_number_in_range_are_refused(server, graded, points):
    """Are points that are not a plain number refused with a message on the page, and nothing stored?"""
    before = current_marks(graded)
    opener, csrf = signed_in(server)
    status, page = post_mark(server, opener, csrf, "10.1", "cy", points)
    assert status == 400
    assert re.search(r'class="banner fail message"[^>]*>[^<]*(Points must|No points)', page), page
    assert current_marks(graded) == before


def test_points_above_the_questions_points_are_refused(server, graded):
    """Is a score above the question's points (from the spec) refused, and its maximum accepted?"""
    maximum = question_points(graded)["10.3"]
    opener, csrf = signed_in(server)
    before = current_marks(graded)
    status, page = post_mark(server, opener, csrf, "10.3", "cy", f"{maximum + 0.5:g}")
    assert status == 400 and f"from 0 to {maximum:g}" in page
    assert current_marks(graded) == before
    status, page = post_mark(
        server, opener, csrf, "10.3", "cy", f"{maximum:g}", comment="full marks"
    )
    assert status == 200, page  # the plain form's save, followed back to the question's page
    assert current_marks(graded)[("cy", "10.3")][:3] == (maximum, "full marks", "Plain Probe")


def test_a_mark_for_an_unknown_student_or_question_is_refused(server, graded):
    """Is a mark for a student not in the class, or a question not in the spec, refused with a message?"""
    before = current_marks(graded)
    opener, csrf = signed_in(server)
    status, page = post_mark(server, opener, csrf, "10.1", "mallory", "1")
    assert status == 400 and "No student" in page and "mallory" in page
    status, page = post_mark(server, opener, csrf, "99.9", "ada", "1")
    assert status == 400 and "No written question" in page
    status, page = post_mark(server, opener, csrf, "10.1", "ada", "1", comment="x" * 10_000)
    assert status == 400 and "comment of at most" in page
    assert fetch(opener, server.base + "/question/99.9")[0] == 404
    assert current_marks(graded) == before


def test_html_in_an_answer_is_shown_as_text(server):
    """Is a student's answer escaped (no tag of theirs reaches the page) with its line breaks kept?"""
    opener, _ = signed_in(server)
    status, page = fetch(opener, server.base + "/question/10.1")
    assert status == 200
    answer = ANSWERS["bob"]["10.1"]
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>not bold" not in page
    escaped = (
        answer.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    )
    assert escaped in page  # the newline included: the text block keeps it (white-space: pre-wrap)
    # anonymous, nothing of this question marked yet: "Hand-in N", no student's name anywhere
    assert re.findall(r'<span class="label">Hand-in (\d+)</span>', page) == [
        str(n) for n in range(1, len(ANSWERS) + 1)
    ]
    assert not re.findall(rf"\b(?:{'|'.join(ANSWERS)})\b", page)


def test_a_plain_form_against_a_changed_mark_shows_both_values_and_keeps_theirs(server, graded):
    """Without script, is a save made on a page read before another marker's save refused (409) with both values, the
    stored mark kept, and does a second save from the refreshed form then replace it knowingly?"""
    first, second = signed_in(server), signed_in(server)
    maximum = question_points(graded)["10.2"]
    assert (
        post_mark(server, first[0], first[1], "10.2", "ada", f"{maximum:g}", comment="theirs")[0]
        == 200
    )
    kept = current_marks(graded)[("ada", "10.2")]
    status, page = post_mark(
        server, second[0], second[1], "10.2", "ada", "0", comment="mine"
    )  # the form of a page read before: no revision
    assert status == 409 and "meanwhile" in page
    theirs = re.search(r'<tr class="theirs">(.*?)</tr>', page, re.S).group(1)
    yours = re.search(r'<tr class="yours">(.*?)</tr>', page, re.S).group(1)
    assert f">{maximum:g}<" in theirs and "theirs" in theirs and ">0<" in yours and "mine" in yours
    assert current_marks(graded)[("ada", "10.2")] == kept
    [card] = [c for c in page.split("<section")[1:] if '<span class="name">ada</span>' in c]
    revision = re.search(r'name="revision" value="(\d+)"', card).group(1)
    assert int(revision) == kept[3]
    assert (
        post_mark(
            server, second[0], second[1], "10.2", "ada", "0", comment="mine", revision=revision
        )[0]
        == 200
    )
    assert (
        current_marks(graded)[("ada", "10.2")][:2] == (0, "mine")
        and current_marks(graded)[("ada", "10.2")][3] == kept[3] + 1
    )
    status, index = fetch(first[0], server.base + "/")
    marked = sum(1 for student, question in current_marks(graded) if question == "10.2")
    assert status == 200 and re.search(
        rf'10\.2 .*?<td class="num marked">{marked} / {len(ANSWERS)}</td>', index
    )


def test_a_mark_is_refused_until_the_marker_says_who_they_are(graded):
    """Without --marker, is a save refused until the browser has given a name, and is that name recorded with the mark?"""
    with marking_server(graded) as server:
        opener, csrf = signed_in(server)
        status, page = post_mark(server, opener, csrf, "10.4", "bob", "1")
        assert status == 400 and "Say who you are" in page
        assert ("bob", "10.4") not in current_marks(graded)
        for bad in ("", " ", "x" * 200):
            assert (
                fetch(
                    opener,
                    server.base + "/marker",
                    {"csrf": csrf, "marker": bad, "next": "/"},
                    {"Origin": server.base},
                )[0]
                == 400
            )
        status, page = fetch(
            opener,
            server.base + "/marker",
            {"csrf": csrf, "marker": "  Cleo\tW. ", "next": "//evil.example/"},
            {"Origin": server.base},
        )
        assert (
            status == 200 and "Written questions" in page
        )  # back on this server's index, not elsewhere
        assert post_mark(server, opener, csrf, "10.4", "bob", "1")[0] == 200
        assert current_marks(graded)[("bob", "10.4")][2] == "Cleo W."


def test_make_mark_serves_the_gradebook_of_out(graded):
    """Does `make mark OUT=... MARKER=... NAMES=1` serve that folder's gradebook, recording the
    marker given, with the students' names shown as asked?"""
    command = [
        "make",
        "-s",
        "-C",
        str(REPO),
        "-o",
        ".venv/.installed",
        "mark",
        f"PY={sys.executable}",
        f"OUT={graded.out}",
        "MARKER=Make User",
        "NAMES=1",
    ]
    with marking_server(graded, command=command) as server:
        opener, _ = signed_in(server)
        status, page = fetch(opener, server.base + "/")
        assert (
            status == 200
            and "Marking as <strong>Make User</strong>" in page
            and f"{len(ANSWERS)} students" in page
        )
        status, page = fetch(opener, server.base + "/question/10.3")  # names asked for: shown
        assert status == 200 and 'class="label"' not in page
        assert re.findall(r'<span class="name">(\w+)</span>', page) == sorted(ANSWERS)


def test_two_servers_of_one_gradebook_saving_the_same_mark_at_once_land_exactly_one(server, graded):
    """With two `mark` servers on one gradebook, do two saves of the same answer from the same revision, sent at once,
    end with one saved and the other refused as changed meanwhile?"""
    with marking_server(graded, "--marker", "Other Server") as other:
        sides = [(server, *signed_in(server)), (other, *signed_in(other))]
        start = threading.Barrier(len(sides))

        def save(side):
            where, opener, csrf = side
            start.wait()
            return post_mark(where, opener, csrf, "10.5", "bob", "1", comment=f"from {where.base}")

        with ThreadPoolExecutor(len(sides)) as pool:
            statuses = sorted(status for status, _ in pool.map(save, sides))
    assert statuses == [200, 409]
    points, comment, marker, revision = current_marks(graded)[("bob", "10.5")]
    assert revision == 1 and marker in ("Plain Probe", "Other Server")
    assert comment == f"from {(server if marker == 'Plain Probe' else other).base}"


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="Chromium or chromedriver is not installed"
)
def test_marking_works_in_a_browser_without_script(server, graded, tmp_path):
    """With JavaScript off, does typing a score and a comment and pressing Save store the mark and show it on the page?"""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(server.url)
        driver.get(f"{server.base}/question/10.1")
        assert not driver.find_elements(
            "css selector", "section.answer.current"
        )  # the page's script did not run: it marks the current answer
        card = next(
            c
            for c in driver.find_elements("css selector", "section.answer")
            if c.find_element("css selector", ".text").get_attribute("textContent")
            == ANSWERS["ada"]["10.1"]
        )
        assert card.find_element("css selector", "h2.student").text.startswith("Hand-in ")
        assert "ada" not in card.text  # anonymous until marked
        card.find_element("css selector", "input.points").send_keys("1")
        card.find_element("css selector", "textarea").send_keys("line one\nline <two>")
        card.find_element("css selector", "button[type=submit]").click()
        WebDriverWait(driver, 60).until(
            expected_conditions.staleness_of(card)
        )  # the form's own page load, before the next lookup
        card = next(
            c
            for c in driver.find_elements("css selector", "section.answer")
            if c.find_element("css selector", ".text").get_attribute("textContent")
            == ANSWERS["ada"]["10.1"]
        )
        assert "marked by Plain Probe" in card.find_element("css selector", ".status").text
        assert card.find_element("css selector", "h2.student .name").text == "ada"
    finally:
        driver.quit()
    assert current_marks(graded)[("ada", "10.1")][:3] == (1, "line one\nline <two>", "Plain Probe")


def test_the_server_listens_on_127_0_0_1_only(graded):
    """Is any other bind address refused before anything listens?"""
    for host in ("0.0.0.0", "::", "localhost"):
        completed = run_grader("mark", "--out", str(graded.out), "--host", host, timeout=60)
        assert completed.returncode == 2, completed.stdout
        assert "127.0.0.1 only" in completed.stdout and "token=" not in completed.stdout


def test_giving_the_blank_answers_0_is_one_action_one_undoes_and_others_cannot_send(big_class):
    """Are the action giving every blank answer 0 and the one undoing it refused without the
    session's CSRF token, from another origin, or before the marker says who they are; is a form
    naming no hand-in of the class refused; and is a batch undone only as its question's latest,
    once, back to no mark?"""
    graded = big_class.graded
    with marking_server(graded) as server:
        opener, csrf = signed_in(server)
        before = current_marks(graded)

        def send(action: str, form: dict, origin: str | None = server.base) -> tuple[int, str]:
            headers = {"Origin": origin} if origin else {}
            return fetch(opener, f"{server.base}/question/{QUESTION}/{action}", form, headers)

        for token, origin in ((None, server.base), ("0" * len(csrf), server.base), (csrf, None),
                              (csrf, "http://evil.example")):  # fmt: skip
            for action in ("blank", "undo"):
                form = {"batch": "1"} | ({} if token is None else {"csrf": token})
                assert send(action, form, origin)[0] == 403, (action, token, origin)
        status, page = send("blank", {"csrf": csrf})
        assert status == 400 and "Say who you are" in page
        form = {"csrf": csrf, "marker": "Dana", "next": f"/question/{QUESTION}"}
        assert fetch(opener, server.base + "/marker", form, {"Origin": server.base})[0] == 200
        status, page = post_mark(server, opener, csrf, QUESTION, "", "1", handin="0" * 16)
        assert status == 400 and "No such hand-in" in page
        assert current_marks(graded) == before
        # the action: every blank answer not marked yet gets 0, by Dana
        status, page = send("blank", {"csrf": csrf})
        assert status == 200 and 'id="undo-blank"' in page, page
        given = {key: mark[:3] for key, mark in current_marks(graded).items() if key not in before}
        blank = [s for s in big_class.students if s != big_class.answered]
        assert given == {
            (s, QUESTION): (0, "No answer found.", "Dana")
            for s in blank
            if (s, QUESTION) not in before
        }
        batch = int(re.search(r'name="batch" value="(\d+)"', page).group(1))
        status, page = send("undo", {"csrf": csrf, "batch": str(batch - 1)})  # not the latest
        assert status == 409 and "Nothing was undone" in page
        assert len(current_marks(graded)) == len(before) + len(given)
        # the undo: no mark where there was none; a second one refused
        status, page = send("undo", {"csrf": csrf, "batch": str(batch)})
        assert status == 200 and "was undone by Dana" in page
        assert current_marks(graded) == before
        status, page = send("undo", {"csrf": csrf, "batch": str(batch)})
        assert status == 409 and "taken back already" in page
        assert current_marks(graded) == before


# -- in a browser: two assistants at once


def chrome(profile: Path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Assistant:
    """One teaching assistant in a browser session of their own, using the keyboard."""

    def __init__(self, driver, server: Server, name: str):
        self.driver, self.server, self.name = driver, server, name

    def sign_in(self) -> None:
        from selenium.webdriver.common.keys import Keys

        self.driver.get(self.server.url)
        self.driver.find_element("id", "marker-name").send_keys(self.name, Keys.ENTER)
        self.wait(
            lambda d: self.name in d.find_element("id", "marker").text,
            f"{self.name} is not signed in",
        )

    def open(self, question: str) -> dict[str, int]:
        """The question's page; which card holds which student's answer (told by the answer: the
        page names no one before their answer is marked)."""
        self.driver.get(f"{self.server.base}/question/{urllib.parse.quote(question, safe='')}")
        cards = self.driver.find_elements("css selector", "section.answer")
        by_answer = {answers[question]: student for student, answers in ANSWERS.items()}
        return {
            by_answer[card.find_element("css selector", ".text").get_attribute("textContent")]: int(
                card.get_attribute("data-number")
            )
            for card in cards
        }

    def press(self, *keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(*keys).perform()

    def card(self, number: int):
        return self.driver.find_element("id", f"answer-{number}")

    def status(self, number: int) -> str:
        return self.card(number).find_element("css selector", ".status").text

    def current(self) -> int:
        return int(
            self.driver.find_element("css selector", "section.answer.current").get_attribute(
                "data-number"
            )
        )

    def wait(self, condition, message: str) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, 30).until(condition, message=message + "\n" + self.server.log)

    def score_and_save(self, number: int, points: int) -> None:
        """A digit sets the score of the current answer (it must be `number`), Enter saves it."""
        from selenium.webdriver.common.keys import Keys

        assert self.current() == number
        self.press(str(points), Keys.ENTER)
        self.wait(
            lambda d: f"marked by {self.name}" in self.status(number),
            f"{self.name}'s mark of answer {number} was not saved",
        )


BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps", "--window-size=1200,1600")  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="Chromium or chromedriver is not installed"
)
def test_two_assistants_mark_at_once_by_keyboard_and_the_totals_follow(tmp_path):
    """Do two assistants marking at once both land their marks, is the one that clashes refused with both values shown
    (never written over), and do grades.csv and the dashboard then show each student's total?"""
    from selenium.webdriver.common.keys import Keys

    questions = tuple(
        dict.fromkeys(q for answers in ANSWERS.values() for q in answers)
    )  # the three the class answered
    graded = grade_three(tmp_path / "graded", questions)
    most = {question: int(points) for question, points in question_points(graded).items()}
    assert tuple(most) == questions and all(
        1 < points <= 9 for points in most.values()
    )  # one digit each, and 1 is not full marks
    first, second, third = questions
    before = {
        row["id"]: float(row["score"])
        for row in csv.DictReader((graded.out / "grades.csv").open(encoding="utf-8-sig"))
    }
    with marking_server(graded) as server:
        drivers = [chrome(tmp_path / f"profile-{n}") for n in (1, 2)]
        try:
            ada, brook = (
                Assistant(drivers[0], server, "Ada Lovelace"),
                Assistant(drivers[1], server, "Brook <b>T</b>"),
            )
            ada.sign_in()
            brook.sign_in()
            # both open the first question before either saves: Brook's page will be out of date
            cards = ada.open(first)
            assert brook.open(first) == cards and sorted(cards) == sorted(ANSWERS)
            # Ada marks the first question in the page's order (the class shuffled); a save moves on
            given = {"ada": most[first], "bob": 0, "cy": 1}
            for student in sorted(cards, key=cards.get):
                ada.score_and_save(cards[student], given[student])
            # Brook, on the page read before Ada's marks, gives cy full marks: refused, with both values
            box = brook.card(cards["cy"]).find_element("css selector", "input.points")
            box.click()
            box.send_keys(str(most[first]), Keys.ENTER)
            brook.wait(
                lambda d: "meanwhile" in brook.card(cards["cy"]).text,
                "Brook's clashing mark was not refused",
            )
            clash = brook.card(cards["cy"])
            assert (
                "Changed by Ada Lovelace meanwhile"
                in clash.find_element("css selector", ".message").text
            )
            theirs = [
                c.text for c in clash.find_elements("css selector", "table.conflict tr.theirs td")
            ]
            yours = [
                c.text for c in clash.find_elements("css selector", "table.conflict tr.yours td")
            ]
            assert theirs[1] == "1" and yours[1] == str(most[first])

            def ada_marks_the_second():  # j / k and the arrows choose the answer; in an order that shows a wrong move
                cards = ada.open(second)
                given = {"ada": most[second], "bob": 0, "cy": 1}
                top, middle, bottom = sorted(cards, key=cards.get)
                ada.press("j", "j")
                ada.score_and_save(cards[bottom], given[bottom])
                ada.press("k", Keys.ARROW_UP)
                ada.score_and_save(cards[top], given[top])
                ada.score_and_save(cards[middle], given[middle])

            def brook_marks_the_third():
                cards = brook.open(third)
                given = {"ada": 1, "bob": most[third], "cy": 0}
                for student in sorted(cards, key=cards.get):
                    brook.score_and_save(cards[student], given[student])

            with ThreadPoolExecutor(2) as pool:  # at the same time, on the same server
                for done in [pool.submit(ada_marks_the_second), pool.submit(brook_marks_the_third)]:
                    done.result()
        finally:
            for driver in drivers:
                driver.quit()
    intended = {
        ("ada", first): most[first], ("bob", first): 0, ("cy", first): 1,
        ("ada", second): most[second], ("bob", second): 0, ("cy", second): 1,
        ("ada", third): 1, ("bob", third): most[third], ("cy", third): 0,
    }  # fmt: skip
    marks = current_marks(graded)
    assert {key: value[0] for key, value in marks.items()} == intended
    assert {key: value[2] for key, value in marks.items()} == {
        key: "Ada Lovelace" if key[1] != third else "Brook <b>T</b>" for key in intended
    }
    assert marks[("cy", first)][3] == 1  # Brook's clash wrote nothing
    written = {
        student: sum(points for (who, _), points in intended.items() if who == student)
        for student in ANSWERS
    }
    rows = {
        row["id"]: row
        for row in csv.DictReader((graded.out / "grades.csv").open(encoding="utf-8-sig"))
    }
    for student in ANSWERS:
        assert float(rows[student]["written_score"]) == written[student]
        assert float(rows[student]["total"]) == before[student] + written[student]
    dashboard = (graded.out / "index.html").read_text(encoding="utf-8")
    table = dashboard[
        dashboard.index('id="students"') : dashboard.index(
            "</table>", dashboard.index('id="students"')
        )
    ]
    for student in ANSWERS:
        row = re.search(rf">{student}</a>(.*?)</tr>", table, re.S).group(1)
        cells = dict(
            re.findall(r'<td class="num marks-(\w+)"[^>]*><span class="score">([^<]*)<', row)
        )
        assert (
            cells["written"].split(" / ")[0] == f"{written[student]:g}"
            and cells["total"].split(" / ")[0] == f"{before[student] + written[student]:g}"
        ), row


def looked_at(driver) -> dict:
    """What a question's page shows: its answers' texts, its text, its DOM, its height."""
    return driver.execute_script(
        "return {answers: Array.from(document.querySelectorAll('section.answer .text'),"
        " e => e.textContent), text: document.body.innerText,"
        " dom: document.documentElement.outerHTML,"
        " height: document.documentElement.scrollHeight}"
    )  # fmt: skip


def named(seen: dict, students) -> set[str]:
    """The students whose name is anywhere in the page, its text or its DOM (attributes too)."""
    return {student for student in students if student in seen["dom"] or student in seen["text"]}


def rubric_in_view_at_the_bottom(driver) -> bool:
    return driver.execute_script(
        "window.scrollTo(0, document.documentElement.scrollHeight);"
        " const box = document.getElementById('rubric').getBoundingClientRect();"
        " return window.scrollY > 0 && box.height > 0 && box.top >= 0"
        " && box.top < window.innerHeight"
    )  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="Chromium or chromedriver is not installed"
)
def test_two_assistants_mark_a_class_of_52_where_one_hand_in_has_written_answers(
    big_class, tmp_path
):
    """Two assistants at once on a class of 52 of which one hand-in answered: does the page show
    that one answer (the 51 blank ones a link away) and no student's name before a mark is saved;
    is it marked by keyboard alone while the other gives the blank ones 0 in one action; does one
    action undo exactly that; and do the progress, the rubric kept in view and grades.csv follow?"""
    graded, students, answered = big_class.graded, big_class.students, big_class.answered
    page = f"/question/{QUESTION}"
    maximum = int(question_points(graded)[QUESTION])
    heights = {}
    with marking_server(graded) as server:
        # Cleo gave a blank answer 1 by the plain form: nothing given at once may touch that mark
        cleo, csrf = signed_in(server)
        form = {"csrf": csrf, "marker": "Cleo", "next": "/"}
        assert fetch(cleo, server.base + "/marker", form, {"Origin": server.base})[0] == 200
        tried = next(s for s in students if s != answered)
        assert post_mark(server, cleo, csrf, QUESTION, tried, "1", comment="an idea")[0] == 200
        before = current_marks(graded)
        assert set(before) == {(tried, QUESTION)}
        drivers = [chrome(tmp_path / f"profile-{n}") for n in (1, 2)]
        try:
            ada, brook = (
                Assistant(drivers[0], server, "Ada Lovelace"),
                Assistant(drivers[1], server, "Brook"),
            )
            for assistant in (ada, brook):
                assistant.driver.set_window_size(1280, 900)
                assistant.sign_in()
                assistant.driver.get(server.base + page)
                seen = looked_at(assistant.driver)
                assert seen["answers"] == [big_class.answer]  # the blank ones are not listed
                assert named(seen, students) == set()  # no name before a mark is saved
                assert f"1 of {CLASS_SIZE} marked" in seen["text"]
                assert f"Show the {CLASS_SIZE - 1} blank ones" in seen["text"]
                assert f"Give the {CLASS_SIZE - 2} unmarked blank answers 0" in seen["text"]
            heights["answered only"] = seen["height"]

            def ada_marks_the_answer() -> str:  # by keyboard alone: the page opens on the answer
                ada.score_and_save(0, maximum)
                ada.wait(
                    lambda d: d.find_element("css selector", "h2.student .name").text == answered,
                    "the marked answer's name is not shown",
                )
                return ada.driver.find_element("id", "progress").text

            def brook_gives_the_blank_ones_0() -> None:
                brook.driver.find_element("css selector", "#zero-blank button").click()
                brook.wait(lambda d: d.find_elements("id", "undo-blank"), "no 0 was given")

            with ThreadPoolExecutor(2) as pool:  # at the same time, on the same server
                marking = pool.submit(ada_marks_the_answer)
                zeroing = pool.submit(brook_gives_the_blank_ones_0)
                progress, _ = marking.result(), zeroing.result()
            # Ada's progress followed her save (and counts Brook's 0s if they landed first)
            assert progress in (f"2 of {CLASS_SIZE} marked", f"{CLASS_SIZE} of {CLASS_SIZE} marked")
            marks = current_marks(graded)
            zeroed = [s for s in students if s not in (answered, tried)]
            given = {s: marks[(s, QUESTION)][:3] for s in zeroed}
            assert given == dict.fromkeys(zeroed, (0, "No answer found.", "Brook"))
            ada_mark = marks[(answered, QUESTION)]
            assert ada_mark[:3] == (maximum, "", "Ada Lovelace")
            assert marks[(tried, QUESTION)] == before[(tried, QUESTION)]
            brook.driver.get(server.base + page)
            assert f"{CLASS_SIZE} of {CLASS_SIZE} marked" in looked_at(brook.driver)["text"]
            # one action undoes it: the marks there were before it, and none where there was none
            brook.driver.find_element("css selector", "#undo-blank button").click()
            brook.wait(
                lambda d: "undone by Brook" in d.find_element("id", "undone").text, "not undone"
            )
            assert current_marks(graded) == before | {(answered, QUESTION): ada_mark}
            with open_gradebook(graded.gradebook) as book:
                for student in zeroed:
                    last = book.mark_history(ASSIGNMENT, student, QUESTION)[-2:]
                    assert [(m.points, m.marker, m.removed) for m in last] == [
                        (0, "Brook", False), (0, "Brook", True)
                    ]  # fmt: skip
            # the blank ones, a link away: named only where marked
            brook.driver.find_element("id", "toggle-blank").click()
            brook.wait(
                lambda d: len(d.find_elements("css selector", "section.answer")) == CLASS_SIZE,
                "the blank answers are not shown",
            )
            seen = looked_at(brook.driver)
            assert named(seen, students) == {answered, tried}
            assert f"2 of {CLASS_SIZE} marked" in seen["text"]
            heights["all shown"] = seen["height"]
            for width in (1280, 390):  # the rubric kept in view, also at a phone's width
                brook.driver.set_window_size(width, 900)
                assert rubric_in_view_at_the_bottom(brook.driver), width
            brook.driver.set_window_size(1280, 900)
            brook_gives_the_blank_ones_0()  # again, for good
        finally:
            for driver in drivers:
                driver.quit()
    assert heights["answered only"] < heights["all shown"], heights
    rows = {
        row["id"]: row
        for row in csv.DictReader((graded.out / "grades.csv").open(encoding="utf-8-sig"))
    }
    assert sorted(rows) == list(students)
    for student in students:
        written = maximum if student == answered else 1 if student == tried else 0
        assert float(rows[student]["written_score"]) == written, student
        assert float(rows[student]["total"]) == float(rows[student]["score"]) + written


HOSTILE_NOTEBOOK = "answers_inject_markup_into_the_marking_page"
# What of an answer could have become part of a marking page: any element the page's templates do not draw there.
INJECTED = "main img, main iframe, main style, main meta, main script, main a[href^='javascript'], #forged, section.answer .text *"


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="Chromium or chromedriver is not installed"
)
def test_answers_that_inject_markup_stay_text_on_the_marking_page(tmp_path):
    """Expected verdict of tests/hostile/answers_inject_markup_into_the_marking_page.ipynb: graded like the correct
    hand-in it holds; on every marking page its answers are shown as the text they are, and nothing of them runs."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(REPO / "tests" / "hostile" / f"{HOSTILE_NOTEBOOK}.ipynb", folder)
    spec = write_spec(tmp_path, ("np-forward-hidden",))
    out = tmp_path / "out"
    completed = run_grader(
        "grade", str(folder), "--out", str(out), "--spec", str(spec), "--jobs", "1"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig")))
    assert [(row["id"], row["score"]) for row in rows] == [
        (HOSTILE_NOTEBOOK, row["max_score"]) for row in rows
    ]
    graded = Graded(out, out / "gradebook.sqlite")
    with open_gradebook(graded.gradebook) as book:
        answers = {q.id: book.answers(ASSIGNMENT, q.id)[0].text for q in book.questions(ASSIGNMENT)}
    answered = {question: text for question, text in answers.items() if text}
    assert len(answered) == 3 and "{{ 7 * 7 }}" in answered["10.2"]
    with marking_server(graded, "--marker", "Careful Reader") as server:
        driver = chrome(tmp_path / "profile")
        try:
            driver.get(server.url)
            for question, text in answered.items():
                page = f"{server.base}/question/{urllib.parse.quote(question, safe='')}"
                driver.get(page)
                found = driver.execute_script(
                    "return {injected: document.querySelectorAll(arguments[0]).length, forms: document.forms.length,"
                    " answers: document.querySelectorAll('section.answer').length, text: document.querySelector('section.answer .text').textContent,"
                    " hidden: getComputedStyle(document.body).display === 'none'}",
                    INJECTED,
                )  # fmt: skip
                assert found == {
                    "injected": 0,
                    "forms": 1,
                    "answers": 1,
                    "text": text,
                    "hidden": False,
                }, question
                assert driver.current_url == page  # no refresh of its took the page elsewhere
        finally:
            driver.quit()
    assert current_marks(graded) == {}

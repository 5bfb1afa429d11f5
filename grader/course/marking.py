"""Marking the written answers in a browser: `python -m grader mark --out REPORTS`.

A small server of the standard library, on 127.0.0.1 only, shows one page per
written question with every student's answer for it, one after another, and a
score box and a comment for each; the marks go into the gradebook `grade`
wrote, which arbitrates between several markers at once (a save against a mark
that changed meanwhile is refused, never written over).  A page lists the
answers that have text; the blank ones are a link away, and take 0 in one
action that one action undoes.  Marking is anonymous unless the instructor asks
for names: a hand-in is "Hand-in N" (the class shuffled by the gradebook's
secret salt, the same on every server) and its form names it by an opaque key,
so no name reaches the page before its answer is marked.  As Jupyter does, the
server prints a URL holding a random token; the token, then a cookie set from
it, lets a browser in, and every other request gets 403.  The Host header must
name this server (no DNS rebinding), a form comes from its own origin and
carries the session's CSRF token, and every value is checked before the
gradebook sees it.  Pages are Jinja2 templates of templates/marking/
(autoescaped), their script a file this server serves (no inline script).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import re
import secrets
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import jinja2

from grader.course import gradebook
from grader.course.gradebook import Gradebook, GradebookError, MarkRefused, open_gradebook
from grader.outputs.html import templates_folder
from grader.outputs.views import printable

TEMPLATES = templates_folder("marking")
LOOPBACK = "127.0.0.1"
STATIC = {"marking.js": "text/javascript; charset=utf-8", "marking.css": "text/css; charset=utf-8"}
MAX_BODY = 64 * 1024  # bytes of a form: a comment and a few fields
MAX_COMMENT = 4_000  # characters
MAX_MARKER = 60
BLANK_COMMENT = "No answer found."  # what a student reads beside the 0 of a blank answer
_COUNT = re.compile(r"[0-9]{1,9}")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class MarkingError(Exception):
    """The server cannot start (an address other than 127.0.0.1, no gradebook): a message for the user."""


class Refusal(Exception):
    """A request refused with a status and a message shown on the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Marking:
    """What the server serves: one assignment of one gradebook, and the secrets of this run."""

    gradebook: Path
    assignment: str
    marker: str | None = (
        None  # --marker: every mark is this person's; else each browser says who it is
    )
    refresh: Callable[[Gradebook], object] | None = (
        None  # rewrites the class outputs (grades.csv, the dashboard) from the gradebook
    )
    names: bool = False  # --names: names shown; else a name shows once its answer is marked
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    key: bytes = field(
        default_factory=lambda: secrets.token_bytes(32), repr=False
    )  # signs the CSRF tokens

    def csrf(self, session: str) -> str:
        return hmac.new(self.key, session.encode(), hashlib.sha256).hexdigest()


def same(given: str | None, wanted: str) -> bool:
    """A secret compared in constant time (and any text, not only ASCII, compared without error)."""
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), wanted.encode("utf-8")
    )


def parse_points(text: str | None, maximum: float) -> float:
    """The points typed in a score box: a plain finite number within 0..`maximum`, else a refusal saying why."""
    text = (text or "").strip()
    if not text:
        raise Refusal(HTTPStatus.BAD_REQUEST, "No points given: type a number in the score box.")
    try:
        points = gradebook.parse_points(
            text
        )  # the gradebook's rule, the same as a spreadsheet's import
    except MarkRefused:
        raise Refusal(
            HTTPStatus.BAD_REQUEST,
            f"Points must be a number from 0 to {maximum:g}, not {text[:20]!r}.",
        ) from None
    if not 0 <= points <= maximum:
        raise Refusal(
            HTTPStatus.BAD_REQUEST,
            f"Points must be from 0 to {maximum:g} for this question, not {text}.",
        )
    return points


def clean_marker(text: str | None) -> str | None:
    """A marker's name as it is recorded: printable, one line, bounded; None when empty or unusable."""
    name = " ".join(printable(text or "").split())
    return name if name and len(name) <= MAX_MARKER else None


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["points"] = lambda value: f"{value:g}"
    return environment


class MarkingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, marking: Marking, port: int = 0):
        self.marking = marking
        self.templates = _environment()
        super().__init__((LOOPBACK, port), MarkingHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def origin(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.origin}/?token={self.marking.token}"


class MarkingHandler(BaseHTTPRequestHandler):
    server: MarkingServer
    server_version = "grader-marking"
    timeout = (
        60  # seconds a connection may stay silent: a stalled client does not hold a thread for ever
    )
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - quiet: the token must not reach a log
        pass

    # -- the response
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict | None = None,
        cookies: list[str] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header(
            "Referrer-Policy", "same-origin"
        )  # a form's Origin is sent, no URL leaves the server
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _page(self, status: int, template: str, **values) -> None:
        page = self.server.templates.get_template(template).render(
            marking_name=self.server.marking.assignment, **values
        )
        self._send(
            status, page.encode("utf-8"), "text/html; charset=utf-8", cookies=self._new_cookies
        )

    def _json(self, status: int, value: dict) -> None:
        self._send(
            status, json.dumps(value).encode("utf-8"), "application/json", cookies=self._new_cookies
        )

    def _refuse(self, refusal: Refusal) -> None:
        if self._wants_json():
            return self._json(refusal.status, {"refused": str(refusal)})
        self._page(refusal.status, "refused.html", message=str(refusal), code=int(refusal.status))

    def _redirect(self, location: str) -> None:
        self._send(
            HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": location}, self._new_cookies
        )

    def _wants_json(self) -> bool:
        return "application/json" in (self.headers.get("Accept") or "")

    # -- who is asking
    def _cookie_name(self, what: str) -> str:
        return f"marking-{self.server.port}-{what}"  # cookies do not tell ports apart: two servers keep theirs

    def _cookie(self, what: str) -> str | None:
        try:
            jar = SimpleCookie(self.headers.get("Cookie") or "")
        except CookieError:
            return None
        morsel = jar.get(self._cookie_name(what))
        return morsel.value if morsel else None

    def _set_cookie(self, what: str, value: str) -> str:
        return f"{self._cookie_name(what)}={value}; Path=/; HttpOnly; SameSite=Strict"

    def _session(self) -> str:
        session = self._cookie("session")
        if not session or not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", session):
            session = secrets.token_urlsafe(16)
            self._new_cookies.append(self._set_cookie("session", session))
        return session

    def _marker(self) -> str | None:
        return self.server.marking.marker or clean_marker(unquote(self._cookie("marker") or ""))

    def _check_access(self, url) -> bool:
        """True when the request may go on; else the answer (403, or a redirect that drops the token) is sent."""
        marking = self.server.marking
        if not same(self.headers.get("Host"), self.server.origin):
            raise Refusal(
                HTTPStatus.FORBIDDEN, f"This server answers only at http://{self.server.origin}/."
            )
        given = parse_qs(url.query).get("token")
        if given is not None:
            if not same(given[0], marking.token):
                raise Refusal(
                    HTTPStatus.FORBIDDEN, "Wrong token: open the URL the mark command printed."
                )
            # the token becomes a cookie, and the address bar (and history) loses it
            self._new_cookies.append(self._set_cookie("token", marking.token))
            self._session()
            self._redirect(url.path or "/")
            return False
        if not same(self._cookie("token"), marking.token):
            raise Refusal(
                HTTPStatus.FORBIDDEN,
                "No token: open the URL the mark command printed (it holds the token).",
            )
        return True

    def _check_form_origin(self, form: dict) -> None:
        origin = self.headers.get("Origin")
        if origin is None:  # some clients send only a Referer; one of the two is required
            referer = urlsplit(self.headers.get("Referer") or "")
            origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else None
        if not same(origin, f"http://{self.server.origin}"):
            raise Refusal(
                HTTPStatus.FORBIDDEN,
                "A form from another page: marks are saved only from this server's own pages.",
            )
        if not same(form.get("csrf"), self.server.marking.csrf(self._session())):
            raise Refusal(
                HTTPStatus.FORBIDDEN,
                "The form's CSRF token does not match this browser's session: reload the page and save again.",
            )

    def _form(self) -> dict[str, str]:
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            raise Refusal(HTTPStatus.BAD_REQUEST, "A form without a valid length.") from None
        if length < 0 or length > MAX_BODY:
            raise Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"A form of more than {MAX_BODY // 1024} KiB."
            )
        if "application/x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
            raise Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Marks are sent as a plain form.")
        body = self.rfile.read(length).decode("utf-8", "replace")
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=20)
        return {name: values[0] for name, values in fields.items()}

    # -- the routes
    def do_GET(self):  # noqa: N802 - the standard library's name
        self._handle(self._get)

    def do_HEAD(self):  # noqa: N802
        self._handle(self._get)

    def do_POST(self):  # noqa: N802
        self._handle(self._post)

    def _handle(self, route) -> None:
        self._new_cookies: list[str] = []
        url = urlsplit(self.path)
        self._query = parse_qs(url.query)
        try:
            if self._check_access(url):
                route(url.path)
        except Refusal as refusal:
            self._refuse(refusal)
        except GradebookError as error:
            self._refuse(Refusal(HTTPStatus.CONFLICT, f"The gradebook refused: {error}"))
        except Exception:  # noqa: BLE001 - one failed request must not stop the server;
            # its traceback goes to the terminal
            traceback.print_exc()
            self._refuse(
                Refusal(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    "The marking server failed on this request (the terminal shows why); nothing was saved by it.",
                )
            )

    def _get(self, path: str) -> None:
        if path == "/":
            return self._index()
        if path.startswith("/static/") and path[len("/static/") :] in STATIC:
            name = path[len("/static/") :]
            return self._send(HTTPStatus.OK, (TEMPLATES / name).read_bytes(), STATIC[name])
        if path.startswith("/question/"):
            question_id, action = _question_path(path)
            if not action:
                return self._question(question_id)
        raise Refusal(HTTPStatus.NOT_FOUND, "No such page.")

    def _post(self, path: str) -> None:
        form = self._form()
        self._check_form_origin(form)
        if path == "/marker":
            return self._set_marker(form)
        if path.startswith("/question/"):
            question_id, action = _question_path(path)
            forms = {"": self._save_mark, "blank": self._mark_blank, "undo": self._undo_blank}
            if action in forms:
                return forms[action](question_id, form)
        raise Refusal(HTTPStatus.NOT_FOUND, "No such form.")

    # -- pages
    def _common(self) -> dict:
        marking = self.server.marking
        return {
            "csrf": marking.csrf(self._session()),
            "marker": self._marker(),
            "marker_fixed": marking.marker is not None,
        }

    def _index(self) -> None:
        marking = self.server.marking
        with open_gradebook(marking.gradebook) as book:
            students = book.students(marking.assignment)
            rows = []
            for question in book.questions(marking.assignment):
                answers = book.answers(marking.assignment, question.id)
                rows.append({"id": question.id, "title": question.title, "points": question.points,
                             "href": _question_href(question.id),
                             "answered": sum(1 for a in answers if a.text.strip()),
                             "marked": sum(1 for a in answers if a.mark is not None)})  # fmt: skip
        self._page(
            HTTPStatus.OK,
            "index.html",
            questions=rows,
            students=len(students),
            here="/",
            **self._common(),
        )

    def _find_question(self, book, question_id: str, status: int):
        for question in book.questions(self.server.marking.assignment):
            if question.id == question_id:
                return question
        raise Refusal(
            status,
            f"No written question {printable(question_id)[:40]!r} in {self.server.marking.assignment}.",
        )

    def _show_blank(self) -> bool:
        return self._query.get("blank") == ["1"]

    def _view_href(self, question_id: str, stale: bool = False) -> str:
        """The question's page as this request sees it (blank answers shown or not)."""
        query = "&".join(
            name for name, wanted in (("stale=1", stale), ("blank=1", self._show_blank())) if wanted
        )
        return _question_href(question_id) + (f"?{query}" if query else "")

    def _question(
        self,
        question_id: str,
        status: int = HTTPStatus.OK,
        notes: dict | None = None,
        notice: str | None = None,
    ) -> None:
        """The page of one question; `notes` (student -> what the last save said, what was typed)
        after a refused save, `notice` after a refused action on the whole question."""
        marking = self.server.marking
        notes = notes or {}
        with open_gradebook(marking.gradebook) as book, book.snapshot():
            question = self._find_question(book, question_id, HTTPStatus.NOT_FOUND)
            ids = [q.id for q in book.questions(marking.assignment)]
            answers = book.answers(marking.assignment, question.id)
            keys = book.handin_keys(marking.assignment)
            batch = book.last_batch(marking.assignment, question.id)
        position = ids.index(question.id)
        neighbours = {
            "previous": ids[position - 1] if position else None,
            "next": ids[position + 1] if position + 1 < len(ids) else None,
        }
        # anonymous: the class in the order of its keys (a shuffle no name predicts), numbered so
        ordered = answers if marking.names else sorted(answers, key=lambda a: keys[a.student])
        show_blank = self._show_blank()
        cards = []
        for label, answer in enumerate(ordered, 1):
            blank = not answer.text.strip()
            if blank and not show_blank and answer.student not in notes:
                continue
            note = {"message": None, "conflict": None} | notes.get(answer.student, {})
            mark = answer.mark.to_dict() if answer.mark else None
            points, comment = ("", "") if mark is None else (f"{mark['points']:g}", mark["comment"])
            cards.append(
                {
                    "number": len(cards),
                    "label": f"Hand-in {label}",
                    "handin": keys[answer.student],
                    "name": answer.student if marking.names or mark is not None else "",
                    "text": answer.text,
                    "blank": blank,
                    "mark": mark,
                    "note": note,
                    "typed_points": note.get("points", points),
                    "typed_comment": note.get("comment", comment),
                }
            )
        href = _question_href(question.id)
        links = {k: (v, _question_href(v)) if v else None for k, v in neighbours.items()}
        self._page(
            status, "question.html", question=question, rubric=question.rubric, cards=cards,
            neighbours=links, here=self._view_href(question.id), question_href=href,
            query="?blank=1" if show_blank else "", show_blank=show_blank,
            progress=_progress(answers), batch=batch, notice=notice, names=marking.names,
            max_comment=MAX_COMMENT, stale="stale" in self._query, **self._common(),
        )  # fmt: skip

    # -- forms
    def _set_marker(self, form: dict) -> None:
        name = clean_marker(form.get("marker"))
        if name is None:
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                f"Your name, please: one line of at most {MAX_MARKER} printable characters.",
            )
        self._new_cookies.append(self._set_cookie("marker", quote(name, safe="")))
        back = form.get("next") or "/"
        self._redirect(
            back if back.startswith("/") and not back.startswith("//") and "\\" not in back else "/"
        )

    def _required_marker(self) -> str:
        marker = self._marker()
        if marker is None:
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                "Say who you are first (the name box at the top of the page): every mark records its marker.",
            )
        return marker

    def _student_of(self, book: Gradebook, form: dict) -> str:
        """The student a form marks: by the page's opaque hand-in key, or (a script's) by name."""
        assignment = self.server.marking.assignment
        if "handin" in form:
            for student, key in book.handin_keys(assignment).items():
                if same(form["handin"], key):
                    return student
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                f"No such hand-in in {assignment} (graded again meanwhile?): reload the page.",
            )
        student = form.get("student", "")
        if student not in book.students(assignment):
            raise Refusal(
                HTTPStatus.BAD_REQUEST, f"No student {printable(student)[:60]!r} in {assignment}."
            )
        return student

    def _save_mark(self, question_id: str, form: dict) -> None:
        marking = self.server.marking
        marker = self._required_marker()
        comment = form.get("comment", "").replace("\r\n", "\n")
        if len(comment) > MAX_COMMENT:
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                f"A comment of at most {MAX_COMMENT} characters, not {len(comment)}.",
            )
        revision_text = form.get("revision", "").strip()
        if revision_text and not _COUNT.fullmatch(revision_text):
            raise Refusal(
                HTTPStatus.BAD_REQUEST, "The form's revision is not a number: reload the page."
            )
        revision = int(revision_text) if revision_text else None
        with open_gradebook(marking.gradebook) as book:
            question = self._find_question(book, question_id, HTTPStatus.BAD_REQUEST)
            student = self._student_of(book, form)
            typed = {"points": form.get("points", "")[:20], "comment": comment}
            try:
                points = parse_points(form.get("points"), question.points)
            except Refusal as refusal:
                return self._refused_save(question.id, student, refusal, typed)
            try:
                mark = book.set_mark(
                    marking.assignment,
                    student,
                    question.id,
                    points,
                    comment,
                    marker,
                    expected_revision=revision,
                )
            except MarkRefused as refusal:
                current = next(
                    (
                        m
                        for m in book.marks(marking.assignment)
                        if m.student == student and m.question == question.id
                    ),
                    None,
                )
                if current is not None and current.revision != revision:
                    conflict = {
                        "theirs": current.to_dict(),
                        "yours": {"points": points, "comment": comment},
                    }
                    message = (
                        f"Changed by {current.marker or 'someone'} meanwhile: "
                        f"they gave {current.points:g}, you typed {points:g}. "
                        "Save again to put yours in place of theirs."
                    )
                    return self._refused_save(
                        question.id, student, Refusal(HTTPStatus.CONFLICT, message), typed, conflict
                    )
                return self._refused_save(
                    question.id, student, Refusal(HTTPStatus.BAD_REQUEST, str(refusal)), typed
                )
            progress = _progress(book.answers(marking.assignment, question.id))
            stale = self._refresh(book)
        if self._wants_json():
            reply = {"saved": mark.to_dict(), "stale": stale, "progress": progress}
            return self._json(HTTPStatus.OK, reply)
        following = form.get("following", "")
        anchor = (
            f"answer-{following}" if _COUNT.fullmatch(following) else "top"
        )  # without script: open at the next answer
        self._redirect(f"{self._view_href(question.id, bool(stale))}#{anchor}")

    def _mark_blank(self, question_id: str, form: dict) -> None:
        """Every blank answer not marked yet gets 0, as one batch (a mark someone gave is kept)."""
        marking = self.server.marking
        marker = self._required_marker()
        with open_gradebook(marking.gradebook) as book:
            question = self._find_question(book, question_id, HTTPStatus.BAD_REQUEST)
            try:
                book.mark_blank_answers(marking.assignment, question.id, 0, BLANK_COMMENT, marker)
            except MarkRefused as refusal:
                notice = f"Nothing was given 0: {refusal} (someone may have done it meanwhile)."
                return self._question(question.id, HTTPStatus.CONFLICT, notice=notice)
            stale = self._refresh(book)
        self._redirect(f"{self._view_href(question.id, bool(stale))}#top")

    def _undo_blank(self, question_id: str, form: dict) -> None:
        """The question's latest batch taken back: those of its marks that still stand go."""
        marking = self.server.marking
        marker = self._required_marker()
        wanted = form.get("batch", "").strip()
        if not _COUNT.fullmatch(wanted):
            raise Refusal(
                HTTPStatus.BAD_REQUEST, "The form's batch is not a number: reload the page."
            )
        with open_gradebook(marking.gradebook) as book:
            question = self._find_question(book, question_id, HTTPStatus.BAD_REQUEST)
            batch = book.last_batch(marking.assignment, question.id)
            try:
                if batch is None or batch.id != int(wanted):
                    raise MarkRefused("those marks are no longer the latest given at once; reload")
                book.undo_batch(marking.assignment, batch.id, marker)
            except MarkRefused as refusal:
                notice = f"Nothing was undone: {refusal}."
                return self._question(question.id, HTTPStatus.CONFLICT, notice=notice)
            stale = self._refresh(book)
        self._redirect(f"{self._view_href(question.id, bool(stale))}#top")

    def _refused_save(
        self,
        question_id: str,
        student: str,
        refusal: Refusal,
        typed: dict,
        conflict: dict | None = None,
    ) -> None:
        if self._wants_json():
            return self._json(refusal.status, {"refused": str(refusal), "conflict": conflict})
        self._question(
            question_id,
            refusal.status,
            {student: {"message": str(refusal), "conflict": conflict, **typed}},
        )

    def _refresh(self, book: Gradebook) -> str | None:
        """The class outputs rewritten with the new mark in their totals; why not, if they could not be."""
        if self.server.marking.refresh is None:
            return None
        try:
            with refresh_lock(self.server.marking.gradebook):
                self.server.marking.refresh(book)
        except Exception as error:  # noqa: BLE001 - the mark is saved; the page says the totals files lag behind
            traceback.print_exc()
            return (
                "The mark is saved, but grades.csv and the dashboard were not rewritten "
                f"({type(error).__name__}); the next saved mark tries again."
            )
        return None


@contextmanager
def refresh_lock(path: Path):
    """One rewrite of the class outputs at a time, across the threads of a server and the servers of a
    gradebook: each rewrite reads the gradebook after its own mark, so the last one written holds every
    mark.  flock on the gradebook file itself: SQLite's own locks are fcntl's, which flock leaves alone."""
    with path.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _question_href(question_id: str) -> str:
    return "/question/" + quote(question_id, safe="")


def _question_path(path: str) -> tuple[str, str]:
    """/question/ID[/ACTION] as (question id, action): the id is quoted whole, "/" included."""
    question, _, action = path[len("/question/") :].partition("/")
    return unquote(question), action


def _progress(answers) -> dict[str, int]:
    """How far the marking of one question is, over the whole class (blank answers included)."""
    blank = [answer for answer in answers if not answer.text.strip()]
    return {
        "students": len(answers),
        "marked": sum(1 for answer in answers if answer.mark is not None),
        "answered": len(answers) - len(blank),
        "blank": len(blank),
        "blank_unmarked": sum(1 for answer in blank if answer.mark is None),
    }


def refuse_address(host: str) -> None:
    if host != LOOPBACK:
        raise MarkingError(f"The marking server listens on {LOOPBACK} only, not {host!r}: "
                           "the pages show every student's answers. From another machine, "
                           "forward the port (ssh -L PORT:127.0.0.1:PORT host).")  # fmt: skip


def serve(
    marking: Marking,
    port: int = 0,
    host: str = LOOPBACK,
    announce: Callable[[MarkingServer], None] = print,
) -> None:
    """Serve until interrupted; `announce` is told the server once it listens (its URL holds the token)."""
    refuse_address(host)
    if not marking.gradebook.is_file():
        raise MarkingError(
            f"No gradebook at {marking.gradebook}: "
            f"run `python -m grader grade SUBMISSIONS --out {marking.gradebook.parent}` first."
        )
    with open_gradebook(marking.gradebook) as book:
        if not book.questions(marking.assignment):
            raise MarkingError(
                f"{marking.gradebook} holds no written question of {marking.assignment} "
                f"(was it graded with --assignment {marking.assignment}?)."
            )
    try:
        server = MarkingServer(marking, port)
    except OSError as error:
        raise MarkingError(
            f"Cannot listen on {LOOPBACK}:{port} ({error.strerror or error}); "
            "give another --port, or 0 for any free one."
        ) from None
    with server:
        announce(server)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass

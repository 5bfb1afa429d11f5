"""Leads for academic integrity, for staff only: hand-ins that share wrong answers nobody else
gives, and how alike their code is.

A numerical homework gives a stronger signal than tokens.  Two hand-ins that return the same
wrong numbers, to ten digits and more, on cases they never saw share code or a source, unless
the numbers are a common mistake.  So:

- Only wrong answers count: the values of a failing case, hidden ones included.  A right
  answer is never evidence, nor an answer of zeros or of values that are not finite.
- A wrong answer that a catalogued mistake explains is common, and left out; so is one that
  more than `common_above(n)` of a class of n hand-ins give: real mistakes are mostly not in
  the catalogue, and two students can make the same one on their own.
- Answers are bucketed by a hash of their check, case and values rounded to BUCKET_DIGITS
  significant digits, in one pass over the class; pairs are formed only inside the buckets
  few enough hand-ins share, so a class of 2,000 costs about what its answers do.
- A pair that shares at least MIN_SHARED such answers is a lead.  Its code is compared with
  copydetect (a MOSS-like winnowing detector; names are normalised, so renamed variables
  still match), on the code the grader ran, notebook cells joined, with the starter files'
  code, and the passages more than SHARED_PASSAGES (or `common_above(n)`) hand-ins hold,
  as code every hand-in may share (MOSS's default).  Similar code ranks first; the same wrong numbers in different code
  follow, said as such.

It reads what `grade` wrote (OUT/<id>/grading.json) and the hand-ins' files where they still
are, and writes LEADS_PAGE beside the dashboard, and one page per lead whose code was compared
(PAIR_PAGES, the pair's ids after it).
It changes no score and reaches no student's view: a lead is for a conversation, never a
verdict.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

from grader.engine.discover import Submission, submission_at
from grader.engine.load import load_submission
from grader.outputs.html import render_page

BUCKET_DIGITS = 10  # answers equal to this many significant digits share a bucket
MIN_SHARED = 2  # wrong answers (check and case) a pair must share to be listed
# the share of the smaller hand-in's code that matches, from which code is similar
SIMILAR_CODE = 0.5
# copydetect: matches shorter than this many characters of filtered code are noise
NOISE_TOKENS = 25
# Every k-gram is kept (a window of 1, no winnowing): copydetect hashes them with Python's hash(),
# which differs in every process, so a winnowing window would keep other k-grams in each run
# and the figures would not repeat.  Hand-ins are small: keeping them all costs little.
WINDOW = 1
# code passages more hand-ins than this hold are shared code, as MOSS leaves out by default
SHARED_PASSAGES = 10
MAX_VALUES = 100_000  # of one answer, hashed and compared; the grader bounds what it reads anyway
MAX_CODE_CHARS = 400_000  # of one hand-in's code, compared
LEADS_PAGE = "similar.html"  # in the outputs folder, beside the dashboard
PAIR_PAGES = "similar-"  # similar-<a>--<b>.html beside it
FULL_DIGITS = 16  # what float64 holds: values equal to the last digit


def common_above(hand_ins: int) -> int:
    """A wrong answer more hand-ins than this give is common: a handful, or 4% of a large class."""
    return max(4, math.ceil(hand_ins / 25))


@dataclass(frozen=True)
class WrongAnswer:
    check: str
    case: str
    hidden: bool
    values: tuple[float, ...]

    @property
    def key(self) -> bytes:
        rounded = ",".join(f"{v:.{BUCKET_DIGITS}g}" for v in self.values)
        return hashlib.blake2b(
            f"{self.check}|{self.case}|{rounded}".encode(), digest_size=16
        ).digest()

    @property
    def where(self) -> str:
        return f"{self.check}, {'a hidden case' if self.hidden else 'the given case'} ({self.case})"


@dataclass(frozen=True)
class HandIn:
    """One hand-in as the comparison sees it: its uncatalogued, non-trivial wrong answers."""

    id: str
    path: str | None
    answers: tuple[WrongAnswer, ...]
    catalogued: int = 0  # wrong answers left out as a catalogued mistake's
    loaded: bool = True


@dataclass
class Lead:
    a: str
    b: str
    shared: list[tuple[WrongAnswer, int, int]] = field(
        default_factory=list
    )  # answer, digits, holders
    similarity: float | None = None  # of the code: the share of the smaller hand-in that matches
    identical_code: bool = False
    marked: tuple[list, list] | None = None  # each side's code as (text, matched) pieces

    @property
    def checks(self) -> list[str]:
        return sorted({answer.check for answer, _, _ in self.shared})

    @property
    def similar_code(self) -> bool:
        return self.identical_code or (self.similarity or 0) >= SIMILAR_CODE

    @property
    def page(self) -> str:
        return f"{PAIR_PAGES}{quote(self.a, safe='')}--{quote(self.b, safe='')}.html"


@dataclass
class Leads:
    hand_ins: int
    compared: int  # hand-ins that gave at least one wrong answer to compare
    common_above: int
    leads: list[Lead]
    common: list[tuple[str, str, int]]  # check, case, hand-ins: uncatalogued answers many give
    catalogued: int
    seconds: float = 0.0
    code_note: str = ""

    @property
    def nothing_to_compare(self) -> str:
        if self.hand_ins < 2:
            return "fewer than two hand-ins: nothing to compare"
        if self.compared < 2:
            return (
                "fewer than two hand-ins gave a wrong answer that no catalogued mistake explains: "
                "nothing to compare (right answers are never evidence)"
            )
        return ""


def _values(case: dict) -> tuple[float, ...] | None:
    observed = case.get("observed")
    if observed is None or case.get("status") != "failed":
        return None
    try:
        values = np.asarray(observed, dtype=np.float64).ravel()[:MAX_VALUES]
    except (TypeError, ValueError):
        return None
    if values.size == 0 or not np.isfinite(values).all() or not values.any():
        return None  # nothing, or zeros, NaN or infinities: what any stub gives
    return tuple(float(v) for v in values)


def hand_in_of(grading: dict) -> HandIn:
    """A hand-in's wrong answers from its grading.json (the grader's own record, staff view)."""
    answers, catalogued = [], 0
    for check in grading.get("checks", ()):
        explained = any(d.get("kind") == "misconception" for d in check.get("diagnoses", ()))
        for case in check.get("cases", ()):
            values = _values(case)
            if values is None:
                continue
            if explained:
                catalogued += 1
                continue
            answers.append(
                WrongAnswer(
                    str(check["check"]), str(case["case"]), bool(case.get("hidden")), values
                )
            )
    submission = grading.get("submission", {})
    return HandIn(
        str(submission.get("id")),
        submission.get("path"),
        tuple(answers),
        catalogued,
        grading.get("load", {}).get("status") == "ok",
    )


def read_class(out: Path, ids: Iterable[str] | None = None) -> list[HandIn]:
    """The hand-ins `grade` wrote into `out` (those of `ids`, else every one), in name order."""
    found = []
    paths = (
        sorted(out.glob("*/grading.json"))
        if ids is None
        else [out / name / "grading.json" for name in sorted(ids)]
    )
    for path in paths:
        try:
            found.append(hand_in_of(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a record the grader could not finish writing: not evidence
    return found


def agreeing_digits(a: tuple[float, ...], b: tuple[float, ...]) -> int:
    """Significant digits two answers agree to, at their worst element (FULL_DIGITS: equal)."""
    x, y = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.abs(x), np.abs(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale > 0, np.abs(x - y) / scale, 0.0)
    worst = float(relative.max()) if relative.size else 0.0
    return FULL_DIGITS if worst == 0 else max(0, min(FULL_DIGITS, int(-math.log10(worst))))


def shared_wrong_answers(hand_ins: list[HandIn]) -> Leads:
    """The pairs that share rare wrong answers, and the common answers left out."""
    started = time.perf_counter()
    limit = common_above(len(hand_ins))
    buckets: dict[bytes, list[tuple[str, WrongAnswer]]] = defaultdict(list)
    for hand_in in hand_ins:
        for answer in hand_in.answers:
            buckets[answer.key].append((hand_in.id, answer))
    leads: dict[tuple[str, str], Lead] = {}
    common = []
    for holders in buckets.values():
        students = sorted({student for student, _ in holders})
        if len(students) < 2:
            continue
        first = holders[0][1]
        if len(students) > limit:
            common.append((first.check, first.case, len(students)))
            continue
        by_student = dict(holders)
        for i, a in enumerate(students):
            for b in students[i + 1 :]:
                lead = leads.setdefault((a, b), Lead(a, b))
                digits = agreeing_digits(by_student[a].values, by_student[b].values)
                lead.shared.append((by_student[a], digits, len(students)))
    listed = [lead for lead in leads.values() if len(lead.shared) >= MIN_SHARED]
    return Leads(
        hand_ins=len(hand_ins),
        compared=sum(1 for h in hand_ins if h.answers),
        common_above=limit,
        leads=listed,
        common=sorted(common, key=lambda c: (-c[2], c[0], c[1])),
        catalogued=sum(h.catalogued for h in hand_ins),
        seconds=time.perf_counter() - started,
    )


def code_of(hand_in: HandIn) -> str | None:
    """The code the grader ran of a hand-in (its .py files, a notebook's code cells joined),
    read again from where it was graded; None where it is gone."""
    if not hand_in.path:
        return None
    found = submission_at(Path(hand_in.path))
    if not isinstance(found, Submission):
        return None
    loaded = load_submission(found)
    text = "\n\n".join(f.text for f in loaded.files if f.kind in ("py", "ipynb"))
    return text[:MAX_CODE_CHARS] if text.strip() else None


def _pieces(code: str, slices) -> list[tuple[str, bool]]:
    pieces, at = [], 0
    for start, end in sorted(zip(slices[0].tolist(), slices[1].tolist())):
        start, end = max(start, at), min(end, len(code))
        if start > at:
            pieces.append((code[at:start], False))
        if end > start:
            pieces.append((code[start:end], True))
            at = end
    pieces.append((code[at:], False))
    return pieces


def compare_code(
    leads: Leads,
    code: Callable[[str], str | None],
    boilerplate: Iterable[str] = (),
    everyone: Iterable[str] = (),
) -> None:
    """Each lead's code similarity and matching passages (copydetect), in place.  What every
    hand-in starts from (the starter files' code) and what many of the class (`everyone`) write
    alike, passages in more than `common_above` hand-ins as MOSS leaves them out, are shared
    code, never a match: a short homework's textbook lines would otherwise make any two
    hand-ins look alike."""
    if not leads.leads:
        return
    try:
        import copydetect  # matplotlib comes with it: loaded only when there is code to compare
    except ImportError:
        leads.code_note = "code not compared: copydetect is not installed (pip install copydetect)"
        return
    texts: dict[str, str | None] = {}

    def text_of(student: str) -> str | None:
        if student not in texts:
            texts[student] = code(student)
        return texts[student]

    def hashes(text: str, shared=None) -> object:
        return copydetect.CodeFingerprint(
            "hand_in.py", NOISE_TOKENS, WINDOW, shared, fp=io.StringIO(text)
        )

    shared = set()
    for text in boilerplate:
        shared |= hashes(text).hashes
    counts: dict[int, int] = defaultdict(int)
    population = [text for text in map(text_of, everyone) if text is not None]
    for text in population:
        for value in hashes(text).hashes:
            counts[value] += 1
    limit = max(SHARED_PASSAGES, common_above(len(population)))
    shared |= {value for value, count in counts.items() if count > limit}
    shared_array = np.array(sorted(shared), dtype=np.int64)
    prints: dict[str, object] = {}

    def fingerprint(student: str):
        if student not in prints and text_of(student) is not None:
            prints[student] = hashes(texts[student], shared_array)
        return prints.get(student)

    missing = set()
    for lead in leads.leads:
        a, b = fingerprint(lead.a), fingerprint(lead.b)
        if a is None or b is None:
            missing.update(s for s, p in ((lead.a, a), (lead.b, b)) if p is None)
            continue
        lead.identical_code = texts[lead.a] == texts[lead.b]
        _, similarities, slices = copydetect.compare_files(a, b)
        lead.similarity = float(max(similarities))
        if len(slices[0]):
            lead.marked = (_pieces(texts[lead.a], slices[0]), _pieces(texts[lead.b], slices[1]))
    if missing:
        leads.code_note = (
            f"code not compared for {', '.join(sorted(missing))}: its files are no longer where "
            "they were graded"
        )


def ranked(leads: list[Lead]) -> list[Lead]:
    """Identical code, then similar code, then the most checks and answers shared."""
    return sorted(
        leads,
        key=lambda lead: (
            not lead.identical_code,
            not lead.similar_code,
            -len(lead.checks),
            -len(lead.shared),
            -(lead.similarity or 0),
            lead.a,
            lead.b,
        ),
    )


def find_leads(
    hand_ins: list[HandIn], boilerplate: Iterable[str] = (), code: Callable | None = None
) -> Leads:
    started = time.perf_counter()
    found = shared_wrong_answers(hand_ins)
    paths = {h.id: h for h in hand_ins}
    compare_code(found, code or (lambda student: code_of(paths[student])), boilerplate, list(paths))
    found.leads = ranked(found.leads)
    found.seconds = time.perf_counter() - started
    return found


def _digits_words(digits: int) -> str:
    return "to the last digit" if digits >= FULL_DIGITS else f"to {digits} digits"


def lead_context(lead: Lead) -> dict:
    answers = [
        {"where": answer.where, "digits": _digits_words(digits), "holders": holders}
        for answer, digits, holders in sorted(
            lead.shared, key=lambda s: (s[0].check, s[0].hidden, s[0].case)
        )
    ]
    if lead.identical_code:
        code = "identical code: one hand-in submitted twice, or two copies of one file"
    elif lead.similarity is None:
        code = "code not compared"
    else:
        kind = (
            "similar code"
            if lead.similar_code
            else "different code, or code as much of the class writes it"
        )
        code = (
            f"{kind}: {lead.similarity:.0%} of the smaller hand-in's code matches, beyond the "
            "starter and the passages many hand-ins share"
        )
    return {
        "a": lead.a,
        "b": lead.b,
        "checks": lead.checks,
        "answers": answers,
        "code": code,
        "similar": lead.similar_code,
        "page": lead.page if lead.marked else None,
        "marked": lead.marked,
    }


def write_leads(out: Path, leads: Leads, assignment: str) -> Path:
    """OUT/similar.html, and OUT/similar-<a>--<b>.html for each lead whose code was compared."""
    for old in out.glob(f"{PAIR_PAGES}*--*.html"):
        if old.is_file():
            old.unlink()
    contexts = [lead_context(lead) for lead in leads.leads]
    for context in contexts:
        if context["page"]:
            page = render_page("integrity_pair.html", lead=context, assignment=assignment)
            (out / context["page"]).write_text(page, encoding="utf-8")
    page = render_page(
        "integrity.html",
        assignment=assignment,
        leads=leads,
        similar=[c for c in contexts if c["similar"]],
        different=[c for c in contexts if not c["similar"]],
        nothing=leads.nothing_to_compare,
        min_shared=MIN_SHARED,
        shared_passages=SHARED_PASSAGES,
    )
    path = out / LEADS_PAGE
    path.write_text(page, encoding="utf-8")
    return path

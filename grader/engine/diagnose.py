"""Diagnose: name the mistake behind a failing check, not only the mismatch.

Two questions, both answered in the grader's process from plain numbers:

1. Which entry of the assignment's catalogue (grader.core.catalog) reproduces the
   student's values?  Each failing check is matched against every entry that
   applies to it, on every case where the student returned numbers, within the
   check's own tolerance.  Where several match one check, the ones the rest of
   the submission contradicts least are kept: a passing check of another
   quantity rules out an entry that would have changed it too.  An entry may
   also be recognised from the pattern of the verdicts: right on the given
   case, wrong on hidden ones.
2. What the catalogue cannot say, the assignment's probes may
   (grader.core.assignment.Probes): extra calls of the student's code around a
   public case, e.g. central differences of a forward pass, telling a forward
   bug with a consistent backward pass from a backward bug; the spec may give
   partial credit for the first.

The catalogue runs only for failing checks; its predictions depend on the plan
alone, so `Predictions` keeps them for every submission of a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.core.cases import Case, CaseBook
from grader.core.catalog import Misconception
from grader.core.expected import Expected, call_key
from grader.core.spec import Check, Spec, SpecError
from grader.engine.compare import ShapeError, Verdict, observed_quantity

NO_MATCH = (
    "No mistake in the grader's catalog reproduces these numbers, so it cannot name the cause; "
    "compare your values with the expected ones and with the formula in the check's message."
)


@dataclass(frozen=True)
class Diagnosis:
    """A named cause of a failing check, for the student and for the class statistics."""

    id: str
    title: str
    explanation: str
    formula: str = ""
    # misconception: a catalogued mistake; root-cause: which function the bug is in (`where`);
    # consequence: these failures follow from the bug of another function, `where`
    kind: str = "misconception"
    where: str = ""

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "explanation": self.explanation,
            "formula": self.formula,
            "where": self.where,
        }

    @classmethod
    def of(cls, entry: Misconception) -> Diagnosis:
        return cls(entry.id, entry.title, entry.explanation, entry.formula)


@dataclass(frozen=True)
class Finding:
    """What the diagnose stage says about one check."""

    diagnoses: tuple[Diagnosis, ...] = ()
    note: str = ""
    credit: float = 0.0  # share of the check's points given although it failed


@dataclass(frozen=True)
class CheckEvidence:
    """One check as the student answered it: the verdicts, and the raw value of every case."""

    check: Check
    expected: tuple[Expected, ...]
    verdicts: tuple[Verdict, ...]
    returned: (
        tuple  # per case: the value tree the entry point returned, None where it returned nothing
    )

    @property
    def failed(self) -> bool:
        """Failed with something returned (wrong numbers or shape), not by an error or a timeout."""
        return any(v.status == "failed" for v in self.verdicts)


class Predictions:
    """What each catalogued mistake predicts on the plan's cases, each computed once per run.

    Shared by the submissions (and the threads) of one run; an entry computed
    twice by two threads is computed the same."""

    def __init__(self, spec: Spec, book: CaseBook):
        self.spec = spec
        self.book = book
        self._memo: dict[tuple, dict] = {}

    def get(self, entry: Misconception, index: int, check: Check, case: Case) -> dict:
        key = (entry.id, index, call_key(check, case))
        if key not in self._memo:
            self._memo[key] = self.spec.reference.predict(
                entry.variations[index], check, case, self.book
            )
        return self._memo[key]


# ------------------------------------------------------------------ matching


def _mask_like(comparable: np.ndarray, size: int) -> np.ndarray:
    """The reference's comparable elements, stretched to a prediction of another length."""
    if comparable.size == size:
        return comparable
    if size == 0:
        return np.zeros(0, dtype=bool)
    padded = np.concatenate(
        [comparable, np.repeat(comparable[-1:], max(0, size - comparable.size))]
    )
    return padded[:size]


def _conditioned(predicted: np.ndarray, observed: np.ndarray, curve: bool) -> np.ndarray:
    """Elements where a prediction can be held to: both finite, or both not.

    Where one float64 run overflows and the other does not (inf * 0 is nan in
    NumPy and may be 0 in an autograd node; a hand-written saturating function's
    derivative can be inf/inf), the two are not comparable, and a curve not after it."""
    usable = np.isfinite(predicted) == np.isfinite(observed)
    return np.logical_and.accumulate(usable) if curve else usable


def _within(check: Check, predicted: np.ndarray, observed: np.ndarray, mask: np.ndarray) -> bool:
    """`compare.judge`'s rule, without its report: every masked element within the check's tolerance."""
    return bool(check.tolerance.accepts(observed, predicted)[mask].all())


class _Matcher:
    """Which entries reproduce which checks of one submission (each answer computed once)."""

    def __init__(self, evidence: tuple[CheckEvidence, ...], predictions: Predictions):
        self.evidence = evidence
        self.predictions = predictions
        self._explains: dict[tuple[str, str], bool] = {}
        self._observed: dict[tuple, np.ndarray | None] = {}

    def _read(self, item: CheckEvidence, index: int, shape: tuple[int, ...]) -> np.ndarray | None:
        """The student's value for case `index`, read with `shape` (None: it is not that)."""
        key = (item.check.id, index, shape)
        if key not in self._observed:
            try:
                self._observed[key] = observed_quantity(item.returned[index], item.check, shape)
            except ShapeError:
                self._observed[key] = None
        return self._observed[key]

    def _reproduces(self, entry: Misconception, index: int, item: CheckEvidence) -> bool:
        compared = 0
        for number, (expected, tree) in enumerate(zip(item.expected, item.returned)):
            if tree is None:
                continue
            quantity = self.predictions.get(entry, index, item.check, expected.case)[
                item.check.quantity
            ]
            predicted = np.atleast_1d(np.asarray(quantity, dtype=np.float64))
            observed = self._read(item, number, predicted.shape)
            if observed is None:
                return False
            mask = _mask_like(expected.comparable, observed.size) & _conditioned(
                predicted.reshape(-1), observed, item.check.measure.curve
            )
            if not mask.any():
                continue  # this case cannot tell: one of the two runs overflowed where the other did not
            if not _within(item.check, predicted.reshape(-1), observed, mask):
                return False
            compared += 1
        return compared > 0

    def _right_on_given_only(self, item: CheckEvidence) -> bool:
        """Right on the given case, wrong on a hidden one with the given case's own values: the
        function's output did not change when its inputs did.  A value right by chance on the
        given case (an inactive unit, a small error) and different on the hidden ones is not it."""
        public = [i for i, v in enumerate(item.verdicts) if not v.hidden]
        if not public or not all(item.verdicts[i].passed for i in public):
            return False
        given = item.returned[public[0]]
        if given is None:
            return False
        for number, verdict in enumerate(item.verdicts):
            if not (verdict.hidden and verdict.status == "failed") or item.returned[number] is None:
                continue
            shape = item.expected[public[0]].shape or item.expected[public[0]].value.shape
            before = self._read(item, public[0], tuple(shape))
            after = self._read(item, number, tuple(shape))
            if before is not None and after is not None and np.array_equal(before, after):
                return True
        return False

    def explains(self, entry: Misconception, item: CheckEvidence) -> bool:
        key = (entry.id, item.check.id)
        if key not in self._explains:
            pattern = entry.right_on_given_only and self._right_on_given_only(item)
            self._explains[key] = pattern or any(
                self._reproduces(entry, i, item) for i in range(len(entry.variations))
            )
        return self._explains[key]

    def contradictions(self, entry: Misconception, part: str) -> tuple[int, int]:
        """Checks (of `part`, of all parts) the entry applies to whose returned numbers it does not reproduce."""
        against = [
            e
            for e in self.evidence
            if entry.applies_to(e.check) and any(t is not None for t in e.returned)
        ]
        missed = [e for e in against if not self.explains(entry, e)]
        return sum(e.check.part == part for e in missed), len(missed)

    def _upstream(self, item: CheckEvidence) -> set[str]:
        """The entry points of the check's part that run before it or are it, in the order the
        spec first checks them (for a network: the forward pass, the backward pass, training)."""
        entries = list(
            dict.fromkeys(e.check.entry for e in self.evidence if e.check.part == item.check.part)
        )
        return set(entries[: entries.index(item.check.entry) + 1])

    def contradicted(self, entry: Misconception, item: CheckEvidence) -> bool:
        """A check that passed disagrees with the entry: its variation changes that check's numbers
        and the student's are the reference's, in the check's own function or one that runs before
        it in its part.  (A forward mistake is never named for the backward pass where the forward
        checks pass; a forward function's mistake may still be named where a later function with a
        forward pass of its own gets it right.)  An entry recognised from the pattern of the
        verdicts is a mistake of one function at a time, and is held to its own checks only."""
        if entry.right_on_given_only:
            return False
        upstream = self._upstream(item)
        return any(
            e.check.entry in upstream
            and entry.applies_to(e.check)
            and all(v.passed for v in e.verdicts)
            and any(t is not None for t in e.returned)
            and not self.explains(entry, e)
            for e in self.evidence
        )

    def failures_explained(self, entry: Misconception) -> frozenset[str]:
        return frozenset(
            e.check.id
            for e in self.evidence
            if e.failed and entry.applies_to(e.check) and self.explains(entry, e)
        )

    def best(self, item: CheckEvidence) -> list[Misconception]:
        """The entries that reproduce this check, agree with every check that passed, and are not
        outdone by another that explains every failure they explain and more: one cause that
        explains every failure is said rather than several that each explain some."""
        matched = [
            m
            for m in self.predictions.spec.reference.catalog
            if m.applies_to(item.check)
            and self.explains(m, item)
            and not self.contradicted(m, item)
        ]
        if len(matched) <= 1:
            return matched
        covers = {m.id: self.failures_explained(m) for m in matched}
        matched = [m for m in matched if not any(covers[m.id] < covers[o.id] for o in matched)]
        ranks = {m.id: self.contradictions(m, item.check.part) for m in matched}
        fewest = min(ranks.values())
        return [m for m in matched if ranks[m.id] == fewest]


# ------------------------------------------------------------------ the stage


def diagnose_submission(
    spec: Spec,
    evidence: tuple[CheckEvidence, ...],
    predictions: Predictions,
    probes: tuple = (),
    outcomes: dict | None = None,
) -> dict[str, Finding]:
    """A `Finding` for every check; empty for the checks that passed.  The assignment's probes
    (grader.core.assignment.Probes) say, from their calls' outcomes, what the catalogue cannot."""
    matcher = _Matcher(evidence, predictions)
    probe_of = {p.check_id: p for p in probes}
    outcomes = outcomes or {}
    findings = {}
    for item in evidence:
        if not item.failed:
            findings[item.check.id] = Finding()
            continue
        named = tuple(Diagnosis.of(m) for m in matcher.best(item))
        cause = Finding()
        if item.check.id in probe_of and spec.reference.probes is not None:
            cause = spec.reference.probes.find(
                item, probe_of[item.check.id], outcomes, spec, probes
            )
        shown_numbers = any(v.observed is not None and not v.passed for v in item.verdicts)
        note = " ".join(filter(None, (NO_MATCH if not named and shown_numbers else "", cause.note)))
        findings[item.check.id] = Finding(named + cause.diagnoses, note, cause.credit)
    return findings


def check_catalog(spec: Spec, book: CaseBook, expected: tuple[Expected, ...]) -> None:
    """Refuse a catalogue with an entry that is no mistake: one of its variations gives the
    reference's values on the public case of every check it applies to (SpecError, naming it).
    An entry recognised as right on the given case only is exempt: the hidden cases show it."""
    public = {
        e.check_id: e
        for e in expected
        if not e.case.hidden and e.case == book.for_check(spec.check(e.check_id))[0]
    }
    for entry in spec.reference.catalog:
        if entry.right_on_given_only:
            continue  # right on the given case by its definition: only the hidden cases show it
        checks = [c for c in spec.checks if entry.applies_to(c) and c.id in public]
        for index, variation in enumerate(entry.variations):
            for check in checks:
                item = public[check.id]
                predicted = np.atleast_1d(
                    np.asarray(
                        spec.reference.predict(variation, check, item.case, book)[check.quantity],
                        dtype=np.float64,
                    )
                )
                if predicted.shape != item.shape or not _within(
                    check, predicted.reshape(-1), item.value, item.comparable
                ):
                    break
            else:
                where = ", ".join(c.id for c in checks) or "no check of the spec"
                raise SpecError(
                    f"{spec.reference.source}: catalog[{entry.id!r}].variations[{index}]: "
                    f"gives the reference's own values on {where}: it is not a mistake"
                )

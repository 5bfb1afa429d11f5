"""Diagnose: name the mistake behind a failing check, not only the mismatch.

Two questions, both answered in the grader's process from plain numbers:

1. Which catalogued mistake (`reference.misconceptions`) reproduces the
   student's values?  Each failing check is matched against every entry that
   applies to it, on every case where the student returned numbers, within the
   check's own tolerance.  Where several match one check, the ones the rest of
   the submission contradicts least are kept: a passing gradient check rules
   out "loss without the 1/2" for a training run that also fits "another step
   size".  `ignores-arguments` is recognised from its pattern as well: right on
   the given case, wrong on hidden ones.
2. Is the backward pass right for the student's own forward pass?  Extra calls
   of the student's forward function at w ± eps*e_i on a backward check's
   public case (`plan_probes`) give central differences of the student's loss;
   a wrong forward with a consistent backward is a forward bug, and the spec may
   give partial credit for it.  That credit needs a forward pass that is an
   attempt at this network: its outputs must move with every weight and input
   (calls at x + eps*e_j as well) wherever the reference's do at that case, or
   a "network" o = (w5, w6) with its derivative would earn it.

The catalog runs only for failing checks; its predictions depend on the plan
alone, so `Predictions` keeps them for every submission of a run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from grader.compare import ShapeError, Verdict, observed_quantity
from grader.execute import Call
from reference import network
from reference.cases import Case, CaseBook
from reference.contract import ENTRY_POINTS
from reference.expected import Expected, call_key
from reference.misconceptions import CATALOG, COURSE_NETWORK, Misconception
from reference.spec import Check, Spec

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
    kind: str = "misconception"  # misconception | root-cause

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "explanation": self.explanation, "formula": self.formula}

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
    returned: tuple  # per case: the value tree the entry point returned, None where it returned nothing

    @property
    def failed(self) -> bool:
        """Failed with something returned (wrong numbers or shape), not by an error or a timeout."""
        return any(v.status == "failed" for v in self.verdicts)


@dataclass(frozen=True)
class Probe:
    """Calls of the student's forward function around a backward check's public case."""

    check_id: str
    case: Case
    step: float
    center: str  # call ids
    plus: tuple[str, ...]  # at w + step*e_i, one per weight
    minus: tuple[str, ...]  # at w - step*e_i
    inputs: tuple[str, ...] = ()  # at x + step*e_j, one per input

    @property
    def calls(self) -> tuple[str, ...]:
        return (self.center, *self.plus, *self.minus, *self.inputs)


class Predictions:
    """What each catalogued mistake predicts on the plan's cases, each computed once per run.

    Shared by the submissions (and the threads) of one run; an entry computed
    twice by two threads is computed the same."""

    def __init__(self, given: Case):
        self.given = given
        self._memo: dict[tuple, dict] = {}

    def get(self, entry: Misconception, index: int, check: Check, case: Case) -> dict:
        key = (entry.id, index, call_key(check, case))
        if key not in self._memo:
            self._memo[key] = entry.predict(index, check, case, self.given)
        return self._memo[key]


def given_case(spec: Spec) -> Case:
    given = spec.given_case
    return Case("given", tuple(given["x"]), tuple(given["y"]), tuple(given["w"]), False)


# ------------------------------------------------------------------ planning


def forward_entry(check: Check) -> str:
    """The entry point computing the outputs `check.entry` differentiates: the forward pass of its part."""
    return next(name for name, entry in ENTRY_POINTS.items() if entry.part == check.part and "o" in entry.quantities)


def probe_points(case: Case, step: float) -> list[tuple[tuple, tuple]]:
    """(x, w) of a probe's calls, in `Probe.calls` order: the case, w ± step*e_i, x + step*e_j."""
    x, w = np.array(case.x), np.array(case.w)
    moved_w = [w + sign * step * unit for sign in (1, -1) for unit in np.eye(w.size)]
    moved_x = [x + step * unit for unit in np.eye(x.size)]
    points = [(x, w)] + [(x, m) for m in moved_w] + [(m, w) for m in moved_x]
    return [(tuple(a.tolist()), tuple(b.tolist())) for a, b in points]


def plan_probes(spec: Spec, book: CaseBook, first_number: int = 1) -> tuple[tuple[Probe, ...], tuple[Call, ...]]:
    """For every backward check, calls of its forward function on its public case: the point,
    w ± step*e_i (the central differences) and x + step*e_j (does it depend on x at all);
    checks sharing a forward pass share the calls."""
    step = spec.diagnosis.finite_difference_step
    calls: dict[tuple, Call] = {}

    def call(entry: str, act: str, case: Case) -> str:
        key = (entry, act, case.x, case.w)
        if key not in calls:
            calls[key] = Call(f"fd{first_number + len(calls)}", entry, {"act": act}, case, arguments=ENTRY_POINTS[entry].arguments, framework=ENTRY_POINTS[entry].framework)
        return calls[key].id

    probes = []
    for check in spec.checks:
        if check.quantity != "gradients":
            continue
        forward, act = forward_entry(check), check.args["act"]
        public = book.for_check(check)[0]
        ids = [call(forward, act, replace(public, id=f"{public.id}-probe", x=x, w=w)) for x, w in probe_points(public, step)]
        weights = len(public.w)
        probes.append(Probe(check.id, public, step, ids[0], tuple(ids[1 : 1 + weights]), tuple(ids[1 + weights : 1 + 2 * weights]), tuple(ids[1 + 2 * weights :])))
    return tuple(probes), tuple(calls.values())


# ------------------------------------------------------------------ matching


def _mask_like(comparable: np.ndarray, size: int) -> np.ndarray:
    """The reference's comparable elements, stretched to a prediction of another length."""
    if comparable.size == size:
        return comparable
    if size == 0:
        return np.zeros(0, dtype=bool)
    padded = np.concatenate([comparable, np.repeat(comparable[-1:], max(0, size - comparable.size))])
    return padded[:size]


def _conditioned(predicted: np.ndarray, observed: np.ndarray, quantity: str) -> np.ndarray:
    """Elements where a prediction can be held to: both finite, or both not.

    Where one float64 run overflows and the other does not (inf * 0 is nan in
    NumPy and may be 0 in an autograd node; a hand-written saturating function's
    derivative can be inf/inf), the two are not comparable, and a curve not after it."""
    usable = np.isfinite(predicted) == np.isfinite(observed)
    return np.logical_and.accumulate(usable) if quantity == "loss_curve" else usable


def _within(check: Check, predicted: np.ndarray, observed: np.ndarray, mask: np.ndarray) -> bool:
    """`compare.judge`'s rule, without its report: every masked element within the check's tolerance."""
    return bool(check.tolerance.accepts(observed, predicted)[mask].all())


def _observed(tree, check: Check, size: int) -> np.ndarray:
    if check.quantity == "loss" and size == 0:  # no update made: the losses list is empty
        return observed_quantity(tree, replace(check, quantity="loss_curve"), 0)
    return observed_quantity(tree, check, size)


class _Matcher:
    """Which entries reproduce which checks of one submission (each answer computed once)."""

    def __init__(self, evidence: tuple[CheckEvidence, ...], predictions: Predictions):
        self.evidence = evidence
        self.predictions = predictions
        self._explains: dict[tuple[str, str], bool] = {}
        self._observed: dict[tuple, np.ndarray | None] = {}

    def _read(self, item: CheckEvidence, index: int, size: int) -> np.ndarray | None:
        """The student's value for case `index`, read as `size` numbers (None: it is not that)."""
        key = (item.check.id, index, size)
        if key not in self._observed:
            try:
                self._observed[key] = _observed(item.returned[index], item.check, size)
            except ShapeError:
                self._observed[key] = None
        return self._observed[key]

    def _reproduces(self, entry: Misconception, index: int, item: CheckEvidence) -> bool:
        compared = 0
        for number, (expected, tree) in enumerate(zip(item.expected, item.returned)):
            if tree is None:
                continue
            quantity = self.predictions.get(entry, index, item.check, expected.case)[item.check.quantity]
            predicted = np.atleast_1d(np.asarray(quantity, dtype=np.float64))
            observed = self._read(item, number, predicted.size)
            if observed is None:
                return False
            mask = _mask_like(expected.comparable, predicted.size) & _conditioned(predicted, observed, item.check.quantity)
            if not mask.any():
                continue  # this case cannot tell: one of the two runs overflowed where the other did not
            if not _within(item.check, predicted, observed, mask):
                return False
            compared += 1
        return compared > 0

    @staticmethod
    def _right_on_given_only(item: CheckEvidence) -> bool:
        public = [v for v in item.verdicts if not v.hidden]
        return bool(public) and all(v.passed for v in public) and any(v.hidden and v.status == "failed" for v in item.verdicts)

    def explains(self, entry: Misconception, item: CheckEvidence) -> bool:
        key = (entry.id, item.check.id)
        if key not in self._explains:
            pattern = entry.right_on_given_only and self._right_on_given_only(item)
            self._explains[key] = pattern or any(self._reproduces(entry, i, item) for i in range(len(entry.variations)))
        return self._explains[key]

    def contradictions(self, entry: Misconception, part: str) -> tuple[int, int]:
        """Checks (of `part`, of all parts) the entry applies to whose returned numbers it does not reproduce."""
        against = [e for e in self.evidence if entry.applies_to(e.check) and any(t is not None for t in e.returned)]
        missed = [e for e in against if not self.explains(entry, e)]
        return sum(e.check.part == part for e in missed), len(missed)

    def best(self, item: CheckEvidence) -> list[Misconception]:
        matched = [m for m in CATALOG if m.applies_to(item.check) and self.explains(m, item)]
        if len(matched) <= 1:
            return matched
        ranks = {m.id: self.contradictions(m, item.check.part) for m in matched}
        fewest = min(ranks.values())
        return [m for m in matched if ranks[m.id] == fewest]


# ------------------------------------------------------------------ root cause


def _forward_outputs(outcome, check: Check, size: int) -> np.ndarray | None:
    if outcome is None or outcome.status != "ok":
        return None
    try:
        return observed_quantity(outcome.value, replace(check, entry=forward_entry(check), quantity="o"), size)
    except ShapeError:
        return None


# A change of the outputs is measurable above a few float32 roundings (a float32
# forward pass is accepted); the reference's change is required to be seen only
# where it is well above that, so rounding never decides.
RESOLUTION = 8 * float(np.finfo(np.float32).eps)
REQUIRED = 10 * RESOLUTION


def _changes(outputs: list[np.ndarray], weights: int) -> np.ndarray:
    """How far the outputs move with each weight (w + step vs w - step), then each input (x + step vs x)."""
    center, plus, minus, moved = outputs[0], outputs[1 : 1 + weights], outputs[1 + weights : 1 + 2 * weights], outputs[1 + 2 * weights :]
    by_weight = [np.max(np.abs(p - m)) for p, m in zip(plus, minus)]
    by_input = [np.max(np.abs(m - center)) for m in moved]
    return np.array(by_weight + by_input)


def _moved_by(probe: Probe, outputs: list[np.ndarray], threshold: float) -> list[str]:
    """The weights and inputs, named as the assignment numbers them (w1.., x1..), that the
    outputs move with at the probe's case by more than `threshold` times their scale."""
    weights = len(probe.case.w)
    names = [f"w{i + 1}" for i in range(weights)] + [f"x{j + 1}" for j in range(len(outputs) - 1 - 2 * weights)]
    scale = max(1.0, float(np.max(np.abs(outputs[0]))))
    return [name for name, change in zip(names, _changes(outputs, weights)) if change > threshold * scale]


def ignored_inputs(probe: Probe, outputs: list[np.ndarray], act: str, elsewhere: tuple = ()) -> list[str]:
    """The weights and inputs the reference's outputs move with at the probe's case and the student's never do.

    One the reference does not depend on there (a dead ReLU unit, zero output weights)
    is not required.  The student's may move with it here or at the other probed points
    of the same forward function, `elsewhere` ((probe, outputs) pairs): a unit of a wrong
    network can be dead where the assignment's is not, and the function still uses it."""
    reference = [network.forward(x, w, act).o for x, w in probe_points(probe.case, probe.step)[: len(outputs)]]
    seen = {name for other, found in ((probe, outputs), *elsewhere) for name in _moved_by(other, found, RESOLUTION)}
    return [name for name in _moved_by(probe, reference, REQUIRED) if name not in seen]


def probe_outputs(probe: Probe, outcomes: dict, check: Check) -> list[np.ndarray] | None:
    """The student's forward outputs at each of the probe's calls; None unless all are finite numbers."""
    outputs = [_forward_outputs(outcomes.get(i), check, len(probe.case.y)) for i in probe.calls]
    return None if any(o is None or not np.all(np.isfinite(o)) for o in outputs) else outputs


def root_cause(item: CheckEvidence, probe: Probe, outcomes: dict, spec: Spec, elsewhere: tuple = ()) -> Finding:
    """Forward bug or backward bug, from central differences of the student's own forward pass.

    `elsewhere`: the (probe, outputs) of the other probed points of the same forward function."""
    check, settings = item.check, spec.diagnosis
    public = next((v for v in item.verdicts if v.case_id == probe.case.id), None)
    if public is None or public.status != "failed" or public.observed is None:
        return Finding()
    forward, backward = forward_entry(check), check.entry
    probed = [outcomes.get(i) for i in probe.calls]
    if any(o is not None and o.status == "timeout" for o in probed):  # not run, or cut short, for lack of time
        return Finding(note=(
            f"The grader could not tell whether your {backward} is the derivative of your own {forward}: "
            f"its calls of {forward} near the {probe.case.id} case ran out of time."
        ))  # fmt: skip
    outputs = probe_outputs(probe, outcomes, check)
    if outputs is None:
        return Finding()
    weights = len(probe.case.w)
    loss = check.args.get("loss", "mse")
    losses = np.array([network.loss_value(o, probe.case.y, loss) for o in outputs[1 : 1 + 2 * weights]])
    differences = (losses[:weights] - losses[weights:]) / (2 * probe.step)
    gradients = np.asarray(public.observed, dtype=np.float64)
    consistent = bool(np.all(np.abs(gradients - differences) <= settings.consistency.allowed(differences)))
    right = network.forward(probe.case.x, probe.case.w, check.args["act"]).o
    forward_right = bool(np.all(np.abs(outputs[0] - right) <= check.tolerance.allowed(right)))
    expected = next(e.value for e in item.expected if e.case.id == probe.case.id)
    slopes_right = bool(np.all(np.abs(differences - expected) <= settings.consistency.allowed(expected)))
    if consistent and not (forward_right and slopes_right):  # right for the network the forward pass computes, a wrong one
        ignored = ignored_inputs(probe, outputs, check.args["act"], elsewhere)
        credit = 0.0 if ignored else settings.consistent_backward_credit
        explanation = (
            f"Your {backward} is the exact derivative of the {loss} loss computed from your own {forward}: central "
            f"differences of {forward} at w ± {probe.step:g}·e_i agree with it on the {probe.case.id} case. The "
            f"back-propagation is right for the network your {forward} computes; that network is not the assignment's "
            f"({'its outputs differ' if not forward_right else 'its outputs change differently with w'}). Fix {forward} "
            f"and the gradients follow."
        )
        if credit:
            explanation += f" This check gives {credit:.0%} of its points for a backward pass consistent with its forward pass."
        note = ""
        if ignored and settings.consistent_backward_credit:
            note = (
                f"No points are given for this consistency: your {forward} does not depend on {', '.join(ignored)}: its outputs "
                f"do not change when {'it moves' if len(ignored) == 1 else 'they move'}, on the {probe.case.id} case or at "
                f"any other point the grader tried, while the network's do on the {probe.case.id} case. A share of the "
                f"points for a consistent backward pass needs a forward pass that computes this network from x and every weight."
            )
        diagnosis = Diagnosis("forward-bug-backward-consistent", "Forward pass wrong; the backward pass is consistent with it", explanation, COURSE_NETWORK, "root-cause")
        return Finding((diagnosis,), note, credit)
    if forward_right:
        explanation = (
            f"Your {forward} gives the right values, but central differences of the {loss} loss computed from it, "
            f"(E(w + ε·e_i) - E(w - ε·e_i)) / 2ε, disagree with what {backward} returns on the {probe.case.id} case: "
            f"the mistake is in the backward pass, or in the loss it differentiates, not in the forward pass."
        )
        formula = "dE/dw_i = (E(w + ε·e_i) - E(w - ε·e_i)) / (2ε) for a small ε"
        return Finding((Diagnosis("backward-not-derivative-of-forward", "The gradients are not the derivative of your forward pass", explanation, formula, "root-cause"),))
    return Finding()


# ------------------------------------------------------------------ the stage


def diagnose_submission(
    spec: Spec, evidence: tuple[CheckEvidence, ...], predictions: Predictions, probes: tuple[Probe, ...] = (), outcomes: dict | None = None
) -> dict[str, Finding]:
    """A `Finding` for every check; empty for the checks that passed."""
    matcher = _Matcher(evidence, predictions)
    probe_of = {p.check_id: p for p in probes}
    outcomes = outcomes or {}
    probed = []  # (forward entry, probe, outputs) of every probe that gave numbers
    for probe in probes:
        check = spec.check(probe.check_id)
        outputs = probe_outputs(probe, outcomes, check)
        if outputs is not None:
            probed.append((forward_entry(check), probe, outputs))
    findings = {}
    for item in evidence:
        if not item.failed:
            findings[item.check.id] = Finding()
            continue
        named = tuple(Diagnosis.of(m) for m in matcher.best(item))
        cause = Finding()
        if item.check.id in probe_of:
            elsewhere = tuple((p, o) for entry, p, o in probed if entry == forward_entry(item.check) and p.check_id != item.check.id)
            cause = root_cause(item, probe_of[item.check.id], outcomes, spec, elsewhere)
        shown_numbers = any(v.observed is not None and not v.passed for v in item.verdicts)
        note = " ".join(filter(None, (NO_MATCH if not named and shown_numbers else "", cause.note)))
        findings[item.check.id] = Finding(named + cause.diagnoses, note, cause.credit)
    return findings

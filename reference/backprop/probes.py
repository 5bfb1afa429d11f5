"""The diagnosis' probes: is a wrong backward pass right for the student's own forward pass?

Extra calls of the student's forward function at w ± eps*e_i on a backward
check's public case give central differences of the student's loss; a wrong
forward with a consistent backward is a forward bug, and the spec may give
partial credit for it.  That credit needs a forward pass that is an attempt at
this network: its outputs must move with every weight and input (calls at
x + eps*e_j as well) wherever the reference's do at that case, or a "network"
o = (w5, w6) with its derivative would earn it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from grader.core.assignment import Probes
from grader.core.cases import Case, CaseBook
from grader.core.spec import Check, Spec
from grader.engine.compare import ShapeError, observed_quantity
from grader.engine.diagnose import CheckEvidence, Diagnosis, Finding
from grader.engine.execute import Call
from grader.engine.steps import first_departure
from reference.backprop import network
from reference.backprop.cases import case_of, xyw
from reference.backprop.contract import ENTRY_POINTS, QUANTITIES
from reference.backprop.misconceptions import AUTOGRAD_RULE, COURSE_NETWORK, DELTA_RULE
from reference.backprop.steps import backward_steps, forward_steps, known_values, update_steps


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
    trace: str = ""  # the backward function itself at the case, its locals recorded line by line

    @property
    def forward_calls(self) -> tuple[str, ...]:
        return (self.center, *self.plus, *self.minus, *self.inputs)

    @property
    def calls(self) -> tuple[str, ...]:
        return (*self.forward_calls, *filter(None, (self.trace,)))


@dataclass(frozen=True)
class UpdateProbe:
    """One update of a training check's function and its part's backward function, at the
    check's public case and at the weights one right update from it (where a bug that vanishes
    at the starting weights, zero ones say, shows): is the step w - lr·backward(x, y, w)?"""

    check_id: str
    case: Case
    lr: float
    points: tuple[tuple[Case, str, str], ...]  # (case, training call id, backward call id)

    @property
    def calls(self) -> tuple[str, ...]:
        return tuple(i for _, train, backward in self.points for i in (train, backward))


@dataclass(frozen=True)
class ForwardProbe:
    """The forward function itself at a forward check's public case, its locals recorded."""

    check_id: str
    case: Case
    trace: str

    @property
    def calls(self) -> tuple[str, ...]:
        return (self.trace,)


def forward_entry(check: Check) -> str:
    """The entry point computing the outputs `check.entry` differentiates: the forward pass of its part."""
    return next(
        name
        for name, entry in ENTRY_POINTS.items()
        if entry.part == check.part and "o" in entry.quantities
    )


def backward_entry(check: Check) -> str:
    """The entry point of `check`'s part that returns the gradients."""
    return next(
        name
        for name, entry in ENTRY_POINTS.items()
        if entry.part == check.part and "gradients" in entry.quantities
    )


def probe_points(case: Case, step: float) -> list[tuple[tuple, tuple]]:
    """(x, w) of a probe's forward calls, in `Probe.forward_calls` order: the case, w ± step*e_i, x + step*e_j."""
    x, _, w = (np.array(v) for v in xyw(case))
    moved_w = [w + sign * step * unit for sign in (1, -1) for unit in np.eye(w.size)]
    moved_x = [x + step * unit for unit in np.eye(x.size)]
    points = [(x, w)] + [(x, m) for m in moved_w] + [(m, w) for m in moved_x]
    return [(tuple(a.tolist()), tuple(b.tolist())) for a, b in points]


def plan_probes(
    spec: Spec, book: CaseBook, first_number: int = 1
) -> tuple[tuple[Probe, ...], tuple[Call, ...]]:
    """For every backward check, calls of its forward function on its public case: the point,
    w ± step*e_i (the central differences) and x + step*e_j (does it depend on x at all);
    checks sharing a forward pass share the calls."""
    step = spec.diagnosis.finite_difference_step
    calls: dict[tuple, Call] = {}

    def call(entry: str, act: str, case: Case, trace: bool = False, **options) -> str:
        kwargs = {"act": act, **options}
        key = (entry, tuple(sorted(kwargs.items())), case.key, trace)
        if key not in calls:
            calls[key] = Call(
                f"fd{first_number + len(calls)}",
                entry,
                kwargs,
                case,
                arguments=ENTRY_POINTS[entry].arguments,
                framework=ENTRY_POINTS[entry].framework,
                trace=trace,
            )
        return calls[key].id

    probes = []
    for check in spec.checks:
        if not check.measure.derivative:
            continue
        forward, act = forward_entry(check), check.args["act"]
        public = book.for_check(check)[0]
        y = xyw(public)[1]
        ids = [
            call(forward, act, case_of(f"{public.id}-probe", x, y, w, False))
            for x, w in probe_points(public, step)
        ]
        weights = len(xyw(public)[2])
        by_hand = ENTRY_POINTS[check.entry].framework == "numpy"  # Part A: the chain rule by hand
        losses = {"loss": check.args["loss"]} if "loss" in check.args else {}
        probes.append(
            Probe(
                check.id,
                public,
                step,
                ids[0],
                tuple(ids[1 : 1 + weights]),
                tuple(ids[1 + weights : 1 + 2 * weights]),
                tuple(ids[1 + 2 * weights :]),
                call(check.entry, act, public, trace=True, **losses) if by_hand else "",
            )
        )
    for check in spec.checks:
        if not ENTRY_POINTS[check.entry].trains:
            continue
        public = book.for_check(check)[0]
        backward = backward_entry(check)
        losses = {"loss": check.args["loss"]} if "loss" in check.args else {}
        options = {k: v for k, v in check.args.items() if k not in ("act", "epochs")}
        x, y, w = xyw(public)
        lr, act = float(check.args["lr"]), check.args["act"]
        stepped, _ = network.train(x, y, w, lr, 1, act, check.args.get("loss", "mse"))
        after = case_of(f"{public.id}-after-a-step", x, y, tuple(stepped.tolist()), False)
        by_hand = ENTRY_POINTS[check.entry].framework == "numpy"
        points = tuple(
            (
                case,
                call(
                    check.entry,
                    act,
                    case,
                    trace=by_hand and case is public,
                    **{**options, "epochs": 1},
                ),
                call(backward, act, case, **losses),
            )
            for case in (public, after)
        )
        probes.append(UpdateProbe(check.id, public, lr, points))
    for check in spec.checks:  # Part A's forward checks: the forward function, traced
        entry = ENTRY_POINTS[check.entry]
        if check.measure.derivative or entry.trains or entry.framework != "numpy":
            continue
        public = book.for_check(check)[0]
        probes.append(
            ForwardProbe(check.id, public, call(check.entry, check.args["act"], public, trace=True))
        )
    return tuple(probes), tuple(calls.values())


def _traced(outcome, steps, known, check: Check, entry: str, against: str) -> str:
    """The sentence on the first local of a traced call that departs from `steps`, or ""."""
    if outcome is None or not outcome.locals:
        return ""
    departure = first_departure(outcome.locals, steps, known, check.tolerance)
    return departure.sentence(entry, against) if departure is not None else ""


def forward_departure(item: CheckEvidence, probe: ForwardProbe, outcomes: dict) -> Finding:
    """A failing forward check: which local of the forward function departs first, on which line."""
    check = item.check
    x, _, w = xyw(probe.case)
    said = _traced(
        outcomes.get(probe.trace), forward_steps(x, w, check.args["act"]), known_values(x, (), w),
        check, check.entry, "the network's forward pass",
    )  # fmt: skip
    return Finding(note=said)


def _member(outcome, check: Check, entry: str, quantity: str, size: int) -> np.ndarray | None:
    """One quantity of a probe call's answer (the outputs, the gradients, the final weights)."""
    if outcome is None or outcome.status != "ok":
        return None
    try:
        return observed_quantity(
            outcome.value,
            replace(
                check,
                entry=entry,
                quantity=quantity,
                signature=ENTRY_POINTS[entry],
                measure=QUANTITIES[quantity],
            ),
            (size,),
        )
    except ShapeError:
        return None


def update_departure(item: CheckEvidence, probe: UpdateProbe, outcomes: dict) -> Finding:
    """A training check whose failures are its own: which local of one traced update departs
    first from a step of gradient descent, on which line."""
    check = item.check
    case, train, _ = probe.points[0]
    x, y, w = xyw(case)
    steps = update_steps(x, y, w, probe.lr, check.args["act"], check.args.get("loss", "mse"))
    said = _traced(
        outcomes.get(train), steps, known_values(x, y, w, probe.lr, 1), check, check.entry,
        "one step of gradient descent",
    )  # fmt: skip
    return Finding(note=said)


def update_follows(item: CheckEvidence, probe: UpdateProbe, outcomes: dict, spec: Spec) -> Finding:
    """A training check's failures are its part's backward function's where the training
    function's step is w - lr·(that function's gradients) at every probed point and those
    gradients are wrong at one: one cause, said once, under the backward function."""
    check = item.check
    backward = backward_entry(check)
    # wrong as the backward function's own checks judge it
    graded = next(c.tolerance for c in spec.checks if c.entry == backward)
    wrong_at = []
    for case, train, backward_call in probe.points:
        stepped = _member(outcomes.get(train), check, check.entry, "final_weights", 8)
        gradients = _member(outcomes.get(backward_call), check, backward, "gradients", 8)
        if stepped is None or gradients is None:
            return Finding()
        x, y, w = (np.array(v, dtype=np.float64) for v in xyw(case))
        step = w - probe.lr * gradients
        if not np.all(np.abs(stepped - step) <= check.tolerance.allowed(step)):
            return Finding()  # it does not train with those gradients: its failures are its own
        right = network.gradients(x, y, w, check.args["act"], check.args.get("loss", "mse"))
        if not np.all(np.abs(gradients - right) <= graded.allowed(right)):
            wrong_at.append(case)
    if not wrong_at:
        return Finding()  # right gradients: what is wrong is the training function's own
    where = (
        f"on the {probe.case.id} case"
        if wrong_at[0] is probe.points[0][0]
        else f"one update after the {probe.case.id} case"
    )
    explanation = (
        f"Your {check.entry} takes its steps with the gradients of your {backward}: its update {where} "
        f"is exactly w - lr·{backward}(x, y, w), and those gradients are wrong there, so its losses and "
        f"weights are too. Fix {backward} and these checks follow."
    )
    diagnosis = Diagnosis(
        "follows-from-backward",
        f"Follows from {backward}'s gradients",
        explanation,
        "",
        "consequence",
        backward,
    )
    return Finding((diagnosis,))


# A change of the outputs is measurable above a few float32 roundings (a float32
# forward pass is accepted); the reference's change is required to be seen only
# where it is well above that, so rounding never decides.
RESOLUTION = 8 * float(np.finfo(np.float32).eps)
REQUIRED = 10 * RESOLUTION


def _changes(outputs: list[np.ndarray], weights: int) -> np.ndarray:
    """How far the outputs move with each weight (w + step vs w - step), then each input (x + step vs x)."""
    center, plus, minus, moved = (
        outputs[0],
        outputs[1 : 1 + weights],
        outputs[1 + weights : 1 + 2 * weights],
        outputs[1 + 2 * weights :],
    )
    by_weight = [np.max(np.abs(p - m)) for p, m in zip(plus, minus)]
    by_input = [np.max(np.abs(m - center)) for m in moved]
    return np.array(by_weight + by_input)


def _moved_by(probe: Probe, outputs: list[np.ndarray], threshold: float) -> list[str]:
    """The weights and inputs, named as the assignment numbers them (w1.., x1..), that the
    outputs move with at the probe's case by more than `threshold` times their scale."""
    weights = len(xyw(probe.case)[2])
    names = [f"w{i + 1}" for i in range(weights)] + [
        f"x{j + 1}" for j in range(len(outputs) - 1 - 2 * weights)
    ]
    scale = max(1.0, float(np.max(np.abs(outputs[0]))))
    return [
        name
        for name, change in zip(names, _changes(outputs, weights))
        if change > threshold * scale
    ]


def ignored_inputs(
    probe: Probe, outputs: list[np.ndarray], act: str, elsewhere: tuple = ()
) -> list[str]:
    """The weights and inputs the reference's outputs move with at the probe's case and the student's never do.

    One the reference does not depend on there (a dead ReLU unit, zero output weights)
    is not required.  The student's may move with it here or at the other probed points
    of the same forward function, `elsewhere` ((probe, outputs) pairs): a unit of a wrong
    network can be dead where the assignment's is not, and the function still uses it."""
    reference = [
        network.forward(x, w, act).o
        for x, w in probe_points(probe.case, probe.step)[: len(outputs)]
    ]
    seen = {
        name
        for other, found in ((probe, outputs), *elsewhere)
        for name in _moved_by(other, found, RESOLUTION)
    }
    return [name for name in _moved_by(probe, reference, REQUIRED) if name not in seen]


def probe_outputs(probe: Probe, outcomes: dict, check: Check) -> list[np.ndarray] | None:
    """The student's forward outputs at each of the probe's calls; None unless all are finite numbers."""
    outputs = [
        _member(outcomes.get(i), check, forward_entry(check), "o", len(xyw(probe.case)[1]))
        for i in probe.forward_calls
    ]
    return None if any(o is None or not np.all(np.isfinite(o)) for o in outputs) else outputs


def first_wrong_step(probe: Probe, outcomes: dict, check: Check) -> str:
    """Which local of the traced backward call departs first from the chain rule, and on which
    line (grader.engine.steps); empty where there is no trace or nothing to say."""
    x, y, w = xyw(probe.case)
    steps = backward_steps(x, y, w, check.args["act"], check.args.get("loss", "mse"))
    outcome = outcomes.get(probe.trace) if probe.trace else None
    return _traced(outcome, steps, known_values(x, y, w), check, check.entry, "the chain rule")


def root_cause(
    item: CheckEvidence, probe: Probe, outcomes: dict, spec: Spec, elsewhere: tuple = ()
) -> Finding:
    """Forward bug or backward bug, from central differences of the student's own forward pass.

    `elsewhere`: the (probe, outputs) of the other probed points of the same forward function."""
    check, settings = item.check, spec.diagnosis
    public = next((v for v in item.verdicts if v.case_id == probe.case.id), None)
    if public is None or public.status != "failed" or public.observed is None:
        return Finding()
    forward, backward = forward_entry(check), check.entry
    probed = [outcomes.get(i) for i in probe.forward_calls]
    if any(
        o is not None and o.status == "timeout" for o in probed
    ):  # not run, or cut short, for lack of time
        return Finding(note=(
            f"The grader could not tell whether your {backward} is the derivative of your own {forward}: "
            f"its calls of {forward} near the {probe.case.id} case ran out of time."
        ))  # fmt: skip
    outputs = probe_outputs(probe, outcomes, check)
    if outputs is None:
        return Finding()
    weights = len(xyw(probe.case)[2])
    loss = check.args.get("loss", "mse")
    losses = np.array(
        [network.loss_value(o, xyw(probe.case)[1], loss) for o in outputs[1 : 1 + 2 * weights]]
    )
    differences = (losses[:weights] - losses[weights:]) / (2 * probe.step)
    gradients = np.asarray(public.observed, dtype=np.float64)
    consistent = bool(
        np.all(np.abs(gradients - differences) <= settings.consistency.allowed(differences))
    )
    right = network.forward(xyw(probe.case)[0], xyw(probe.case)[2], check.args["act"]).o
    forward_right = bool(np.all(np.abs(outputs[0] - right) <= check.tolerance.allowed(right)))
    expected = next(e.value for e in item.expected if e.case.id == probe.case.id)
    slopes_right = bool(
        np.all(np.abs(differences - expected) <= settings.consistency.allowed(expected))
    )
    if consistent and not (
        forward_right and slopes_right
    ):  # right for the network the forward pass computes, a wrong one
        ignored = ignored_inputs(probe, outputs, check.args["act"], elsewhere)
        credit = 0.0 if ignored else settings.consistent_backward_credit
        explanation = (
            f"Your {backward} is the exact derivative of the {loss} loss computed from your own "
            f"{forward}: central differences of {forward} at w ± {probe.step:g}·e_i agree with it "
            f"on the {probe.case.id} case. The back-propagation is right for the network your "
            f"{forward} computes; that network is not the assignment's "
            f"({'its outputs differ' if not forward_right else 'its outputs change differently with w'}). "
            f"Fix {forward} and the gradients follow."
        )
        if credit:
            explanation += (
                f" This check gives {credit:.0%} of its points for a backward pass consistent "
                f"with its forward pass."
            )
        note = ""
        if ignored and settings.consistent_backward_credit:
            note = (
                f"No points are given for this consistency: your {forward} does not depend on "
                f"{', '.join(ignored)}: its outputs do not change when "
                f"{'it moves' if len(ignored) == 1 else 'they move'}, on the {probe.case.id} case "
                f"or at any other point the grader tried, while the network's do on the "
                f"{probe.case.id} case. A share of the points for a consistent backward pass needs "
                f"a forward pass that computes this network from x and every weight."
            )
        diagnosis = Diagnosis(
            "forward-bug-backward-consistent",
            "Forward pass wrong; the backward pass is consistent with it",
            explanation,
            COURSE_NETWORK,
            "root-cause",
            forward,
        )
        return Finding((diagnosis,), note, credit)
    if forward_right:
        explanation = (
            f"Your {forward} gives the right values, but the grader's central differences of the {loss} loss computed "
            f"from it disagree with what {backward} returns on the {probe.case.id} case: "
            f"the mistake is in the backward pass, or in the loss it differentiates, not in the forward pass."
        )
        # the chain rule, never the finite difference the evidence came from: Part A's rules forbid it
        formula = DELTA_RULE if check.part == "numpy" else AUTOGRAD_RULE
        explanation = " ".join(
            filter(None, (explanation, first_wrong_step(probe, outcomes, check)))
        )
        return Finding(
            (
                Diagnosis(
                    "backward-not-derivative-of-forward",
                    "The gradients are not the derivative of your forward pass",
                    explanation,
                    formula,
                    "root-cause",
                    backward,
                ),
            )
        )
    return Finding()


def find(
    item: CheckEvidence, probe: Probe, outcomes: dict, spec: Spec, probes: tuple[Probe, ...]
) -> Finding:
    """The probe's finding for a failing backward check, with the other probed points of the
    same forward function as evidence that it does use an input."""
    if isinstance(probe, ForwardProbe):
        return forward_departure(item, probe, outcomes)
    if isinstance(probe, UpdateProbe):
        follows = update_follows(item, probe, outcomes, spec)
        return follows if follows.diagnoses else update_departure(item, probe, outcomes)
    forward = forward_entry(item.check)
    elsewhere = []
    for other in probes:
        if not isinstance(other, Probe):
            continue
        if other.check_id != item.check.id and forward_entry(spec.check(other.check_id)) == forward:
            outputs = probe_outputs(other, outcomes, spec.check(other.check_id))
            if outputs is not None:
                elsewhere.append((other, outputs))
    return root_cause(item, probe, outcomes, spec, tuple(elsewhere))


PROBES = Probes(plan=plan_probes, find=find)

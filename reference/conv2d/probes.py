"""The diagnosis' probes: is a wrong gradient the derivative of the student's own forward pass?

For a failing gradient check (dx, dweight or dbias), extra calls of the
student's forward function on the check's public case, with the same stride
and padding, at the point and at ± eps along a few fixed directions of the
input the gradient is taken for, give directional derivatives of the
student's own L = sum(y * dy).  A gradient that agrees with them while the
forward pass is wrong is a forward bug (the spec may give partial credit, for a
forward pass whose output moves with that input wherever the reference's
does); a right forward pass with a gradient that disagrees is a backward bug.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from grader.core.assignment import Probes
from grader.core.cases import Case, CaseBook
from grader.core.spec import Check, Spec
from grader.engine.compare import ShapeError, observed_quantity
from grader.engine.diagnose import CheckEvidence, Diagnosis, Finding
from grader.engine.execute import Call
from reference.conv2d import convolution
from reference.conv2d.contract import ENTRY_POINTS, QUANTITIES, is_forward
from reference.conv2d.misconceptions import DBIAS, DWEIGHT, DX, FORWARD

PROBED = {"dx": "x", "dweight": "weight", "dbias": "bias"}  # the input each gradient is taken for
DIRECTIONS = 3  # fixed unit directions per probed input: enough to tell a wrong gradient
FORWARD_INPUTS = ("x", "weight", "bias")


@dataclass(frozen=True)
class Probe:
    check_id: str
    case: Case
    step: float
    name: str  # the probed input
    directions: tuple  # unit directions, each the input's shape, as nested lists
    center: str
    plus: tuple[str, ...]
    minus: tuple[str, ...]

    @property
    def calls(self) -> tuple[str, ...]:
        return (self.center, *self.plus, *self.minus)


def forward_entry(check: Check) -> str:
    """The forward function of the check's part."""
    return next(
        name
        for name, entry in ENTRY_POINTS.items()
        if entry.part == check.part and is_forward(name)
    )


def _directions(shape: tuple[int, ...], check_id: str) -> list[np.ndarray]:
    rng = np.random.default_rng(
        int.from_bytes(hashlib.sha256(check_id.encode()).digest()[:8], "big")
    )  # fixed per check
    units = []
    for _ in range(DIRECTIONS):
        d = rng.standard_normal(shape)
        units.append(d / np.linalg.norm(d))
    return units


def plan_probes(
    spec: Spec, book: CaseBook, first_number: int = 1
) -> tuple[tuple[Probe, ...], tuple[Call, ...]]:
    step = spec.diagnosis.finite_difference_step
    calls: dict[tuple, Call] = {}

    def call(entry: str, check: Check, case: Case) -> str:
        kwargs = {"stride": check.args["stride"], "padding": check.args["padding"]}
        key = (entry, tuple(sorted(kwargs.items())), case.key)
        if key not in calls:
            calls[key] = Call(
                f"fd{first_number + len(calls)}",
                entry,
                kwargs,
                case,
                arguments=ENTRY_POINTS[entry].arguments,
                framework=ENTRY_POINTS[entry].framework,
            )
        return calls[key].id

    probes = []
    for check in spec.checks:
        if check.quantity not in PROBED:
            continue
        public, name, forward = (
            book.for_check(check)[0],
            PROBED[check.quantity],
            forward_entry(check),
        )
        inputs = {k: np.asarray(public.inputs[k], dtype=float) for k in FORWARD_INPUTS}
        units = _directions(inputs[name].shape, check.id)

        probe_id = f"{public.id}-probe"
        center = call(forward, check, Case.of(probe_id, inputs))
        plus = tuple(
            call(forward, check, Case.of(probe_id, {**inputs, name: inputs[name] + step * u}))
            for u in units
        )
        minus = tuple(
            call(forward, check, Case.of(probe_id, {**inputs, name: inputs[name] - step * u}))
            for u in units
        )
        probes.append(
            Probe(
                check.id, public, step, name, tuple(u.tolist() for u in units), center, plus, minus
            )
        )
    return tuple(probes), tuple(calls.values())


def _outputs(outcome, check: Check, shape: tuple[int, ...]) -> np.ndarray | None:
    if outcome is None or outcome.status != "ok":
        return None
    forward = forward_entry(check)
    reading = replace(
        check, entry=forward, quantity="y", signature=ENTRY_POINTS[forward], measure=QUANTITIES["y"]
    )
    try:
        values = observed_quantity(outcome.value, reading, shape)
    except ShapeError:
        return None
    return values if np.all(np.isfinite(values)) else None


def find(
    item: CheckEvidence, probe: Probe, outcomes: dict, spec: Spec, probes: tuple = ()
) -> Finding:
    check, settings = item.check, spec.diagnosis
    public = next((v for v in item.verdicts if v.case_id == probe.case.id), None)
    if public is None or public.status != "failed" or public.observed is None:
        return Finding()
    forward, backward = forward_entry(check), check.entry
    if any(outcomes.get(i) is not None and outcomes[i].status == "timeout" for i in probe.calls):
        return Finding(
            note=(
                f"The grader could not tell whether your {backward} is the derivative of your own "
                f"{forward}: its calls of {forward} ran out of time."
            )
        )
    values = {k: np.asarray(probe.case.inputs[k], dtype=float) for k in (*FORWARD_INPUTS, "dy")}
    stride, padding = check.args["stride"], check.args["padding"]
    right = convolution.forward(values["x"], values["weight"], values["bias"], stride, padding)
    outputs = [_outputs(outcomes.get(i), check, right.shape) for i in probe.calls]
    if any(o is None for o in outputs):
        return Finding()
    center, plus, minus = outputs[0], outputs[1 : 1 + DIRECTIONS], outputs[1 + DIRECTIONS :]
    dy = values["dy"].reshape(-1)
    derivatives = np.array(
        [(np.dot(p, dy) - np.dot(m, dy)) / (2 * probe.step) for p, m in zip(plus, minus)]
    )
    gradient = np.asarray(public.observed, dtype=float)
    claimed = np.array([np.dot(gradient, np.asarray(u).reshape(-1)) for u in probe.directions])
    consistent = bool(
        np.all(np.abs(claimed - derivatives) <= settings.consistency.allowed(derivatives))
    )
    forward_right = bool(
        np.all(np.abs(center - right.reshape(-1)) <= check.tolerance.allowed(right.reshape(-1)))
    )
    name = probe.name
    if consistent and not forward_right:
        moves = all(
            np.max(np.abs(p - m)) > 1e-9 * max(1.0, float(np.max(np.abs(center))))
            for p, m in zip(plus, minus)
        )
        credit = settings.consistent_backward_credit if moves else 0.0
        explanation = (
            f"Your {backward}'s {check.quantity} is the exact derivative of sum(y * dy) for the y "
            f"your own {forward} computes: its changes along {DIRECTIONS} directions of {name} "
            f"(central differences, ± {probe.step:g}) agree with it on the {probe.case.id} case. "
            f"The backward pass is right for that layer; the layer is not the assignment's (its "
            f"outputs differ). Fix {forward} and the gradient follows."
        )
        if credit:
            explanation += (
                f" This check gives {credit:.0%} of its points for a backward pass consistent "
                f"with its forward pass."
            )
        note = (
            ""
            if moves or not settings.consistent_backward_credit
            else (
                f"No points are given for this consistency: the output of your {forward} does not "
                f"change when {name} moves."
            )
        )
        diagnosis = Diagnosis(
            "forward-bug-backward-consistent",
            "Forward pass wrong; the backward pass is consistent with it",
            explanation,
            FORWARD,
            "root-cause",
            forward,
        )
        return Finding((diagnosis,), note, credit)
    if forward_right and not consistent:
        explanation = (
            f"Your {forward} gives the right output, but central differences of sum(y * dy) computed from it along "
            f"{DIRECTIONS} directions of {name} disagree with the {check.quantity} your {backward} returns on the "
            f"{probe.case.id} case: the mistake is in the backward pass, not in the forward pass."
        )
        # the chain rule for the gradient, never the finite difference the evidence came from:
        # Part A's rules forbid computing the backward pass that way
        formula = {"dx": DX, "dweight": DWEIGHT, "dbias": DBIAS}.get(check.quantity, DX)
        return Finding(
            (
                Diagnosis(
                    "backward-not-derivative-of-forward",
                    "The gradient is not the derivative of your forward pass",
                    explanation,
                    formula,
                    "root-cause",
                    backward,
                ),
            )
        )
    return Finding()


PROBES = Probes(plan=plan_probes, find=find)

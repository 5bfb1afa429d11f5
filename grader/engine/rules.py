"""The rules of each part: read what a call did while it ran, and judge it.

The spec's `[[rule]]` tables say how a part's numbers must be computed; the
submission's process records, for every call a rule covers, what it did
(grader/isolation/inside/watch.py).  This module reads that record as untrusted data (bounded,
typed), and turns it into findings: a rule broken (or unverifiable, when the call
switched the recording off) in a call, with the evidence in words.

What the code names (torch, a small step constant) is shown beside the runtime
evidence and never decides alone: a file with both parts imports torch at its top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.core.spec import Check, Rule, Spec

MAX_NAMES = 12
MAX_TEXT = 200
MAX_INDICES = 64
UNVERIFIABLE = (
    "The grader records how each call computes, to check the rules of each part; this call switched that "
    "recording off, so the rule could not be checked, and a rule that withholds points withholds them."
)


def watch_of(spec: Spec, check: Check) -> tuple[str, ...]:
    """What the child must record for the check's calls: the kinds of its rules."""
    return tuple(sorted({rule.kind for rule in spec.rules_of(check)}))


def read_evidence(raw) -> dict | None:
    """The child's record of one call, bounded and typed; None when there is none or it is malformed."""
    if not isinstance(raw, dict):
        return None

    def names(key: str) -> list[str]:
        value = raw.get(key)
        return (
            [str(v)[:MAX_TEXT] for v in value[:MAX_NAMES] if isinstance(v, str)]
            if isinstance(value, list)
            else []
        )

    def count(key: str) -> int:
        value = raw.get(key)
        return (
            int(min(max(value, 0), 10**9))
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
            else 0
        )

    def positions(value) -> list[int]:
        return (
            [
                int(i)
                for i in value[:MAX_INDICES]
                if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 10**6
            ]
            if isinstance(value, list)
            else []
        )

    members = raw.get("derivatives")
    derivatives = [
        {
            "member": str(m.get("member", ""))[:MAX_TEXT],
            "elements": int(min(max(m.get("elements", 0), 0), 10**6))
            if isinstance(m.get("elements"), int) and not isinstance(m.get("elements"), bool)
            else 0,
            "not_from_backward": positions(m.get("not_from_backward")),
        }
        for m in (members[:MAX_NAMES] if isinstance(members, list) else [])
        if isinstance(m, dict)
    ]
    indices = raw.get("not_from_backward")
    constants = raw.get("small_constants")
    return {
        "watched": names("watched"),
        "autograd": names("autograd"),
        "torch_calls": names("torch_calls"),
        "torch_count": count("torch_count"),
        "torch_ops": count("torch_ops"),
        "evaluations": count("evaluations"),
        "site_repeats": count("site_repeats"),
        "busiest_site": str(raw.get("busiest_site", ""))[:MAX_TEXT],
        "most_called": str(raw.get("most_called", ""))[:MAX_TEXT],
        "names_torch": names("names_torch"),
        "small_constants": [
            float(c)
            for c in constants[:5]
            if isinstance(c, (int, float)) and not isinstance(c, bool)
        ]
        if isinstance(constants, list)
        else [],
        "tampered": names("tampered"),
        "gradient_elements": count("gradient_elements"),
        "not_from_backward": positions(indices),
        "derivatives": derivatives,
        "backward_passes": count("backward_passes"),
        "passes_from_inputs": count("passes_from_inputs"),
        "graphs_unread": count("graphs_unread"),
        "trains": raw.get("trains") is True,
    }


HIDDEN_CASE = "a hidden case"  # the case label of a finding on a hidden case
HIDDEN_EVIDENCE = "seen on a hidden case; the course staff can see what the call did"


@dataclass(frozen=True)
class RuleFinding:
    """One rule broken, or unverifiable, in one call."""

    rule: str  # the rule's id
    outcome: str  # withhold | flag
    status: str  # broken | unverifiable
    message: str  # the rule's message, for the student
    call: str  # what was called
    case: str  # "the given case", "a hidden case"
    evidence: str  # what the call did, in words

    @property
    def withholds(self) -> bool:
        return self.outcome == "withhold"

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "outcome": self.outcome,
            "status": self.status,
            "message": self.message,
            "call": self.call,
            "case": self.case,
            "evidence": self.evidence,
        }


def _listed(items: list[str], limit: int = 6) -> str:
    return ", ".join(items[:limit]) + (
        f" and {len(items) - limit} more" if len(items) > limit else ""
    )


def _supporting_names(evidence: dict) -> str:
    return (
        f"; the code it ran names torch ({_listed(evidence['names_torch'], 4)})"
        if evidence["names_torch"]
        else ""
    )


# How closely float64 derivatives agree with the reference, relative to their size: derived by hand,
# to about 1e-15; by finite differences, only to about 1e-10 to 1e-6 (the step's truncation and
# the rounding it divides).  Never evidence alone: with a line of the call run once per weight.
FINITE_DIFFERENCE_AGREEMENT = (1e-12, 1e-5)


def _inline_differences(rule: Rule, evidence: dict, agreement: float | None) -> str:
    """Finite differences written inline (no function of their own to count): one line of the
    call ran at least once per weight, and its float64 values agree with the reference only to
    the accuracy of a finite difference."""
    low, high = FINITE_DIFFERENCE_AGREEMENT
    repeats = evidence["site_repeats"]
    if agreement is None or not (low < agreement <= high) or repeats < rule.min_evaluations // 2:
        return ""
    return (
        f"one call made the calls on {evidence['busiest_site'] or 'one line'} {repeats} times, once "
        f"per weight or more, and its float64 values agree with the reference only to {agreement:.1g} "
        f"of their size, what finite differences give (derived by hand they agree to about 1e-15)"
    )


def _broken(rule: Rule, evidence: dict, passed: bool = True, agreement: float | None = None) -> str:
    """The evidence that the call broke the rule, in words; empty when it did not.  `passed`: the
    call's values were right (a wrong value loses its points anyway, and is a mistake to diagnose);
    `agreement`: how closely its float64 values agree with the reference's, relative to their
    size (None: not float64, or not right)."""
    if rule.kind == "no-autograd" and evidence["autograd"]:
        return f"autograd ran during the call ({_listed(evidence['autograd'])}){_supporting_names(evidence)}"
    if rule.kind == "no-torch" and evidence["torch_count"]:
        return (
            f"torch computed during the call: {_listed(evidence['torch_calls'])} "
            f"({evidence['torch_count']} calls){_supporting_names(evidence)}"
        )
    if (
        rule.kind == "no-numerical-differentiation"
        and evidence["evaluations"] >= rule.min_evaluations
    ):
        constants = evidence["small_constants"]
        step = (
            f"; the code it ran holds a small step constant ({', '.join(f'{c:g}' for c in constants)})"
            if constants
            else ""
        )
        return (
            f"one call evaluated {evidence['most_called'] or 'a function'} {evidence['evaluations']} times "
            f"({rule.min_evaluations} or more evaluations in one backward call is what finite differences cost){step}"
        )
    if rule.kind == "no-numerical-differentiation" and passed:
        return _inline_differences(rule, evidence, agreement)
    if rule.kind == "gradients-from-autograd":
        return _not_from_autograd(evidence, passed)
    return ""


def _not_from_autograd(evidence: dict, passed: bool) -> str:
    """Why the call's derivatives (or a training call's updates) did not come out of a backward pass
    through its own forward computation; empty when they did, or when the record cannot tell.  A
    graph that holds none of the call's inputs is held against right values only: a function that
    differentiates its own example whatever it is passed is wrong on every other case, a mistake
    (it ignores its arguments), not a shortcut."""
    ran = (
        "a backward pass ran, but "
        if evidence["autograd"]
        else "no backward pass ran during the call, and "
    )
    members = evidence["derivatives"] or (
        [{"member": "", "elements": evidence["gradient_elements"], "not_from_backward": evidence["not_from_backward"]}]
        if evidence["gradient_elements"]
        else []
    )  # fmt: skip
    for member in members:
        if member["elements"] and member["not_from_backward"]:
            elements = [str(i + 1) for i in member["not_from_backward"]]
            what = f"{member['member']} " if member["member"] else "returned "
            return (
                f"{ran}{what}element{'s' if len(elements) > 1 else ''} {_listed(elements, 8)} "
                f"of {member['elements']} did not come out of one"
            )
    transformed = any("torch.func" in a for a in evidence["autograd"])
    if transformed or evidence["graphs_unread"]:
        return ""  # a transform's derivatives, or a graph the record could not read: not held against it
    if passed and evidence["backward_passes"] and not evidence["passes_from_inputs"]:
        passes = evidence["backward_passes"]
        return (
            f"{'a backward pass' if passes == 1 else f'{passes} backward passes'} ran, but no tensor "
            "saved in its graph holds the call's inputs: it differentiated numbers made outside "
            "autograd (a product of a fresh tensor with derivatives computed by hand), not the "
            "call's own forward computation"
        )
    if evidence["trains"] and not evidence["backward_passes"]:
        return "no backward pass ran during the training call: its updates did not use derivatives from autograd"
    return ""


def agreement(outcome, verdict) -> float | None:
    """max |observed - expected| / max |expected| of a call whose values passed and are all float64
    (a float32 one agrees to about 1e-7 by its own rounding, and is never measured)."""
    if not verdict.passed or verdict.observed is None or not verdict.expected:
        return None

    def float64(tree) -> bool:
        if isinstance(tree, dict):
            if "dtype" in tree and str(tree["dtype"]) != "float64":
                return False
            return all(float64(v) for v in tree.values() if isinstance(v, (dict, list)))
        if isinstance(tree, list):
            return all(float64(v) for v in tree if isinstance(v, (dict, list)))
        return True

    if not float64(outcome.value):
        return None
    observed = np.asarray(verdict.observed, dtype=np.float64).reshape(-1)
    expected = np.asarray(verdict.expected, dtype=np.float64).reshape(-1)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if observed.shape != expected.shape or not scale or not np.all(np.isfinite(observed)):
        return None
    return float(np.max(np.abs(observed - expected)) / scale)


def judge_check(spec: Spec, check: Check, calls) -> tuple[RuleFinding, ...]:
    """Findings of the check's rules over its calls: `calls` holds (case label, call description,
    Outcome), optionally followed by whether its values passed and how closely its float64 values
    agree with the reference's (`agreement`)."""
    findings = []
    for rule in spec.rules_of(check):
        for case, described, outcome, *judged in calls:
            passed = judged[0] if judged else True
            agreement = judged[1] if len(judged) > 1 else None
            if outcome.status not in ("ok", "error"):
                continue  # a call that timed out or crashed sent no record, and scores nothing anyway
            evidence = outcome.evidence
            if evidence is None or rule.kind not in evidence["watched"]:
                if outcome.status == "ok":
                    findings.append(
                        RuleFinding(
                            rule.id,
                            rule.outcome,
                            "unverifiable",
                            UNVERIFIABLE,
                            described,
                            case,
                            "the call sent no record of what it did",
                        )
                    )
                continue
            if evidence["tampered"]:
                text = f"the grader could not verify the call: {_listed(evidence['tampered'], 3)}"
                findings.append(
                    RuleFinding(
                        rule.id, rule.outcome, "unverifiable", UNVERIFIABLE, described, case, text
                    )
                )
                continue
            text = _broken(rule, evidence, passed, agreement)
            if text:
                findings.append(
                    RuleFinding(
                        rule.id, rule.outcome, "broken", rule.message, described, case, text
                    )
                )
    return tuple(findings)


RULE_STATUS_WORDS = {"broken": "broken", "unverifiable": "could not be verified"}
RULE_EFFECTS = {
    "withhold": "no points for the checks of these calls",
    "flag": "points stay; flagged for the course staff",
}


def summarize(findings) -> list[dict]:
    """Each rule broken or unverifiable in a submission once: where, and the first evidence."""
    summary: dict[str, dict] = {}
    for finding in findings:
        entry = summary.setdefault(
            finding.rule,
            {
                "rule": finding.rule,
                "outcome": finding.outcome,
                "status": finding.status,
                "message": finding.message,
                "calls": [],
                "evidence": finding.evidence,
            },
        )
        if finding.status == "broken" and entry["status"] != "broken":
            entry.update(status="broken", evidence=finding.evidence)
        where = f"{finding.call} on {finding.case}"
        if where not in entry["calls"] and len(entry["calls"]) < 6:
            entry["calls"].append(where)
    return list(summary.values())

"""Score: verdicts into results.  Results are data; every total is derived."""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.core.spec import Check, Question
from grader.engine.compare import Verdict
from grader.engine.discover import Submission
from grader.engine.execute import LoadReport
from grader.engine.rules import summarize

STATUS_ORDER = ("passed", "failed", "error", "timeout")


@dataclass(frozen=True)
class CheckResult:
    check: Check
    verdicts: tuple[Verdict, ...]
    call: str = ""  # what was called: the entry point with its arguments (execute.Call.describe)
    # grader.engine.diagnose.Diagnosis: the mistakes that reproduce a failing check's numbers
    diagnoses: tuple = ()
    # share of the points a failing check still gives (a backward pass consistent with its
    # forward pass)
    credit: float = 0.0
    diagnosis_note: str = ""  # what the diagnosis has to say when it names nothing
    # grader.engine.rules.RuleFinding: the part's rules its calls broke, or could not be
    # verified on
    rule_findings: tuple = ()
    # free-form: the hand-in has no entry point; judged from what its scripts did
    # (grader.engine.freeform)
    mode: str = "template"
    observations: tuple = ()  # grader.engine.freeform.Observation of this check's quantity, on the script's own setup

    @property
    def withheld(self) -> bool:
        """A rule that withholds was broken (or could not be verified) in one of its calls."""
        return any(finding.withholds for finding in self.rule_findings)

    @property
    def rule_violations(self) -> list[str]:
        return list(dict.fromkeys(finding.rule for finding in self.rule_findings))

    @property
    def status(self) -> str:
        if (
            self.mode == "free-form"
        ):  # right only where every observation is; unchecked where none was found
            seen = [o.status for o in self.observations if o.status != "not-found"]
            return (
                "error" if not seen else "passed" if all(s == "right" for s in seen) else "failed"
            )
        if not self.verdicts:
            return "error"
        return max((v.status for v in self.verdicts), key=STATUS_ORDER.index)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def score(self) -> float:
        if self.withheld:
            return 0.0
        if (
            self.mode == "free-form"
        ):  # `credit`: the spec's share of a check's points a free-form observation earns
            return self.check.points * self.credit if self.passed else 0.0
        return self.check.points if self.passed else self.check.points * self.credit

    @property
    def message(self) -> str:
        """The first failing case's message, else the check's own."""
        if self.mode == "free-form":
            said = [
                f"{o.quantity}: {o.status}"
                + (f" ({', '.join(o.diagnoses)})" if o.diagnoses else "")
                + (f", {o.source}" if o.source and o.status != "not-found" else "")
                for o in self.observations
            ]
            return "Free-form (the hand-in does not follow the template), on its own setup: " + (
                "; ".join(said) or "not found in what its scripts did"
            )
        for verdict in self.verdicts:
            if not verdict.passed:
                label = "a hidden case" if verdict.hidden else f"the {verdict.case_id} case"
                return f"On {label}: {verdict.message}"
        return self.check.message

    def to_dict(self, reveal_hidden: bool = True) -> dict:
        return {
            "check": self.check.id,
            "part": self.check.part,
            "experiment": self.check.experiment,
            "entry": self.check.entry,
            "args": self.check.args,
            **self.check.options,  # the assignment's own keys of the check
            "quantity": self.check.quantity,
            "tolerance": str(self.check.tolerance),
            "visibility": self.check.visibility,
            "call": self.call,
            "status": self.status,
            "score": self.score,
            "max_score": self.check.points,
            "message": self.message,
            "diagnoses": [d.to_dict() for d in self.diagnoses],
            "diagnosis_note": self.diagnosis_note,
            "credit": self.credit,
            "rule_findings": [f.to_dict() for f in self.rule_findings],
            "cases": [v.to_dict(reveal_hidden) for v in self.verdicts],
            "mode": self.mode,
            "observations": [o.to_dict() for o in self.observations],
        }


@dataclass(frozen=True)
class SubmissionResult:
    submission: Submission
    checks: tuple[CheckResult, ...]
    questions: tuple[Question, ...]
    load: LoadReport
    problems: tuple[str, ...] = ()
    answers: dict = field(default_factory=dict, hash=False)  # question id -> the student's text
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    reused_run: bool = False  # the code's earlier run on the same calls was read from the cache
    view: str = "instructor"  # instructor: everything the grader saw; student: grader.outputs.views.student_view's copy
    observations: tuple = ()  # a free-form hand-in: every grader.engine.freeform.Observation, those no check covers too

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.check.points for c in self.checks)

    @property
    def ran_hidden(self) -> bool:
        return any(v.hidden for c in self.checks for v in c.verdicts)

    @property
    def manual_points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def rule_summary(self) -> list[dict]:
        """Each rule broken, flagged or unverifiable, once, with the calls it happened in."""
        return summarize(f for c in self.checks for f in c.rule_findings)

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts its checks belong to, in the spec's order of checks."""
        return tuple(dict.fromkeys(c.check.part for c in self.checks))

    def part_score(self, part: str) -> tuple[float, float]:
        results = [c for c in self.checks if c.check.part == part]
        return sum(c.score for c in results), sum(c.check.points for c in results)

    def experiment_scores(self) -> dict[int, tuple[float, float]]:
        scores: dict[int, tuple[float, float]] = {}
        for result in self.checks:
            got, possible = scores.get(result.check.experiment, (0.0, 0.0))
            scores[result.check.experiment] = (got + result.score, possible + result.check.points)
        return dict(sorted(scores.items()))

    def to_dict(self, reveal_hidden: bool = True) -> dict:
        return {
            "submission": self.submission.to_dict(),
            "score": self.score,
            "max_score": self.max_score,
            "parts": {
                part: dict(zip(("score", "max_score"), self.part_score(part)))
                for part in self.parts
            },
            "manual_points": self.manual_points,
            "load": self.load.to_dict(),
            "problems": list(self.problems),
            "checks": [c.to_dict(reveal_hidden) for c in self.checks],
            "rules": self.rule_summary,
            "questions": [
                {"id": q.id, "title": q.title, "points": q.points, "answer": self.answers.get(q.id)}
                for q in self.questions
            ],
            "stdout": self.stdout,
            "stderr": self.stderr,
            "seconds": round(self.seconds, 3),
            "reused_run": self.reused_run,
            "view": self.view,
            "observations": [o.to_dict() for o in self.observations],
        }

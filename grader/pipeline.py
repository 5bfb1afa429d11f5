"""The order of the stages, written once:

    discover -> load -> execute (isolated) -> compare -> diagnose -> score -> report

Each stage is a function from one immutable value to the next; this module
passes them along and shares nothing else between them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.answers import find_answers
from grader.cache import cached_expected_values
from grader.compare import compare_outcome
from grader.execute import Call, Execution, execute_submission
from grader.load import load_submission
from grader.discover import Submission
from grader.score import CheckResult, SubmissionResult
from reference.cases import CaseBook
from reference.expected import Expected, call_key
from reference.spec import Spec


@dataclass(frozen=True)
class Plan:
    """What every submission is asked: the calls, and the expected value of each check on each case."""

    spec: Spec
    calls: tuple[Call, ...]
    expected: tuple[Expected, ...]
    call_of: dict = field(hash=False)  # (check id, case id) -> call id

    @property
    def has_hidden(self) -> bool:
        return any(e.case.hidden for e in self.expected)


def plan_grading(spec: Spec, book: CaseBook, cache_dir: Path | None = None) -> Plan:
    expected = cached_expected_values(spec, book, cache_dir)
    calls: dict[tuple, Call] = {}
    call_of = {}
    for item in expected:
        check = spec.check(item.check_id)
        key = call_key(check, item.case)
        if key not in calls:
            calls[key] = Call(f"c{len(calls) + 1}", check.entry, dict(check.args), item.case)
        call_of[(item.check_id, item.case.id)] = calls[key].id
    return Plan(spec, tuple(calls.values()), tuple(expected), call_of)


def score_execution(submission: Submission, plan: Plan, execution: Execution, problems=(), answers=None) -> SubmissionResult:
    checks = []
    calls = {call.id: call for call in plan.calls}
    for check in plan.spec.checks:
        verdicts, described = [], ""
        for item in (e for e in plan.expected if e.check_id == check.id):
            call_id = plan.call_of[(check.id, item.case.id)]
            described = calls[call_id].describe()
            verdicts.append(compare_outcome(check, item, execution.outcomes[call_id]))
        checks.append(CheckResult(check, tuple(verdicts), described))
    return SubmissionResult(
        submission,
        tuple(checks),
        plan.spec.questions,
        execution.load,
        tuple(problems),
        answers or {},
        execution.stdout,
        execution.stderr,
        execution.seconds,
    )


def grade_submission(submission: Submission, plan: Plan, scratch: Path | None = None, launcher=None) -> SubmissionResult:
    loaded = load_submission(submission)
    execution = execute_submission(loaded, list(plan.calls), plan.spec.limits, scratch, launcher)
    return score_execution(submission, plan, execution, loaded.problems, find_answers(loaded, plan.spec.questions))


def grade_all(
    submissions: tuple[Submission, ...],
    plan: Plan,
    scratch: Path | None = None,
    on_graded: Callable[[SubmissionResult], None] = lambda result: None,
    jobs: int = 1,
    launcher=None,
) -> list[SubmissionResult]:
    """Grade every submission, `jobs` at a time; results in the submissions' order.

    Each submission runs in processes of its own, so the grader's threads only
    wait on pipes and compare numbers."""

    def grade(submission: Submission) -> SubmissionResult:
        result = grade_submission(submission, plan, scratch, launcher)
        on_graded(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, submissions))

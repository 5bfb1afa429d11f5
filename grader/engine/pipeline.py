"""The order of the stages, written once:

    discover -> load -> execute (isolated) -> compare -> diagnose -> score -> report

Each stage is a function from one immutable value to the next; this module
passes them along and shares nothing else between them.  The command line,
the Gradescope container and the benchmarks all grade through `open_session`
(the run's fixed choices: plan, sandbox layers, launcher, scratch folder) and
`grade_class` / `grade_one`; they only say what to grade and what to print.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.core.cases import CaseBook, draw_cases
from grader.core.expected import Expected, call_key
from grader.core.spec import Spec
from grader.engine.answers import find_answers
from grader.engine.cache import cached_expected_values, cached_run, read_answer_key, run_key
from grader.engine.compare import compare_outcome
from grader.engine.diagnose import CheckEvidence, Predictions, check_catalog, diagnose_submission
from grader.engine.discover import Submission
from grader.engine.execute import Call, Execution, LoadReport, Outcome, execute_submission, joined
from grader.engine.freeform import freeform_checks, has_no_entry_point, run_freeform
from grader.engine.load import load_submission
from grader.engine.rules import HIDDEN_CASE, agreement, judge_check, watch_of
from grader.engine.score import CheckResult, SubmissionResult
from grader.isolation.launchers import FreshLauncher, choose_launcher
from grader.isolation.sandbox import (
    ISOLATION_VARIABLE,
    SKIP_VARIABLE,
    Sandbox,
    kept_private,
    probe_layers,
)


@dataclass(frozen=True)
class Plan:
    """What every submission is asked: the calls, and the expected value of each check on each case."""

    spec: Spec
    calls: tuple[Call, ...]
    expected: tuple[Expected, ...]
    call_of: dict = field(hash=False)  # (check id, case id) -> call id
    probes: tuple = ()  # the assignment's probes: extra calls for the diagnosis (grader.core.assignment.Probes)
    book: CaseBook | None = field(default=None, compare=False)  # the cases the plan was drawn from
    from_answer_key: bool = False  # the expected values were read from a stored answer key


def plan_grading(
    spec: Spec, book: CaseBook, cache_dir: Path | None = None, answer_key: Path | None = None
) -> Plan:
    """The calls and expected values; from `answer_key` (a folder `grader answer-key` wrote) when it
    holds these cases' values: computed and checked when it was written, so neither again here."""
    stored = read_answer_key(spec, book, answer_key) if answer_key is not None else None
    expected = stored if stored is not None else cached_expected_values(spec, book, cache_dir)
    if (
        spec.is_own and stored is None
    ):  # an entry that is no mistake is refused before anything is graded (a smaller spec may not show it)
        check_catalog(spec, book, tuple(expected))
    calls: dict[tuple, Call] = {}
    call_of = {}
    for item in expected:
        check = spec.check(item.check_id)
        key = call_key(check, item.case)
        if key not in calls:
            entry = check.signature
            calls[key] = Call(
                f"c{len(calls) + 1}",
                check.entry,
                dict(check.args),
                item.case,
                arguments=entry.arguments,
                framework=entry.framework,
                derivatives=entry.derivatives(spec.contract.quantities),
                trains=entry.trains,
                dtypes=entry.input_dtypes,
            )
        if watch_of(spec, check):  # a call shared by checks records what each one's rules need
            calls[key] = replace(
                calls[key], watch=tuple(sorted({*calls[key].watch, *watch_of(spec, check)}))
            )
        call_of[(item.check_id, item.case.id)] = calls[key].id
    probes, probe_calls = (
        spec.reference.probes.plan(spec, book) if spec.reference.probes else ((), ())
    )  # last: they never take time from the graded calls
    return Plan(
        spec,
        tuple(_in_its_process(spec, call) for call in (*calls.values(), *probe_calls)),
        tuple(expected),
        call_of,
        probes,
        book,
        stored is not None,
    )


def _in_its_process(spec: Spec, call: Call) -> Call:
    """The call, marked to run without PyTorch where its entry point's part says so."""
    without = spec.without_torch(spec.contract.entry_points[call.entry].part)
    return replace(call, without_torch=without) if without else call


def catalog_predictions(plan: Plan) -> Predictions:
    """The catalog's predictions on the plan's cases, each computed when a failing check first
    needs it and kept for the rest of the run: given to the diagnosis, never stored in the plan."""
    return Predictions(plan.spec, plan.book)


@dataclass(frozen=True)
class Compared:
    """The compare stage's record of one check: its verdicts and returned values on every case,
    what was called, and what the part's rules found in those calls."""

    evidence: CheckEvidence
    call: str  # the description of its last case's call
    rule_findings: tuple


def compare_execution(plan: Plan, execution: Execution) -> tuple[Compared, ...]:
    """Compare: every check's values against the expected ones, and its calls against the part's rules."""
    compared = []
    calls = {call.id: call for call in plan.calls}
    for check in plan.spec.checks:
        items = tuple(e for e in plan.expected if e.check_id == check.id)
        outcomes = [execution.outcomes[plan.call_of[(check.id, item.case.id)]] for item in items]
        described = calls[plan.call_of[(check.id, items[-1].case.id)]].describe() if items else ""
        verdicts = tuple(
            compare_outcome(check, item, outcome) for item, outcome in zip(items, outcomes)
        )
        evidence = CheckEvidence(
            check, items, verdicts, tuple(o.value if o.status == "ok" else None for o in outcomes)
        )
        labels = (HIDDEN_CASE if item.case.hidden else f"the {item.case.id} case" for item in items)
        ruled = judge_check(
            plan.spec,
            check,
            [
                (
                    label,
                    calls[plan.call_of[(check.id, item.case.id)]].describe(),
                    o,
                    v.passed,
                    agreement(o, v),
                )
                for label, item, o, v in zip(labels, items, outcomes, verdicts)
            ],
        )
        compared.append(Compared(evidence, described, tuple(ruled)))
    return tuple(compared)


def score_execution(
    submission: Submission,
    plan: Plan,
    execution: Execution,
    problems=(),
    answers=None,
    predictions: Predictions | None = None,
) -> SubmissionResult:
    """Compare, then diagnose the failing checks, then score: each stage from the one before's frozen records."""
    compared = compare_execution(plan, execution)
    findings = diagnose_submission(
        plan.spec,
        tuple(c.evidence for c in compared),
        predictions or catalog_predictions(plan),
        plan.probes,
        execution.outcomes,
    )
    checks = []
    for c in compared:
        finding = findings[c.evidence.check.id]
        checks.append(
            CheckResult(
                c.evidence.check,
                c.evidence.verdicts,
                c.call,
                finding.diagnoses,
                finding.credit,
                finding.note,
                c.rule_findings,
            )
        )
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
        execution.reused,
    )


def _probe_calls_needed(plan: Plan, execution: Execution) -> list[Call]:
    """The forward-pass probes of the backward checks that failed with numbers on their public case."""
    wanted: set[str] = set()
    for probe in plan.probes:
        check = plan.spec.check(probe.check_id)
        item = next(
            e for e in plan.expected if e.check_id == check.id and e.case.id == probe.case.id
        )
        outcome = execution.outcomes.get(plan.call_of[(check.id, item.case.id)])
        if (
            outcome is not None
            and outcome.status == "ok"
            and not compare_outcome(check, item, outcome).passed
        ):
            wanted |= set(probe.calls)
    return [call for call in plan.calls if call.id in wanted]


def execute_plan(
    loaded,
    plan: Plan,
    scratch: Path | None = None,
    launcher=None,
    sandbox=None,
    cache_dir: Path | None = None,
) -> Execution:
    """The graded calls; then, only where a backward check failed, its forward-pass probes.

    Most submissions pass their backward checks, and skipping ~150 probe calls
    saves them a third of the grader's own time per submission.  The two runs
    share one wall-clock budget, `limits.submission_seconds`: the probes get what
    the graded calls left (a reused run counts the seconds it took when it ran),
    and with nothing left they are not run and time out, which the diagnosis
    says.  With `cache_dir`, a run of the same code on the same calls is read back
    instead of run again (grader.engine.cache)."""
    launcher = launcher or FreshLauncher()
    sandbox = sandbox or probe_layers()
    limits = plan.spec.limits

    def run_one(calls: list[Call], seconds: float) -> Execution:
        # the budget is part of the key: a run that finished in time with more may not with less
        given = replace(limits, submission_seconds=seconds)
        key = run_key(loaded, calls, given, sandbox, launcher.description) if cache_dir else ""
        return cached_run(
            cache_dir,
            key,
            lambda: execute_submission(loaded, calls, limits, scratch, launcher, sandbox, seconds),
        )

    def run(calls: list[Call], seconds: float) -> Execution:
        """The calls of a part that runs without PyTorch in a process of their own, first; the
        others in one with it, in what time the first left."""
        without = [call for call in calls if call.without_torch]
        within = [call for call in calls if not call.without_torch]
        if not without or not within:
            return run_one(calls, seconds)
        first = run_one(without, seconds)
        second = run_one(within, max(seconds - first.seconds, 0.0))
        return joined(first, second, limits.output_kib * 1024)

    probe_ids = {i for probe in plan.probes for i in probe.calls}
    execution = run(
        [call for call in plan.calls if call.id not in probe_ids], limits.submission_seconds
    )
    needed = _probe_calls_needed(plan, execution)
    if not needed:
        return execution
    left = limits.submission_seconds - execution.seconds
    if left <= 0:
        message = f"not run: the graded calls used up the submission's time limit ({limits.submission_seconds:g} s)"
        unrun = {
            call.id: Outcome("timeout", error={"type": "Timeout", "message": message})
            for call in needed
        }
        return replace(execution, outcomes={**execution.outcomes, **unrun})
    probed = run(needed, left)
    return replace(
        execution,
        outcomes={**execution.outcomes, **probed.outcomes},
        processes=execution.processes + probed.processes,
        seconds=execution.seconds + probed.seconds,
        reused=execution.reused and probed.reused,
    )


@dataclass(frozen=True)
class Timing:
    """Where one submission's time went: the grader's wall clock for all its stages, and the
    student's own code as its process measured it (the benchmarks' overhead is the difference)."""

    wall: float = 0.0
    load: float = 0.0  # loading the files
    calls: Mapping[str, float] = field(
        default_factory=dict
    )  # call id -> seconds, for the calls that returned or raised
    timed_out: float = 0.0  # the seconds of the calls that hit their limit

    @staticmethod
    def of(execution: Execution, wall: float) -> Timing:
        ran = {
            call_id: o.seconds
            for call_id, o in execution.outcomes.items()
            if o.status in ("ok", "error")
        }
        timed_out = sum(o.seconds for o in execution.outcomes.values() if o.status == "timeout")
        return Timing(wall, execution.load.seconds, ran, timed_out)


@dataclass(frozen=True)
class Graded:
    """A submission's result, and where its time went."""

    result: SubmissionResult
    timing: Timing


def _grade(
    submission: Submission,
    plan: Plan,
    scratch: Path | None,
    launcher,
    sandbox,
    cache_dir: Path | None,
    predictions: Predictions | None,
) -> Graded:
    started = time.perf_counter()
    loaded = load_submission(submission)
    execution = execute_plan(loaded, plan, scratch, launcher, sandbox, cache_dir)
    result = score_execution(
        submission,
        plan,
        execution,
        loaded.problems,
        find_answers(loaded, plan.spec.questions),
        predictions,
    )
    if plan.spec.reference.recognise is not None and has_no_entry_point(
        execution, loaded, plan.spec.contract.entry_points
    ):
        result = _grade_freeform(loaded, plan, execution, result, scratch, launcher, sandbox)
    return Graded(result, Timing.of(execution, time.perf_counter() - started))


def _grade_freeform(
    loaded, plan: Plan, execution: Execution, result: SubmissionResult, scratch, launcher, sandbox
) -> SubmissionResult:
    """A hand-in with no entry point: its files run as written (grader.engine.freeform), what the assignment
    recognises in them graded on their own setup, within what is left of the submission's time."""
    limits = plan.spec.limits
    run = run_freeform(
        loaded,
        limits,
        scratch,
        launcher or FreshLauncher(),
        sandbox or probe_layers(),
        max(limits.submission_seconds - execution.seconds, 1.0),
        plan.spec.reference.input_answers,
    )
    try:
        observations = plan.spec.reference.recognise(run, plan.spec)
    except Exception as error:  # noqa: BLE001
        # the assignment's reading failed: the template verdict stands, and says so
        problem = (
            "free-form: the grader could not read what the scripts did "
            f"({type(error).__name__}: {error}); please tell the course staff"
        )
        return replace(
            result, problems=(*result.problems, problem), stdout=run.stdout, stderr=run.stderr
        )
    checks = freeform_checks(
        result.checks, observations, plan.spec.reference.catalog, plan.spec.freeform_credit
    )
    problems = (*result.problems, *([f"free-form run: {run.problem}"] if run.problem else ()))
    return replace(
        result,
        checks=checks,
        stdout=run.stdout,
        stderr=run.stderr,
        seconds=result.seconds + run.seconds,
        problems=problems,
        observations=tuple(observations),
    )


def grade_submission(
    submission: Submission,
    plan: Plan,
    scratch: Path | None = None,
    launcher=None,
    sandbox=None,
    cache_dir: Path | None = None,
    predictions: Predictions | None = None,
) -> SubmissionResult:
    return _grade(submission, plan, scratch, launcher, sandbox, cache_dir, predictions).result


def grader_failure(
    submission: Submission, plan: Plan, error: Exception, predictions: Predictions | None = None
) -> SubmissionResult:
    """The verdict when the grader itself failed on a submission: every call an error, saying so."""
    message = f"the grader failed on this submission ({type(error).__name__}: {error}); please tell the course staff"
    failure = {
        "type": "GraderFailure",
        "message": message,
        "where": "",
        "traceback": "".join(traceback.format_exception(error))[-4000:],
    }
    outcomes = {call.id: Outcome("crash", error=failure) for call in plan.calls}
    return score_execution(
        submission,
        plan,
        Execution(LoadReport("crash", message=message), outcomes),
        predictions=predictions,
    )


def _grade_many(
    submissions: tuple[Submission, ...],
    plan: Plan,
    scratch: Path | None,
    on_graded: Callable[[SubmissionResult], None],
    jobs: int,
    launcher,
    sandbox,
    cache_dir: Path | None,
    predictions: Predictions | None,
) -> list[Graded]:
    predictions = predictions or catalog_predictions(plan)  # one per run, shared by its submissions

    def grade(submission: Submission) -> Graded:
        started = time.perf_counter()
        try:
            graded = _grade(submission, plan, scratch, launcher, sandbox, cache_dir, predictions)
        except Exception as error:  # noqa: BLE001
            # a fault of the grader's own still leaves a verdict, and the batch goes on
            graded = Graded(
                grader_failure(submission, plan, error, predictions),
                Timing(time.perf_counter() - started),
            )
        on_graded(graded.result)
        return graded

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, submissions))


def grade_all(
    submissions: tuple[Submission, ...],
    plan: Plan,
    scratch: Path | None = None,
    on_graded: Callable[[SubmissionResult], None] = lambda result: None,
    jobs: int = 1,
    launcher=None,
    sandbox=None,
    cache_dir: Path | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, `jobs` at a time; results in the submissions' order.

    Each submission runs in processes of its own, so the grader's threads only
    wait on pipes and compare numbers."""
    return [
        g.result
        for g in _grade_many(
            submissions, plan, scratch, on_graded, jobs, launcher, sandbox, cache_dir, None
        )
    ]


# ------------------------------------------------------------------ one run


@dataclass(frozen=True)
class Session:
    """One grading run's fixed choices, made in one place for every front end."""

    plan: Plan
    book: CaseBook
    sandbox: Sandbox
    launcher: object  # grader.isolation.launchers: FreshLauncher or WarmLauncher
    launched: str  # a sentence saying how the submissions' processes start, and why
    scratch: Path
    cache_dir: Path | None = None
    predictions: Predictions | None = field(
        default=None, compare=False
    )  # the catalog's, for this run only


@contextmanager
def open_session(
    spec: Spec,
    secret: bytes | None = None,
    *,
    plan: Plan | None = None,
    cache_dir: Path | None = None,
    warm: bool = False,
    environ: Mapping[str, str] | None = None,
    private: Path | None = None,
    answer_key: Path | None = None,
) -> Iterator[Session]:
    """Plan the run (the cases `secret` draws, or `plan` as given), probe the sandbox's layers
    ($GRADER_SANDBOX_SKIP in `environ` turns some off, $GRADER_ISOLATION=process all but the
    process's own) and choose how processes start: a warm worker where `warm` and this system
    allow, else fresh interpreters.  While it is open, the run has a scratch folder and
    `private` (an output folder) is readable by its owner only; on leaving, the launcher is
    closed."""
    with ExitStack() as stack:
        with ThreadPoolExecutor(
            1
        ) as starting:  # the warm worker imports torch while this process plans
            launching = starting.submit(choose_launcher, warm=warm, warm_up=spec.reference.warm_up)
            try:
                book = draw_cases(spec, secret)
                plan = plan or plan_grading(spec, book, cache_dir, answer_key)
                if private is not None:
                    Path(private).mkdir(parents=True, exist_ok=True)
                sandbox = probe_layers(
                    (environ or {}).get(SKIP_VARIABLE, ""),
                    (environ or {}).get(ISOLATION_VARIABLE, ""),
                )
            except BaseException:
                launching.result()[0].close()
                raise
        launcher, launched = launching.result()
        try:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="grader-")))
        except BaseException:
            launcher.close()
            raise
        stack.enter_context(closing(launcher))  # closed before the scratch folder goes
        if private is not None:
            stack.enter_context(kept_private(Path(private)))
        yield Session(
            plan, book, sandbox, launcher, launched, scratch, cache_dir, catalog_predictions(plan)
        )


def grade_class(
    session: Session,
    submissions: tuple[Submission, ...],
    on_graded: Callable[[SubmissionResult], None] = lambda result: None,
    jobs: int = 1,
) -> list[Graded]:
    """Every submission through every stage, `jobs` at a time; in the submissions' order, each
    with its timing.  A fault of the grader's own on one submission is that submission's verdict."""
    return _grade_many(
        tuple(submissions),
        session.plan,
        session.scratch,
        on_graded,
        jobs,
        session.launcher,
        session.sandbox,
        session.cache_dir,
        session.predictions,
    )


def grade_one(session: Session, submission: Submission) -> Graded:
    [graded] = grade_class(session, (submission,))
    return graded

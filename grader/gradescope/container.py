"""Grade the one submission of a Gradescope container and write its results.json.

Gradescope's contract (gradescope-autograders.readthedocs.io, "Autograder
Specifications" and "Submission Metadata"):

    ROOT/source/                    the extracted autograder.zip: this repository
    ROOT/submission/                the student's files, as uploaded
    ROOT/submission_metadata.json   who submitted, to which assignment (optional here)
    ROOT/results/results.json       what Gradescope shows; written by the grader, last

It is the pipeline of `make grade` for one submission, in the student's view:
hidden cases are graded, and results.json is drawn from the student's copy of
the result (`grader.outputs.views.student_view`), in which a hidden case is only its
verdict and a generic reason.  The staff log gets the full result.  Nothing the
student's process wrote is read back; results.json replaces whatever is there.
"""

from __future__ import annotations

import html
import json
import os
import resource
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grader.core.cases import load_secret
from grader.core.spec import Spec
from grader.engine.discover import Submission
from grader.engine.pipeline import grade_one, open_session
from grader.engine.score import SubmissionResult
from grader.outputs import report
from grader.outputs.views import printable

DEFAULT_ROOT = Path("/autograder")
SECRET_FILE_NAME = "secret.txt"  # beside run_autograder in the zip, so ROOT/source/secret.txt
ANSWER_KEY_FOLDER = (
    "answer-key"  # ROOT/source/answer-key: written by setup.sh when the image is built
)
OUTPUT_FORMAT = "html"
TIMING_PREFIX = "timing: "  # the staff log's line of figures (timing_line, read_timing)
SHOWN_NAMES = 12  # uploaded files or defined functions named in a message


@dataclass(frozen=True)
class AutograderTree:
    """The folders of one container, from its root (/autograder on Gradescope)."""

    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def answer_key(self) -> Path:
        return self.source / ANSWER_KEY_FOLDER

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def results(self) -> Path:
        return self.root / "results"


@dataclass(frozen=True)
class SubmissionMetadata:
    """What Gradescope says of the submission; every field may be missing."""

    submission_id: str | None = None
    assignment_title: str | None = None
    assignment_points: float | None = None  # Gradescope's total, manual grading included
    submitters: int = 0
    problem: str | None = None  # why the file could not be read, for the instructor's log
    created_at: datetime | None = None  # when this submission was made
    earlier: tuple[datetime, ...] = ()  # when the same student's earlier submissions were made
    unreadable_times: int = 0  # earlier submissions whose time could not be read

    def to_dict(self) -> dict:
        return {
            "submission_id": self.submission_id,
            "assignment_title": self.assignment_title,
            "assignment_points": self.assignment_points,
            "submitters": self.submitters,
        }


@dataclass(frozen=True)
class Secret:
    value: bytes | None = field(repr=False)
    origin: str  # where it came from, for the instructor's log (never the value)
    file: Path | None = None


@dataclass(frozen=True)
class ContainerRun:
    result: SubmissionResult
    results: dict  # what results.json holds
    secret_origin: str
    metadata: SubmissionMetadata
    notes: tuple[
        str, ...
    ] = ()  # for the instructor: Gradescope shows run_autograder's output to staff only


def _moment(value) -> datetime | None:
    """A Gradescope time ("2026-12-07T14:22:32.365935-08:00"), None where it is not one."""
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_metadata(path: Path) -> SubmissionMetadata:
    if not path.is_file():
        return SubmissionMetadata()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assignment = data.get("assignment") or {}
        points = assignment.get("total_points")
        previous = data.get("previous_submissions") or []
        earlier = [
            _moment(entry.get("submission_time")) if isinstance(entry, dict) else None
            for entry in (previous if isinstance(previous, list) else [])
        ]
        return SubmissionMetadata(
            created_at=_moment(data.get("created_at")),
            earlier=tuple(moment for moment in earlier if moment is not None),
            unreadable_times=sum(moment is None for moment in earlier),
            submission_id=str(data["id"]) if data.get("id") is not None else None,
            assignment_title=str(assignment["title"])
            if assignment.get("title") is not None
            else None,
            assignment_points=float(points) if points not in (None, "") else None,
            submitters=len(data.get("users") or ()),
        )
    except (OSError, ValueError, TypeError, AttributeError) as error:
        return SubmissionMetadata(
            problem=f"{path.name} unreadable ({type(error).__name__}: {error}); graded without it"
        )


def find_secret(
    spec: Spec, environ: dict, tree: AutograderTree, secret_file: Path | None = None
) -> Secret:
    """An explicit file, else the spec's environment variable, else secret.txt from the zip."""
    if secret_file is None and not environ.get(spec.secret_env):
        bundled = tree.source / SECRET_FILE_NAME
        secret_file = bundled if bundled.is_file() else None
    value = load_secret(spec, environ, secret_file)
    if value is None:
        return Secret(None, "none: grading on the public cases only")
    if secret_file is not None:
        return Secret(value, f"file {secret_file}", Path(secret_file))
    return Secret(value, f"environment variable {spec.secret_env}")


def submission_in(folder: Path, label: str) -> Submission:
    """The uploaded files as one submission; a lone .zip with no source beside it is opened."""
    if folder.is_dir() and not any(
        p.suffix.lower() in (".py", ".ipynb") for p in folder.rglob("*")
    ):
        archives = [
            p
            for p in folder.iterdir()
            if p.suffix.lower() == ".zip" and p.is_file() and not p.is_symlink()
        ]
        if len(archives) == 1:
            return Submission(label, archives[0], "zip")
    return Submission(label, folder, "folder")


def _some(names: list[str]) -> str:
    shown = ", ".join(
        printable(name) for name in names[:SHOWN_NAMES]
    )  # file names and signatures the submission chose
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "")


def entry_point_notice(result: SubmissionResult, folder: Path, spec: Spec) -> str | None:
    """A message for the top of the results when no entry point could be found at all."""
    load = result.load
    wanted = ", ".join(spec.contract.entry_points)
    if load.status == "empty":
        uploaded = (
            sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            if folder.is_dir()
            else []
        )
        found = f"found: {_some(uploaded)}" if uploaded else "it is empty"
        return (
            f"No .py or .ipynb file was found in what you uploaded ({found}). "
            "Upload your .py or .ipynb file(s), or a .zip holding them, and submit again."
        )
    if load.status != "ok":
        return None  # it never finished loading; the summary below says why
    entry_points = load.entry_points if isinstance(load.entry_points, dict) else {}
    if any(
        isinstance(entry_points.get(name), dict) and entry_points[name].get("where")
        for name in spec.contract.entry_points
    ):
        return None
    signatures = [str(d.get("signature")) for d in load.defined if d.get("signature")]
    defined = f"It defines {_some(signatures)}." if signatures else "It defines no functions."
    return (
        f"Your submission defines none of the functions the grader calls ({wanted}), "
        f"so no check could run. {defined} "
        f"Start from the template "
        f"({' or '.join(p.name for p in spec.reference.starter) or 'the starter file'}), "
        "keep its function names and arguments, and submit again."
    )


def _with_notice(results: dict, notice: str) -> dict:
    if results.get("output_format") == "html":
        lead = f"<p><strong>{html.escape(notice)}</strong></p>\n"
    else:
        lead = notice + "\n\n"
    return {**results, "output": lead + str(results.get("output", ""))}


@dataclass(frozen=True)
class HiddenFeedback:
    """Whether this submission may see its hidden cases' verdicts now, and why."""

    shown: bool
    returns_at: datetime | None = None  # when a new submission would see them again
    counted: int = 0  # earlier submissions inside the window
    note: str = ""  # for the instructor's log: what in the metadata was not used


def hidden_feedback(
    spec: Spec, metadata: SubmissionMetadata, now: datetime | None = None
) -> HiddenFeedback:
    """[gradescope] hidden_feedback = {submissions = N, hours = H}: of a student's submissions,
    at most N in any H hours see their hidden cases' verdicts at once, counted from
    submission_metadata.json's earlier submissions.  Missing, malformed or future times never
    hold a verdict back: they are not counted, and the note says so."""
    if spec.hidden_feedback is None:
        return HiddenFeedback(True)
    allowed, hours = spec.hidden_feedback
    now = metadata.created_at or now or datetime.now(UTC)
    window = timedelta(hours=hours)
    future = [moment for moment in metadata.earlier if moment > now]
    inside = sorted(moment for moment in metadata.earlier if now - window < moment <= now)
    notes = []
    if metadata.problem:
        notes.append("no earlier submissions counted: the metadata was unreadable")
    if metadata.unreadable_times:
        notes.append(
            f"{metadata.unreadable_times} earlier submission time(s) unreadable, not counted"
        )
    if future:
        notes.append(f"{len(future)} earlier submission time(s) after this one's, not counted")
    if len(inside) < allowed:
        return HiddenFeedback(True, counted=len(inside), note="; ".join(notes))
    return HiddenFeedback(
        False, inside[len(inside) - allowed] + window, len(inside), "; ".join(notes)
    )


def _held_back(results: dict, result: SubmissionResult, spec: Spec, feedback: HiddenFeedback):
    """Each test whose check ran a hidden case shown only when grades are published, and a
    message at the top that says why and when hidden feedback returns; the score stays whole."""
    hidden = {c.check.id for c in result.checks if any(v.hidden for v in c.verdicts)}
    tests = [
        {**test, "visibility": "after_published"} if test["extra_data"]["check"] in hidden else test
        for test in results["tests"]
    ]
    allowed, hours = spec.hidden_feedback
    when = feedback.returns_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    notice = (
        f"Hidden-case results are shown for {allowed} submission{'s' if allowed != 1 else ''} in "
        f"any {hours:g} hours, and you have made {feedback.counted} already: this submission's "
        f"{len(hidden)} checks with hidden cases will show when grades are published. A "
        f"submission made after {when} shows them again. Your score is recorded in full."
    )
    extra = {**results.get("extra_data", {}), "hidden_feedback_returns": when}
    return _with_notice({**results, "tests": tests, "extra_data": extra}, notice)


def container_results(
    result: SubmissionResult,
    spec: Spec,
    metadata: SubmissionMetadata,
    folder: Path,
    feedback: HiddenFeedback | None = None,
) -> dict:
    results = report.gradescope_results(result, spec.hidden_visibility, output_format=OUTPUT_FORMAT)
    notice = entry_point_notice(result, folder, spec)
    if notice:
        results = _with_notice(results, notice)
    if feedback is not None and not feedback.shown and result.ran_hidden:
        results = _held_back(results, result, spec, feedback)
    extra = {
        **results.get("extra_data", {}),
        "submission": metadata.to_dict(),
        "load": result.load.status,
    }
    return {**results, "stdout_visibility": "hidden", "extra_data": extra}


def failure_results() -> dict:
    """What a student sees when the grader itself failed: no score to trust, and no details
    (they go to run_autograder's output, which Gradescope shows to course staff only)."""
    return {
        "score": 0,
        "output": "The autograder could not grade this submission. "
        "This is a problem on the course's side, not in your code; "
        "your instructor can see what went wrong.",
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def write_results(results: dict, folder: Path) -> Path:
    """Write results.json in one step, replacing anything of that name (a file, link or folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "results.json"
    text = json.dumps(results, indent=2, allow_nan=False)
    handle, temporary = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def timing_line(timing) -> str:
    """Where the time went, for the staff log and the benchmark that reads it: the student's own
    code as its process measured it, and this process's CPU time."""
    own = timing.load + sum(timing.calls.values())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "student_seconds": round(own, 4),
        "load_seconds": round(timing.load, 4),
        "calls": len(timing.calls),
        "grader_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 4),
        "grader_imported_torch": "torch"
        in sys.modules,  # the answer key read, the reference never ran here
    }
    return f"{TIMING_PREFIX}{json.dumps(figures)}"


def read_timing(log: str) -> dict | None:
    """The figures `timing_line` put in a staff log, or None if it has none (nothing was graded)."""
    lines = [line for line in log.splitlines() if line.startswith(TIMING_PREFIX)]
    return json.loads(lines[-1][len(TIMING_PREFIX) :]) if lines else None


def _remove(paths) -> list[str]:
    """Delete each file or folder; what stays (a read-only image), said for the staff log."""
    notes = []
    for path in paths:
        try:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            notes.append(f"{path} stays on disk ({error.strerror}); keep it readable by root only")
    return notes


def grade_container(
    tree: AutograderTree,
    spec: Spec,
    secret: Secret,
    metadata: SubmissionMetadata,
    environ: dict,
    remove_secrets: bool = False,
) -> ContainerRun:
    """Grade the submission; with `remove_secrets`, the secret file and the answer key are gone
    from the disk once read, before any student code starts (each run is a fresh container)."""
    label = f"gradescope-{metadata.submission_id}" if metadata.submission_id else "submission"
    submission = submission_in(tree.submission, label)
    # No cache of expected values or runs written here: on disk, the hidden cases' answers would
    # lie within the student's reach.  The answer key the image's build wrote (setup.sh, root-only)
    # is read instead of computing the reference again, then removed.  The sandbox has the same
    # layers as `make grade`, as this container allows.  One submission per container: a fresh
    # interpreter, as a warm worker's warm-up would cost more than it saves (bench/container.py).
    with open_session(
        spec,
        secret.value,
        environ=environ,
        private=tree.results,
        answer_key=tree.answer_key,
        warm=False,
    ) as session:
        removed = (
            _remove(
                p
                for p in {secret.file, tree.source / SECRET_FILE_NAME, tree.answer_key}
                if p is not None
            )
            if remove_secrets
            else []
        )
        graded = grade_one(session, submission)
    result = graded.result
    feedback = hidden_feedback(spec, metadata)
    results = container_results(result, spec, metadata, tree.submission, feedback)
    key_source = (
        "read from " + str(tree.answer_key)
        if session.plan.from_answer_key
        else "computed now (none stored for these cases)"
    )
    notes = [
        f"secret: {secret.origin}",
        f"answer key: {key_source}",
    ]
    notes += [
        session.sandbox.describe(),
        f"processes: {session.launched}",
        *removed,
        timing_line(graded.timing),
    ]
    if metadata.problem:
        notes.append(metadata.problem)
    if spec.hidden_feedback is not None:
        notes.append(
            "hidden feedback: "
            + ("shown" if feedback.shown else "held back until grades are published")
            + f" ({feedback.counted} earlier submission(s) in the window)"
            + (f"; {feedback.note}" if feedback.note else "")
        )
    total = result.max_score + result.manual_points
    if metadata.assignment_points is not None and abs(metadata.assignment_points - total) > 1e-9:
        notes.append(
            f"Gradescope's assignment is worth {metadata.assignment_points:g} points; "
            f"this grader gives {result.max_score:g} "
            f"automatically and the written answers {result.manual_points:g} by hand ({total:g} in all)"
        )
    return ContainerRun(result, results, secret.origin, metadata, tuple(notes))


def run_container(
    root: Path,
    spec: Spec,
    environ: dict,
    secret_file: Path | None = None,
    remove_secret_file: bool = False,
) -> ContainerRun:
    """Everything `run_autograder` does: read, grade, write results.json."""
    tree = AutograderTree(Path(root))
    secret = find_secret(spec, environ, tree, secret_file)
    run = grade_container(
        tree, spec, secret, read_metadata(tree.metadata), environ, remove_secrets=remove_secret_file
    )
    write_results(run.results, tree.results)
    return run

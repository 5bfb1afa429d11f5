"""Command line: parse arguments, call the library.  `python -m grader --help`."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from grader.core.assignment import (
    DEFAULT_ASSIGNMENT,
    REPOSITORY,
    AssignmentError,
    folder_of,
    names,
)
from grader.core.cases import draw_cases, load_secret
from grader.core.expected import expected_values
from grader.core.spec import SpecError, load_spec, spec_path
from grader.course import integrity, marking
from grader.course.gradebook import (
    GRADEBOOK_FILE,
    RESERVED_NAMES,
    GradebookError,
    MarkRefused,
    open_gradebook,
)
from grader.course.marksheet import read_marksheet, write_marksheet
from grader.engine.cache import default_cache_dir, write_answer_key
from grader.engine.diagnose import check_catalog
from grader.engine.discover import Problem, discover_submissions, submission_at
from grader.engine.load import load_submission
from grader.engine.pipeline import grade_class, grade_one, open_session
from grader.gradescope import bundle, container
from grader.outputs import SELF_CHECK_FILE, html, report, terminal
from grader.outputs.views import printable_data, student_view

# ------------------------------------------------------------------ another assignment's hand-in


def _defined_names(text: str) -> set[str]:
    """Top-level functions a source defines, read without running it (an unparsable one defines none)."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def other_assignment(loaded, assignment: str, entry_points) -> str | None:
    """Why a hand-in that defines none of `entry_points` is another assignment's, or None.

    `loaded` is a grader.engine.load.LoadedSubmission (source text only, nothing run)."""
    from grader.core.assignment import AssignmentError, load_reference, names

    defined = set().union(
        *(_defined_names("\n".join(f.cells) if f.cells else f.text) for f in loaded.runnable)
    )
    if defined & set(entry_points):
        return None
    best, shared = None, set()
    for name in names():
        if name == assignment:
            continue
        try:
            theirs = set(load_reference(name).contract.entry_points)
        except AssignmentError:
            continue
        if len(defined & theirs) > len(shared):
            best, shared = name, defined & theirs
    if best is None:
        return None
    listed = ", ".join(sorted(shared)[:4])
    return (
        f"this looks like the {best} assignment (it defines {listed}), not {assignment}, "
        f"whose functions ({', '.join(sorted(entry_points))}) it does not define: "
        f"check it with --assignment {best} (in a notebook: self_check(path, assignment={best!r}))"
    )


REPORTS = Path("reports")  # the outputs of assignment NAME go to reports/NAME/ unless --out says


class UsageError(ValueError):
    """A command asked for something it cannot do as asked; said before anything is written."""


def _outputs_of(args, assignment: str) -> Path:
    return args.out if args.out is not None else REPORTS / assignment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description=(
            "Grade a numerical homework: every submission run in isolation, "
            "compared with the reference, diagnosed and scored."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def assignment(sub):
        chosen = os.environ.get("GRADER_ASSIGNMENT") or DEFAULT_ASSIGNMENT
        sub.add_argument(
            "--assignment",
            default=chosen,
            help="the assignment: a folder of reference/ (default: $GRADER_ASSIGNMENT, else %(default)s)",
        )
        sub.add_argument(
            "--spec",
            type=Path,
            help="a spec file to grade by instead of the assignment's own assignment.toml (it names its assignment)",
        )

    def gradebook_option(sub):
        # no environment variable: a shell's setting would silently send every run, a test's too, to one file
        sub.add_argument(
            "--gradebook", type=Path, help=f"the gradebook file (default: OUT/{GRADEBOOK_FILE})"
        )

    def book_assignment(sub):
        sub.add_argument(
            "--assignment",
            default=os.environ.get("GRADER_ASSIGNMENT"),
            help="the assignment, where the gradebook holds several (default: $GRADER_ASSIGNMENT, else the only one)",
        )

    def common(sub, secret: bool = True):
        assignment(sub)
        sub.add_argument(
            "--cache",
            type=Path,
            default=default_cache_dir(),
            help="where expected values and runs of unchanged code are cached (default: %(default)s)",
        )
        sub.add_argument(
            "--no-cache",
            dest="cache",
            action="store_const",
            const=None,
            help="recompute the expected values and run every submission again",
        )
        if secret:
            sub.add_argument(
                "--secret-file",
                type=Path,
                help="file holding the hidden-case secret (else $GRADER_SECRET, per the spec)",
            )

    grade = commands.add_parser(
        "grade", help="grade every submission in a folder (the instructor's view)"
    )
    grade.add_argument(
        "submissions",
        type=Path,
        nargs="?",
        help="the folder of hand-ins (default: the assignment's own examples)",
    )
    grade.add_argument(
        "--out",
        type=Path,
        help=f"where the outputs go, one assignment per folder (default: {REPORTS}/ASSIGNMENT)",
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: the number of cores, %(default)s)",
    )
    grade.add_argument(
        "--fresh-interpreters",
        action="store_true",
        help="start every submission in a new interpreter instead of forking a warm one",
    )
    gradebook_option(grade)
    common(grade)

    history = commands.add_parser(
        "history",
        help="the grading runs in the gradebook: who moved between two runs, and which checks changed",
    )
    history.add_argument(
        "student", nargs="?", help="only this student (with --run: whose earlier results to show)"
    )
    history.add_argument(
        "--out",
        type=Path,
        help=f"the folder `grade` wrote (default: {REPORTS}/ASSIGNMENT)",
    )
    history.add_argument(
        "--since",
        type=int,
        metavar="RUN",
        help="compare the latest run with this one (default: the one before it)",
    )
    history.add_argument(
        "--run",
        type=int,
        metavar="N",
        help="show the results STUDENT had in run N, as that run stored them",
    )
    gradebook_option(history)
    book_assignment(history)

    similar = commands.add_parser(
        "similar",
        help="for staff: hand-ins that share wrong answers few others give, and how alike "
        "their code is (OUT/similar.html)",
    )
    similar.add_argument("out", type=Path, help="the folder `grade` wrote")
    gradebook_option(similar)
    book_assignment(similar)

    marks = commands.add_parser(
        "marks",
        help="the written answers' marks as CSV (student, question, points, comment, marker)",
    )
    marks_commands = marks.add_subparsers(dest="marks_command", required=True)
    said = {
        "export": "write every student's answer to every question, with its mark (empty if none), to FILE",
        "import": "read marks from FILE: every row checked first, then all written or none",
    }
    for name, text in said.items():
        sub = marks_commands.add_parser(name, help=text)
        sub.add_argument("file", type=Path)
        sub.add_argument(
            "--out",
            type=Path,
            help=f"the folder `grade` wrote (default: {REPORTS}/ASSIGNMENT)",
        )
        if name == "import":
            sub.add_argument(
                "--marker", default="", help="who marked, for rows whose marker column is empty"
            )
        gradebook_option(sub)
        book_assignment(sub)

    check = commands.add_parser(
        "check", help="self-check one submission on the public cases (the student's view)"
    )
    check.add_argument("path", type=Path)
    check.add_argument("--out", type=Path, help="also write the student's report files here")
    common(check, secret=False)

    expected = commands.add_parser(
        "expected", help="print every check's expected values as JSON (the answer key)"
    )
    common(expected)

    gradescope = commands.add_parser(
        "gradescope",
        help="grade the one submission of a Gradescope container (what run_autograder runs)",
    )
    gradescope.add_argument(
        "--root",
        type=Path,
        default=container.DEFAULT_ROOT,
        help="the container's root folder (default: %(default)s)",
    )
    assignment(gradescope)
    gradescope.add_argument(
        "--secret-file",
        type=Path,
        help="file holding the hidden-case secret (else $GRADER_SECRET, else ROOT/source/secret.txt)",
    )
    gradescope.add_argument(
        "--remove-secret-file",
        action="store_true",
        help="delete the secret file and the answer key once read, before any student code runs",
    )

    image_command = commands.add_parser(
        "autograder-image",
        help=(
            "build the autograder's Docker image as Gradescope builds it "
            "(from the zip; its wheels fetched with this machine's pip configuration)"
        ),
    )
    image_command.add_argument("--tag", default="backprop-autograder:latest")
    assignment(image_command)
    image_command.add_argument(
        "--secret-file",
        type=Path,
        help="put this secret in the image (hidden cases, and their answer key, computed at build time)",
    )

    answer_key = commands.add_parser(
        "answer-key",
        help=(
            "compute every check's expected values once, hidden cases included, "
            "into a folder only its owner reads (an LMS image's build step)"
        ),
    )
    answer_key.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the folder (Gradescope: ROOT/source/answer-key, which `gradescope` reads)",
    )
    assignment(answer_key)
    answer_key.add_argument(
        "--secret-file",
        type=Path,
        help="file holding the hidden-case secret (else $GRADER_SECRET, per the spec)",
    )

    bundle_zip = commands.add_parser(
        "autograder-zip", help="build the autograder.zip to upload to Gradescope"
    )
    bundle_zip.add_argument("--out", type=Path, default=Path("autograder.zip"))
    assignment(bundle_zip)
    bundle_zip.add_argument(
        "--secret-file",
        type=Path,
        help="put this secret in the zip as secret.txt (hidden cases on Gradescope)",
    )

    scaffold = commands.add_parser(
        "new-assignment",
        help="write a new, working assignment folder to edit into a course's own homework",
    )
    scaffold.add_argument("name", help="the assignment's name: lowercase letters, digits and _")
    scaffold.add_argument(
        "--dir",
        type=Path,
        default=Path("."),
        help="where the folder NAME/ goes (default: here); put it on $GRADER_ASSIGNMENTS",
    )

    mark = commands.add_parser(
        "mark", help="mark the written answers in a browser (served on 127.0.0.1, behind a token)"
    )
    mark.add_argument(
        "--out",
        type=Path,
        help=f"the folder `grade` wrote, with its gradebook (default: {REPORTS}/ASSIGNMENT)",
    )
    gradebook_option(mark)
    book_assignment(mark)
    mark.add_argument("--port", type=int, default=0, help="the port (default: any free one)")
    mark.add_argument(
        "--host",
        default=marking.LOOPBACK,
        help="only %(default)s is accepted: the pages show every student's answers",
    )
    mark.add_argument(
        "--marker", help="your name, recorded with each mark (else each browser is asked once)"
    )
    mark.add_argument(
        "--names",
        action="store_true",
        help="show the students' names (default: anonymous, 'Hand-in N' until an answer is marked)",
    )
    return parser


def _spec(args):
    """The spec the command grades by: --spec, else the assignment's own."""
    return load_spec(spec_path(args.assignment, args.spec))


def _secret(args, spec):
    return load_secret(spec, dict(os.environ), args.secret_file)


def _hidden_counts(spec) -> str:
    """How many hidden cases the checks have, from the spec alone (no case, no value): "3 for each
    of 30 checks, 1 for each of 2 (np-a, np-b), none for 2 (np-c, np-d)"."""
    by_count: dict[int, list[str]] = {}
    for check in spec.checks:
        by_count.setdefault(check.hidden_cases, []).append(check.id)
    groups = sorted(by_count.items(), key=lambda item: -len(item[1]))
    said = []
    for number, (count, ids) in enumerate(groups):
        named = "" if number == 0 else f" ({', '.join(ids[:4])}{', …' if len(ids) > 4 else ''})"
        amount = f"{count} hidden case{'s' if count != 1 else ''}" if count else "no hidden case"
        said.append(
            f"{amount} for {'each of ' if len(ids) > 1 else ''}{len(ids)} check{'s' if len(ids) != 1 else ''}{named}"
        )
    return "; ".join(said) or "no checks"


def command_expected(args, console: Console) -> int:
    spec = _spec(args)
    book = draw_cases(spec, _secret(args, spec))
    records = []
    values = expected_values(spec, book)
    if spec.is_own:  # what `grade` refuses (an entry that is no mistake), refused here too
        check_catalog(spec, book, tuple(values))
    for item in values:
        check = spec.check(item.check_id)
        records.append(
            {
                "check": check.id,
                "part": check.part,
                "entry": check.entry,
                "kwargs": check.args,
                "quantity": check.quantity,
                **item.to_dict(),
            }
        )
    json.dump(records, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _refuse_another_assignments_outputs(args, name: str) -> None:
    """One assignment, one outputs folder: a gradebook there of another assignment is refused."""
    path = _gradebook_path(args)
    if not path.is_file():
        return
    book = open_gradebook(path)
    try:
        others = [a for a in book.assignments() if a != name]
    finally:
        book.close()
    if others:
        raise UsageError(
            f"{args.out} holds the outputs of {', '.join(others)}: grade {name} into a folder of its "
            f"own (--out {REPORTS / name}, or OUT= with make); nothing was written"
        )


def command_grade(args, console: Console) -> int:
    spec = _spec(args)
    secret = _secret(args, spec)
    args.out = _outputs_of(args, spec.name)
    if args.submissions is None:
        if spec.reference.examples is None:
            raise UsageError(f"{spec.name} has no examples folder: name the folder to grade")
        args.submissions = spec.reference.examples
    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions}: not a folder of submissions; nothing was graded")
    discovery = discover_submissions(
        args.submissions,
        reserved=(
            report.GRADES_FILE,
            html.DASHBOARD_FILE,
            report.REFRESH_LOCK,
            integrity.LEADS_PAGE,
            *RESERVED_NAMES,
        ),
    )
    if not discovery.submissions:
        raise UsageError(
            f"{args.submissions}: no submissions in it ({len(discovery.problems)} entries skipped); "
            "nothing was graded or recorded"
        )
    _refuse_another_assignments_outputs(args, spec.name)
    book = open_gradebook(
        _gradebook_path(args)
    )  # a gradebook it cannot write is refused before anything is graded
    for problem in discovery.problems:
        console.print(
            Text.assemble(
                ("skipped", "yellow"),
                " ",
                terminal.plain(f"{problem.path.name}: {problem.message}"),
            ),
            highlight=False,
        )
    for submission in discovery.submissions:
        if submission.renaming:
            console.print(
                Text.assemble(("renamed", "yellow"), " ", terminal.plain(submission.renaming)),
                highlight=False,
            )
    if not secret:
        console.print(
            f"No secret (${spec.secret_env} or --secret-file): grading on the public cases only."
        )
    else:  # where it came from and what it does, never the secret itself
        source = f"--secret-file {args.secret_file}" if args.secret_file else f"${spec.secret_env}"
        console.print(
            f"secret: read from {escape(source)}; hidden cases ran ({_hidden_counts(spec)}).",
            highlight=False,
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with open_session(
        spec,
        secret,
        cache_dir=args.cache,
        warm=not args.fresh_interpreters,
        environ=os.environ,
        private=args.out,
    ) as session:
        console.print(escape(session.sandbox.describe()), highlight=False, soft_wrap=True)
        console.print(
            f"Submissions run in processes of their own, {session.launched}; {args.jobs} at a time.",
            highlight=False,
        )
        started = time.monotonic()
        # a terminal gets a progress bar; a pipe or a log one short line per hand-in, on stderr
        log = None if console.is_terminal else Console(stderr=True, highlight=False)
        with Progress(
            *columns, console=console, transient=True, disable=log is not None
        ) as progress:
            task = progress.add_task("grading", total=len(discovery.submissions))
            done = 0

            def graded(result):
                nonlocal done
                for failure in report.write_outputs(
                    result, spec, args.out / result.submission.id, session.book
                ):
                    progress.console.print(
                        Text.assemble(
                            ("not written", "red"),
                            " ",
                            terminal.plain(f"{result.submission.id}: {failure}"),
                        ),
                        highlight=False,
                    )
                progress.advance(task)
                done += 1
                if log is not None:
                    log.print(
                        terminal.progress_line(done, len(discovery.submissions), result),
                        no_wrap=True,
                        overflow="ellipsis",
                    )

            results = [
                g.result
                for g in grade_class(session, discovery.submissions, graded, jobs=args.jobs)
            ]
        seconds = time.monotonic() - started
    with book:  # the run lands whole, after grading: a grade stopped before here leaves the gradebook as it was
        run = book.record_run(spec.name, spec, results, hidden=bool(secret))
        dashboard = html.write_dashboard(results, spec, args.out)
        report.refresh_class_outputs(args.out, book, spec.name)
        moved = book.movements(spec.name)
        runs = len(book.runs(spec.name))
        totals = {total.student: total for total in book.totals(spec.name)}
    console.print(terminal.summary_table(results, totals, width=console.width))
    reused = sum(r.reused_run for r in results)
    if reused:
        console.print(
            f"{reused} of {len(results)} submissions were not run again: "
            "the same code gave its answers to the same calls in an earlier run "
            "(--no-cache runs every one)."
        )
    said = (
        f"; {len(moved)} moved since the previous run (python -m grader history)"
        if runs > 1
        else ""
    )
    console.print(escape(f"Gradebook: run {run} recorded in {book.path}{said}."), highlight=False)
    console.print(
        f"Reports in {args.out}/ ({len(results)} graded, {len(discovery.problems)} skipped); "
        f"open {escape(str(dashboard))} in a browser.",
        highlight=False,
    )
    _write_leads(console, args.out, spec, [r.submission.id for r in results])
    console.print(terminal.class_summary(results, seconds, console.width, totals))
    return 0


def _write_leads(console: Console, out: Path, spec, ids: list[str] | None = None) -> None:
    """OUT/similar.html for staff; a failure there is said, and the class outputs stand."""
    try:
        leads = integrity.find_leads(
            integrity.read_class(out, ids),
            [path.read_text(encoding="utf-8") for path in spec.reference.starter],
        )
        page = integrity.write_leads(out, leads, spec.name)
    except Exception as error:  # noqa: BLE001 - the leads are extra: grading is done and written
        console.print(
            terminal.plain(
                f"shared wrong answers not compared: {html.failure_reason(error, True)}"
            ),
            highlight=False,
        )
        return
    similar = sum(lead.similar_code for lead in leads.leads)
    said = leads.nothing_to_compare or (
        f"{len(leads.leads)} pair{'s' if len(leads.leads) != 1 else ''} share wrong answers few "
        f"others give, {similar} of them with similar code"
    )
    console.print(
        terminal.plain(
            f"Shared wrong answers (staff only, a lead, never a verdict): {said}; {page}"
        ),
        highlight=False,
    )


def command_similar(args, console: Console) -> int:
    book, assignment = _existing_gradebook(args)
    book.close()
    spec = load_spec(spec_path(assignment, None))
    if not list(args.out.glob("*/grading.json")):
        raise UsageError(f"{args.out}: no graded hand-ins in it (`grade --out {args.out}` first)")
    _write_leads(console, args.out, spec)
    return 0


def _gradebook_path(args) -> Path:
    return args.gradebook if args.gradebook is not None else args.out / GRADEBOOK_FILE


def _existing_gradebook(args):
    """The gradebook a reading command names, and its assignment; GradebookError if there is none.
    Without --out, the folder of --assignment (else $GRADER_ASSIGNMENT, else the default one)."""
    args.out = _outputs_of(args, args.assignment or DEFAULT_ASSIGNMENT)
    path = _gradebook_path(args)
    if not path.is_file():
        raise GradebookError(
            f"{path}: no gradebook here; `grade --out {args.out}` writes one (or give --gradebook PATH)"
        )
    book = open_gradebook(path)
    known = book.assignments()
    chosen = args.assignment or (known[0] if len(known) == 1 else None)
    if chosen not in known:
        book.close()
        wanted = (
            f"no assignment {chosen!r} in it"
            if chosen
            else "several assignments in it: choose one with --assignment"
        )
        raise GradebookError(f"{path}: {wanted} (assignments: {', '.join(known) or 'none'})")
    return book, chosen


def command_history(args, console: Console) -> int:
    book, assignment = _existing_gradebook(args)
    with book:
        if args.run is not None:
            if not args.student:
                raise GradebookError(
                    "--run N shows one student's earlier results: name the student"
                )
            result = book.run_result(assignment, args.run, args.student)
            console.print(
                Text(
                    f"{args.student} in run {args.run}: "
                    f"{html.format_number(result.get('score'), 'g')} / "
                    f"{html.format_number(result.get('max_score'), 'g')}"
                ),
                highlight=False,
            )
            json.dump(result, sys.stdout, indent=1)
            sys.stdout.write("\n")
            return 0
        runs = book.runs(assignment)
        table = Table(title=terminal.plain(f"Grading runs of {assignment}"))
        for column in ("run", "when", "hidden cases", "students", "spec", "grader"):
            table.add_column(column)
        for run in runs:
            spec = terminal.plain(f"{run.spec_digest[:12]} {Path(run.spec_source).name}")
            table.add_row(
                str(run.id),
                run.when,
                "yes" if run.hidden else "no",
                str(run.students),
                spec,
                terminal.plain(run.grader_version),
            )
        console.print(table)
        if len(runs) < 2:
            console.print("Only one run: nobody has moved yet.")
            return 0
        later = runs[-1].id
        earlier = args.since if args.since is not None else runs[-2].id
        moved = [
            m
            for m in book.movements(assignment, earlier, later)
            if not args.student or m.student == args.student
        ]
        if not moved:
            console.print(
                terminal.plain(
                    f"Between run {earlier} and run {later}: "
                    + (f"{args.student} did not move." if args.student else "nobody moved.")
                ),
                highlight=False,
            )
            return 0
        console.print(
            terminal.plain(f"Between run {earlier} and run {later}, {len(moved)} moved:"),
            highlight=False,
        )
        for movement in moved:
            number = html.format_number
            console.print(
                terminal.plain(
                    f"{movement.student}: {number(movement.before, 'g')} -> "
                    f"{number(movement.after, 'g')} ({html.signed(movement.delta)})"
                ),
                highlight=False,
            )
            for change in movement.checks:
                console.print(
                    terminal.plain(
                        f"  {change.check}: {number(change.before, 'g')} -> {number(change.after, 'g')}"
                    ),
                    highlight=False,
                )
    return 0


def command_marks(args, console: Console) -> int:
    book, assignment = _existing_gradebook(args)
    with book:
        if args.marks_command == "export":
            rows, marked = write_marksheet(book, assignment, args.file)
            console.print(
                escape(
                    f"{args.file}: {rows} answers of {assignment} (every student and question), "
                    f"{marked} of them marked."
                ),
                highlight=False,
            )
            return 0
        entries, unmarked = read_marksheet(args.file, args.marker)
        try:
            written = book.set_marks(assignment, entries)
        except MarkRefused as refusal:
            console.print(
                escape(
                    f"{args.file}: {len(refusal.problems)} of {len(entries)} rows refused; no mark was written:"
                ),
                highlight=False,
            )
            for where, problem in refusal.problems:
                console.print(
                    Text.assemble(("refused", "red"), " ", terminal.plain(f"{where}: {problem}")),
                    highlight=False,
                )
            return 2
        report.refresh_class_outputs(args.out, book, assignment)
    left = f" ({unmarked} rows without points left as they were)" if unmarked else ""
    console.print(
        escape(
            f"{len(written)} marks of {assignment} imported from {args.file}{left}; grades.csv and the pages show them."
        ),
        highlight=False,
    )
    return 0


def command_check(args, console: Console) -> int:
    spec = _spec(args)
    item = submission_at(args.path)
    if isinstance(item, Problem):
        console.print(
            Text.assemble(
                ("cannot check", "red"), " ", terminal.plain(f"{item.path}: {item.message}")
            ),
            highlight=False,
        )
        return 2
    mismatch = other_assignment(
        load_submission(item), spec.name, spec.reference.contract.entry_points
    )
    if mismatch:
        console.print(
            Text.assemble(
                ("cannot check", "red"), " ", terminal.plain(f"{item.path.name}: {mismatch}")
            ),
            highlight=False,
        )
        return 2
    with open_session(
        spec, None, cache_dir=args.cache, environ=os.environ
    ) as session:  # public cases only, whatever the environment holds
        graded = grade_one(session, item).result
    result = student_view(graded)  # everything below is the student's view
    summary = terminal.student_summary(result, isolation=session.sandbox.describe())
    page = ""
    if args.out:
        folder = args.out / result.submission.id
        for failure in report.write_outputs(
            result, spec, folder
        ):  # the student's copy: its page only
            console.print(
                Text.assemble(("not written", "red"), " ", terminal.plain(failure)),
                highlight=False,
            )
        # what the notebook's self-check shows inline (grader.selfcheck reads it)
        (folder / SELF_CHECK_FILE).write_text(
            json.dumps(printable_data(summary), indent=1), encoding="utf-8"
        )
        page = str(folder / html.PAGES["student"])
    terminal.print_check(console, summary, page)
    return 0


def command_gradescope(args, console: Console) -> int:
    spec = _spec(args)
    try:
        run = container.run_container(
            args.root, spec, dict(os.environ), args.secret_file, args.remove_secret_file
        )
    except Exception:  # noqa: BLE001 - the grader failed, not the student:
        # the student sees a message, staff the traceback
        console.print_exception()
        container.write_results(
            container.failure_results(), container.AutograderTree(args.root).results
        )
        return 1
    for note in run.notes:  # the staff log: the full result, its text made printable
        console.print(
            terminal.plain(note), highlight=False, soft_wrap=True
        )  # one line each: a log is read by programs too
    terminal.print_problems(console, run.result)
    console.print(terminal.check_table(run.result, every_check=True))
    console.print(
        f"results.json written: {run.result.score:g} / {run.result.max_score:g} in {run.result.seconds:.1f} s"
    )
    return 0


def command_answer_key(args, console: Console) -> int:
    spec = _spec(args)
    book = draw_cases(spec, _secret(args, spec))
    path, values = write_answer_key(spec, book, args.out)
    if (
        spec.is_own
    ):  # what `grade` checks before grading, checked once here for every run that reads this key
        check_catalog(spec, book, tuple(values))
    hidden = sum(1 for item in values if item.case.hidden)
    console.print(
        f"{path}: {len(values)} expected values ({hidden} of them on hidden cases), readable by its owner only",
        highlight=False,
    )
    return 0


def _secret_outside_the_repository(args) -> None:
    """The hidden cases' secret is kept outside the repository (a file in it is one commit from
    every student); one inside is refused, and nothing is built."""
    if args.secret_file is None:
        return
    where = Path(args.secret_file).resolve()
    if where.is_relative_to(REPOSITORY.resolve()):
        raise UsageError(
            f"{args.secret_file} is inside the repository ({REPOSITORY}): keep the secret file "
            "outside it (for example ~/backprop-secret.txt); nothing was built"
        )


def command_autograder_image(args, console: Console) -> int:
    from grader.gradescope import image  # only here: it drives a container engine

    _secret_outside_the_repository(args)

    problem = image.engine_problem()
    if problem:
        console.print(f"[red]cannot build the image:[/red] {escape(problem)}", highlight=False)
        return 2
    spec = _spec(args)
    say = lambda text: console.print(terminal.plain(text), highlight=False)  # noqa: E731
    try:
        base = image.base_image(log=say)
        with tempfile.TemporaryDirectory(prefix="grader-image-") as folder:
            image.build_image(
                image.build_context(Path(folder), spec, args.secret_file, log=say),
                args.tag,
                base,
                log=say,
            )
    except image.ImageError as error:
        console.print(
            Text.assemble(
                ("image not built", "red"), f" at {error.step}: ", terminal.plain(error.reason)
            ),
            highlight=False,
        )
        return 1
    console.print(
        f"{args.tag}: built on {base}"
        + (
            ""
            if args.secret_file
            else " (no secret: public cases only, unless $GRADER_SECRET is given to each run)"
        ),
        highlight=False,
    )
    return 0


def command_autograder_zip(args, console: Console) -> int:
    _secret_outside_the_repository(args)
    spec = _spec(args)
    try:
        names = bundle.build_autograder_zip(args.out, secret_file=args.secret_file, spec=spec)
    except bundle.BundleError as error:
        console.print(f"[red]cannot build the zip:[/red] {escape(str(error))}", highlight=False)
        return 2
    no_secret = (
        f" (no secret in it: hidden cases run only where the LMS sets ${spec.secret_env}; "
        "add one with --secret-file FILE or make autograder SECRET_FILE=FILE)"
    )
    console.print(f"{args.out}: {len(names)} files" + ("" if args.secret_file else no_secret))
    points = sum(check.points for check in spec.checks)
    console.print(
        f"On Gradescope: autograder points {points:g}"
        + (
            f"; the written answers ({sum(q.points for q in spec.questions):g} points) are graded by hand."
            if spec.questions
            else "."
        )
    )
    return 0


SCAFFOLD = Path(__file__).resolve().parents[1] / "templates" / "assignment"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")  # the spec's own pattern for an assignment's name


def command_new_assignment(args, console: Console) -> int:
    """Copy the scaffold (templates/assignment/) to DIR/NAME with its name filled in: a spec of one
    check, its reference, one catalogued mistake, a starter file, a correct and a wrong example."""
    scaffold = (
        SCAFFOLD
        if SCAFFOLD.is_dir()
        else Path(__file__).resolve().parent / "templates" / "assignment"
    )
    if not NAME_PATTERN.match(args.name):
        raise UsageError(
            f"{args.name!r}: an assignment's name is lowercase letters, digits and _, a letter first"
        )
    if args.name in names():
        raise UsageError(
            f"{args.name!r} is already an assignment ({folder_of(args.name)}): choose another name"
        )
    home = args.dir / args.name
    if home.exists():
        raise UsageError(f"{home} already exists: nothing was written")
    for source in sorted(scaffold.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        target = home / str(source.relative_to(scaffold)).replace("__NAME__", args.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            source.read_text(encoding="utf-8").replace("__NAME__", args.name), encoding="utf-8"
        )
    where = args.dir.resolve()
    console.print(
        f"{home}/: a working assignment {args.name!r} (one check, one catalogued mistake, a starter file, "
        f"two examples).  Grade its examples with:\n  GRADER_ASSIGNMENTS={where} python -m grader grade "
        f"--assignment {args.name}\nthen edit __init__.py and assignment.toml into your homework "
        "(docs/assignments.md).",
        highlight=False,
    )
    return 0


def command_mark(args, console: Console) -> int:
    name = marking.clean_marker(args.marker) if args.marker is not None else None
    try:
        if args.marker is not None and name is None:
            raise marking.MarkingError(
                f"--marker must be one line of at most {marking.MAX_MARKER} printable characters"
            )
        marking.refuse_address(args.host)  # before the gradebook is even opened
        book, chosen = _existing_gradebook(args)
        book.close()

        def refresh(book):  # grades.csv and the dashboard show the new mark in their totals
            report.refresh_class_outputs(args.out, book, chosen)

        setup = marking.Marking(
            _gradebook_path(args), chosen, name, refresh=refresh, names=args.names
        )

        def announce(server):  # as Jupyter does: the URL with its token, the one way in
            console.print(
                f"Marking the written answers of {escape(chosen)} from {escape(str(setup.gradebook))}.",
                highlight=False,
            )
            console.print(
                "Open this URL in a browser on this machine (it holds the token that lets you in):",
                highlight=False,
            )
            print(f"    {server.url}", flush=True)
            console.print("Press Ctrl+C to stop.", highlight=False)

        marking.serve(setup, port=args.port, host=args.host, announce=announce)
    except marking.MarkingError as error:
        console.print(f"[red]cannot mark:[/red] {escape(str(error))}", highlight=False)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=args.command == "expected")
    try:
        commands = {
            "grade": command_grade,
            "history": command_history,
            "similar": command_similar,
            "marks": command_marks,
            "mark": command_mark,
            "check": command_check,
            "expected": command_expected,
            "gradescope": command_gradescope,
            "autograder-zip": command_autograder_zip,
            "answer-key": command_answer_key,
            "autograder-image": command_autograder_image,
            "new-assignment": command_new_assignment,
        }
        return commands[args.command](args, console)
    except SpecError as error:
        console.print(f"[red]spec error:[/red] {escape(str(error))}", highlight=False)
        return 2
    except GradebookError as error:
        console.print(f"[red]gradebook:[/red] {escape(str(error))}", highlight=False)
        return 2
    except UsageError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        return 2
    except AssignmentError as error:
        console.print(
            f"[red]assignment error:[/red] {escape(str(error))} (assignments: {', '.join(names()) or 'none'})",
            highlight=False,
        )
        return 2

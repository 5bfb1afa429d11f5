"""Command line: parse arguments, call the library.  `python -m grader --help`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from grader import html, marking, report
from grader.assignment import DEFAULT_ASSIGNMENT, AssignmentError, names
from grader.cache import default_cache_dir
from grader.cases import draw_cases, load_secret
from grader.discover import Problem, discover_submissions, submission_at
from grader.expected import expected_values
from grader.gradebook import GRADEBOOK_FILE, GradebookError
from grader.gradescope import bundle, container
from grader.pipeline import grade_class, grade_one, open_session
from grader.spec import SpecError, load_spec, spec_path
from grader.views import student_view


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade a numerical homework: every submission run in isolation, compared with the reference, diagnosed and scored.")
    commands = parser.add_subparsers(dest="command", required=True)

    def assignment(sub):
        chosen = os.environ.get("GRADER_ASSIGNMENT") or DEFAULT_ASSIGNMENT
        sub.add_argument("--assignment", default=chosen, help="the assignment: a folder of reference/ (default: $GRADER_ASSIGNMENT, else %(default)s)")
        sub.add_argument("--spec", type=Path, help="a spec file to grade by instead of the assignment's own assignment.toml (it names its assignment)")

    def common(sub, secret: bool = True):
        assignment(sub)
        sub.add_argument("--cache", type=Path, default=default_cache_dir(), help="where expected values and runs of unchanged code are cached (default: %(default)s)")
        sub.add_argument("--no-cache", dest="cache", action="store_const", const=None, help="recompute the expected values and run every submission again")
        if secret:
            sub.add_argument("--secret-file", type=Path, help="file holding the hidden-case secret (else $GRADER_SECRET, per the spec)")

    grade = commands.add_parser("grade", help="grade every submission in a folder (the instructor's view)")
    grade.add_argument("submissions", type=Path)
    grade.add_argument("--out", type=Path, default=Path("reports"))
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once (default: the number of cores, %(default)s)")
    grade.add_argument("--fresh-interpreters", action="store_true", help="start every submission in a new interpreter instead of forking a warm one")
    common(grade)

    check = commands.add_parser("check", help="self-check one submission on the public cases (the student's view)")
    check.add_argument("path", type=Path)
    check.add_argument("--out", type=Path, help="also write the student's report files here")
    common(check, secret=False)

    expected = commands.add_parser("expected", help="print every check's expected values as JSON (the answer key)")
    common(expected)

    gradescope = commands.add_parser("gradescope", help="grade the one submission of a Gradescope container (what run_autograder runs)")
    gradescope.add_argument("--root", type=Path, default=container.DEFAULT_ROOT, help="the container's root folder (default: %(default)s)")
    assignment(gradescope)
    gradescope.add_argument("--secret-file", type=Path, help="file holding the hidden-case secret (else $GRADER_SECRET, else ROOT/source/secret.txt)")
    gradescope.add_argument("--remove-secret-file", action="store_true", help="delete the secret file once read, before any student code runs")

    bundle_zip = commands.add_parser("autograder-zip", help="build the autograder.zip to upload to Gradescope")
    bundle_zip.add_argument("--out", type=Path, default=Path("autograder.zip"))
    assignment(bundle_zip)
    bundle_zip.add_argument("--secret-file", type=Path, help="put this secret in the zip as secret.txt (hidden cases on Gradescope)")

    mark = commands.add_parser("mark", help="mark the written answers in a browser (served on 127.0.0.1, behind a token)")
    mark.add_argument("--out", type=Path, default=Path("reports"), help="the folder `grade` wrote, with its gradebook (default: %(default)s)")
    mark.add_argument("--gradebook", type=Path, help="the gradebook file (default: OUT/gradebook.sqlite)")
    mark.add_argument("--assignment", default=os.environ.get("GRADER_ASSIGNMENT") or DEFAULT_ASSIGNMENT, help="the assignment whose answers are marked (default: %(default)s)")
    mark.add_argument("--port", type=int, default=0, help="the port (default: any free one)")
    mark.add_argument("--host", default=marking.LOOPBACK, help="only %(default)s is accepted: the pages show every student's answers")
    mark.add_argument("--marker", help="your name, recorded with each mark (else each browser is asked once)")
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
        said.append(f"{amount} for {'each of ' if len(ids) > 1 else ''}{len(ids)} check{'s' if len(ids) != 1 else ''}{named}")
    return "; ".join(said) or "no checks"


def command_expected(args, console: Console) -> int:
    spec = _spec(args)
    book = draw_cases(spec, _secret(args, spec))
    records = []
    for item in expected_values(spec, book):
        check = spec.check(item.check_id)
        records.append({"check": check.id, "part": check.part, "entry": check.entry, "kwargs": check.args, "quantity": check.quantity, **item.to_dict()})
    json.dump(records, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def command_grade(args, console: Console) -> int:
    spec = _spec(args)
    secret = _secret(args, spec)
    discovery = discover_submissions(args.submissions, reserved=(report.GRADES_FILE, html.DASHBOARD_FILE))
    for problem in discovery.problems:
        console.print(Text.assemble(("skipped", "yellow"), " ", report.plain(f"{problem.path.name}: {problem.message}")), highlight=False)
    for submission in discovery.submissions:
        if submission.renaming:
            console.print(Text.assemble(("renamed", "yellow"), " ", report.plain(submission.renaming)), highlight=False)
    if not secret:
        console.print(f"No secret (${spec.secret_env} or --secret-file): grading on the public cases only.")
    else:  # where it came from and what it does, never the secret itself
        source = f"--secret-file {args.secret_file}" if args.secret_file else f"${spec.secret_env}"
        console.print(f"secret: read from {escape(source)}; hidden cases ran ({_hidden_counts(spec)}).", highlight=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with open_session(spec, secret, cache_dir=args.cache, warm=not args.fresh_interpreters, environ=os.environ, private=args.out) as session:
        console.print(escape(session.sandbox.describe()), highlight=False, soft_wrap=True)
        console.print(f"Submissions run in processes of their own, {session.launched}; {args.jobs} at a time.", highlight=False)
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("grading", total=len(discovery.submissions))

            def graded(result):
                for failure in report.write_outputs(result, spec, args.out / result.submission.id, session.book):
                    progress.console.print(Text.assemble(("not written", "red"), " ", report.plain(f"{result.submission.id}: {failure}")), highlight=False)
                progress.advance(task)

            results = [g.result for g in grade_class(session, discovery.submissions, graded, jobs=args.jobs)]
    report.write_grades_csv(results, args.out / report.GRADES_FILE)
    dashboard = html.write_dashboard(results, spec, args.out)
    console.print(report.summary_table(results))
    reused = sum(r.reused_run for r in results)
    if reused:
        console.print(f"{reused} of {len(results)} submissions were not run again: the same code gave its answers to the same calls in an earlier run (--no-cache runs every one).")
    console.print(f"Reports in {args.out}/ ({len(results)} graded, {len(discovery.problems)} skipped); open {escape(str(dashboard))} in a browser.", highlight=False)
    return 0


def command_check(args, console: Console) -> int:
    spec = _spec(args)
    item = submission_at(args.path)
    if isinstance(item, Problem):
        console.print(Text.assemble(("cannot check", "red"), " ", report.plain(f"{item.path}: {item.message}")), highlight=False)
        return 2
    with open_session(spec, None, cache_dir=args.cache, environ=os.environ) as session:  # public cases only, whatever the environment holds
        graded = grade_one(session, item).result
    result = student_view(graded)  # everything below is the student's view
    report.print_problems(console, result, causes_said=True)
    report.print_causes(console, result)
    console.print(report.check_table(result))
    console.print(f"Written answers ({result.manual_points:g} points) are graded by hand. Hidden cases are checked when you hand in: {_hidden_counts(spec)}.")
    if result.reused_run:
        console.print("Your code has not changed since an earlier check, so its answers from then were used (--no-cache runs it again).")
    if args.out:
        folder = args.out / result.submission.id
        for failure in report.write_outputs(result, spec, folder):  # the student's copy: its page only
            console.print(Text.assemble(("not written", "red"), " ", report.plain(failure)), highlight=False)
        console.print(Text.assemble("Your report: ", report.plain(str(folder / html.PAGES['student']))), highlight=False)
    return 0


def command_gradescope(args, console: Console) -> int:
    spec = _spec(args)
    try:
        run = container.run_container(args.root, spec, dict(os.environ), args.secret_file, args.remove_secret_file)
    except Exception:  # noqa: BLE001 - the grader failed, not the student: the student sees a message, staff the traceback
        console.print_exception()
        container.write_results(container.failure_results(), container.AutograderTree(args.root).results)
        return 1
    for note in run.notes:  # the staff log: the full result, its text made printable
        console.print(report.plain(note), highlight=False)
    report.print_problems(console, run.result)
    console.print(report.check_table(run.result, every_check=True))
    console.print(f"results.json written: {run.result.score:g} / {run.result.max_score:g} in {run.result.seconds:.1f} s")
    return 0


def command_autograder_zip(args, console: Console) -> int:
    spec = _spec(args)
    names = bundle.build_autograder_zip(args.out, secret_file=args.secret_file, spec=spec)
    no_secret = f" (no secret in it: hidden cases run only where the LMS sets ${spec.secret_env}; add one with --secret-file FILE or make autograder SECRET_FILE=FILE)"
    console.print(f"{args.out}: {len(names)} files" + ("" if args.secret_file else no_secret))
    points = sum(check.points for check in spec.checks)
    console.print(f"On Gradescope: autograder points {points:g}; the written answers ({sum(q.points for q in spec.questions):g} points) are graded by hand.")
    return 0


def command_mark(args, console: Console) -> int:
    name = marking.clean_marker(args.marker) if args.marker is not None else None
    if args.marker is not None and name is None:
        console.print(f"[red]cannot mark:[/red] --marker must be one line of at most {marking.MAX_MARKER} printable characters", highlight=False)
        return 2
    setup = marking.Marking(args.gradebook or args.out / GRADEBOOK_FILE, args.assignment, name, refresh=None)

    def announce(server):  # as Jupyter does: the URL with its token, the one way in
        console.print(f"Marking the written answers of {escape(args.assignment)} from {escape(str(setup.gradebook))}.", highlight=False)
        console.print("Open this URL in a browser on this machine (it holds the token that lets you in):", highlight=False)
        print(f"    {server.url}", flush=True)
        console.print("Press Ctrl+C to stop.", highlight=False)

    try:
        marking.serve(setup, port=args.port, host=args.host, announce=announce)
    except (marking.MarkingError, GradebookError) as error:
        console.print(f"[red]cannot mark:[/red] {escape(str(error))}", highlight=False)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=args.command == "expected")
    try:
        commands = {"grade": command_grade, "check": command_check, "expected": command_expected, "gradescope": command_gradescope, "autograder-zip": command_autograder_zip, "mark": command_mark}
        return commands[args.command](args, console)
    except SpecError as error:
        console.print(f"[red]spec error:[/red] {escape(str(error))}", highlight=False)
        return 2
    except AssignmentError as error:
        console.print(f"[red]assignment error:[/red] {escape(str(error))} (assignments: {', '.join(names()) or 'none'})", highlight=False)
        return 2

"""Command line: parse arguments, call the library.  `python -m grader --help`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from grader import html, report
from grader.assignment import DEFAULT_ASSIGNMENT, AssignmentError, names
from grader.cache import default_cache_dir, write_answer_key
from grader.cases import draw_cases, load_secret
from grader.diagnose import check_catalog
from grader.discover import Problem, discover_submissions, submission_at
from grader.expected import expected_values
from grader.gradescope import bundle, container
from grader.load import load_submission
from grader.pipeline import grade_class, grade_one, open_session
from grader.selfcheck import other_assignment
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
    gradescope.add_argument("--remove-secret-file", action="store_true", help="delete the secret file and the answer key once read, before any student code runs")

    image_command = commands.add_parser("autograder-image", help="build the autograder's Docker image as Gradescope builds it (from the zip; its wheels fetched with this machine's pip configuration)")
    image_command.add_argument("--tag", default="backprop-autograder:latest")
    assignment(image_command)
    image_command.add_argument("--secret-file", type=Path, help="put this secret in the image (hidden cases, and their answer key, computed at build time)")

    answer_key = commands.add_parser("answer-key", help="compute every check's expected values once, hidden cases included, into a folder only its owner reads (an LMS image's build step)")
    answer_key.add_argument("--out", type=Path, required=True, help="the folder (Gradescope: ROOT/source/answer-key, which `gradescope` reads)")
    assignment(answer_key)
    answer_key.add_argument("--secret-file", type=Path, help="file holding the hidden-case secret (else $GRADER_SECRET, per the spec)")

    bundle_zip = commands.add_parser("autograder-zip", help="build the autograder.zip to upload to Gradescope")
    bundle_zip.add_argument("--out", type=Path, default=Path("autograder.zip"))
    assignment(bundle_zip)
    bundle_zip.add_argument("--secret-file", type=Path, help="put this secret in the zip as secret.txt (hidden cases on Gradescope)")
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
    mismatch = other_assignment(load_submission(item), spec.name, spec.reference.contract.entry_points)
    if mismatch:
        console.print(Text.assemble(("cannot check", "red"), " ", report.plain(f"{item.path.name}: {mismatch}")), highlight=False)
        return 2
    with open_session(spec, None, cache_dir=args.cache, environ=os.environ) as session:  # public cases only, whatever the environment holds
        console.print(escape(session.sandbox.describe()), highlight=False, soft_wrap=True)  # what isolation this machine gave, which the student may want to know
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
        console.print(report.plain(note), highlight=False, soft_wrap=True)  # one line each: a log is read by programs too
    report.print_problems(console, run.result)
    console.print(report.check_table(run.result, every_check=True))
    console.print(f"results.json written: {run.result.score:g} / {run.result.max_score:g} in {run.result.seconds:.1f} s")
    return 0


def command_answer_key(args, console: Console) -> int:
    spec = _spec(args)
    book = draw_cases(spec, _secret(args, spec))
    path, values = write_answer_key(spec, book, args.out)
    if spec.is_own:  # what `grade` checks before grading, checked once here for every run that reads this key
        check_catalog(spec, book, tuple(values))
    hidden = sum(1 for item in values if item.case.hidden)
    console.print(f"{path}: {len(values)} expected values ({hidden} of them on hidden cases), readable by its owner only", highlight=False)
    return 0


def command_autograder_image(args, console: Console) -> int:
    from grader.gradescope import image  # only here: it drives a container engine

    problem = image.engine_problem()
    if problem:
        console.print(f"[red]cannot build the image:[/red] {escape(problem)}", highlight=False)
        return 2
    spec = _spec(args)
    say = lambda text: console.print(report.plain(text), highlight=False)  # noqa: E731
    try:
        base = image.base_image(log=say)
        with tempfile.TemporaryDirectory(prefix="grader-image-") as folder:
            image.build_image(image.build_context(Path(folder), spec, args.secret_file, log=say), args.tag, base, log=say)
    except image.ImageError as error:
        console.print(Text.assemble(("image not built", "red"), f" at {error.step}: ", report.plain(error.reason)), highlight=False)
        return 1
    console.print(f"{args.tag}: built on {base}" + ("" if args.secret_file else " (no secret: public cases only, unless $GRADER_SECRET is given to each run)"), highlight=False)
    return 0


def command_autograder_zip(args, console: Console) -> int:
    spec = _spec(args)
    try:
        names = bundle.build_autograder_zip(args.out, secret_file=args.secret_file, spec=spec)
    except bundle.BundleError as error:
        console.print(f"[red]cannot build the zip:[/red] {escape(str(error))}", highlight=False)
        return 2
    no_secret = f" (no secret in it: hidden cases run only where the LMS sets ${spec.secret_env}; add one with --secret-file FILE or make autograder SECRET_FILE=FILE)"
    console.print(f"{args.out}: {len(names)} files" + ("" if args.secret_file else no_secret))
    points = sum(check.points for check in spec.checks)
    console.print(f"On Gradescope: autograder points {points:g}; the written answers ({sum(q.points for q in spec.questions):g} points) are graded by hand.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=args.command == "expected")
    try:
        commands = {
            "grade": command_grade,
            "check": command_check,
            "expected": command_expected,
            "gradescope": command_gradescope,
            "autograder-zip": command_autograder_zip,
            "answer-key": command_answer_key,
            "autograder-image": command_autograder_image,
        }
        return commands[args.command](args, console)
    except SpecError as error:
        console.print(f"[red]spec error:[/red] {escape(str(error))}", highlight=False)
        return 2
    except AssignmentError as error:
        console.print(f"[red]assignment error:[/red] {escape(str(error))} (assignments: {', '.join(names()) or 'none'})", highlight=False)
        return 2

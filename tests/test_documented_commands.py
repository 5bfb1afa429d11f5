"""The commands the docs tell a reader to type, and the benchmarks, still work.

Every command in the fenced sh / bash / console blocks of README.md and docs/*.md, and
every inline `make ...` span, is read out of the docs.  Each `make` command is dry-run
(`make -n`): its target exists and what its recipe would run names only files that exist.
The cheap ones run for real into a temporary folder (`make check` on a bundled correct
hand-in, `make expected`, `python -m grader ... --help`).  Docker, `make test`, `make grade`
of the class and the `make bench*` targets are only dry-run.  Each benchmark script runs at
a tiny size where it can (its results into a temporary file, never over bench/results.json);
those that need Docker or the peers' environment are checked for their --help and for the
repository paths they name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO, SUBMISSIONS

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?:sh|bash|console)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
ASSIGNMENT_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*=")
# what a recipe may name inside the repository; every such path must exist
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:bench|grader|tests|submissions|reference|templates)/[\w./*-]*)"
)


def documented_commands() -> list[tuple[str, str]]:
    """(where, command) of every command in a fenced shell block, and every inline `make ...` span."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        name = doc.relative_to(REPO).as_posix()
        for block in FENCE.findall(text):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():  # a line continued by "\"
                line = re.sub(r"^\$\s+", "", line.strip())  # a console prompt
                line = re.sub(r"\s+#.*$", "", line)  # a comment after the command
                if line and not line.startswith("#"):
                    found.append((name, line))
        for span in INLINE.findall(FENCE.sub("", text)):
            words = span.split()
            while words and ASSIGNMENT_VAR.match(words[0]):
                words = words[1:]
            if (
                words[:1] == ["make"] and len(words) > 1
            ):  # "every `make` target" is prose, not a command
                found.append((name, span))
    return found


COMMANDS = documented_commands()


def make_words(command: str) -> tuple[dict[str, str], list[str]] | None:
    """(environment, arguments after `make`) of a make command, or None for any other command."""
    words = shlex.split(command)
    env = {}
    while words and ASSIGNMENT_VAR.match(words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    if words[:1] != ["make"]:
        return None
    return env, words[1:]


MAKES = sorted({(where, command) for where, command in COMMANDS if make_words(command)})


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.MULTILINE))


def grader_commands() -> list[list[str]]:
    """The words after `python -m grader` / `backprop-grader` of every documented command."""
    spans = [span for doc in DOCS for span in INLINE.findall(doc.read_text(encoding="utf-8"))]
    found = []
    for command in [c for _, c in COMMANDS] + spans:
        words = command.split()
        for start, word in enumerate(words):
            if word == "backprop-grader" or (
                word.endswith("python") and words[start + 1 : start + 3] == ["-m", "grader"]
            ):
                rest = " ".join(words[start + (1 if word == "backprop-grader" else 3) :])
                # `marks export FILE --out R | marks import FILE --out R`: two commands of one sub-command
                found += [part.split() for part in rest.split("|") if part.strip()]
                break
    return [
        words for words in found if words and not words[0].startswith("-")
    ]  # `python -m grader --help` itself: asked below


def test_the_docs_name_the_commands_a_reader_is_told_to_run():
    """Does the extraction find the two commands of the README and the self-check of the students' page?"""
    commands = {command for _, command in COMMANDS}
    assert "make grade" in commands and "make test" in commands
    assert any(
        where == "docs/students.md" and command.startswith("make check SUB=")
        for where, command in COMMANDS
    )
    assert len(MAKES) >= 15, MAKES


@pytest.mark.parametrize(("where", "command"), MAKES, ids=[f"{w}: {c}" for w, c in MAKES])
def test_every_documented_make_command_dry_runs_and_names_existing_files(where, command):
    """Is every documented `make` target in the Makefile, does `make -n` accept it with its
    variables, and does every repository path its recipe would use exist?"""
    env, words = make_words(command)
    targets = [w for w in words if "=" not in w and not w.startswith("-")]
    assert targets, f"{where}: `{command}` names no target"
    missing = [t for t in targets if t not in makefile_targets()]
    assert not missing, f"{where}: `{command}`: no target {missing} in the Makefile"
    completed = subprocess.run(
        [
            "make",
            "-n",
            "-C",
            str(REPO),
            "-o",
            ".venv/.installed",
            *words,
            *(f"{k}={v}" for k, v in env.items()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, f"{where}: `{command}`: {completed.stderr}"
    assert completed.stdout.strip(), f"{where}: `{command}` would run nothing"
    absent = sorted(
        {
            p.rstrip(".,;:)'\"")
            for p in REPO_PATH.findall(completed.stdout)
            if not (REPO / p.rstrip(".,;:)'\"")).exists()
        }
    )
    assert not absent, (
        f"{where}: `{command}` would run with {absent}, which are not in the repository:\n{completed.stdout}"
    )


def test_the_documented_links_between_the_pages_resolve():
    """Does every relative link of README.md, SECURITY.md and docs/*.md lead to a file, and an
    anchor to one of that file's headings?"""

    def slug(heading: str) -> str:
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    broken = []
    for doc in [*DOCS, REPO / "SECURITY.md"]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            if not file.exists():
                broken.append(f"{doc.name}: {target}")
            elif anchor and anchor not in {
                slug(h)
                for h in re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), re.MULTILINE)
            }:
                broken.append(f"{doc.name}: {target} (no such heading)")
    assert not broken, broken


def test_make_check_on_a_bundled_correct_hand_in_writes_its_page(tmp_path):
    """Does the students' `make check SUB=...` grade a bundled correct hand-in with full marks
    and write self-check/<id>/report.html (here into a temporary folder)?"""
    sub = SUBMISSIONS / "correct_scalar.py"
    completed = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(REPO),
            "-o",
            ".venv/.installed",
            "check",
            f"PY={sys.executable}",
            f"SUB={sub}",
            f"CHECK_OUT={tmp_path}",
            f"OUT={tmp_path / 'reports'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "correct_scalar" / "report.html").is_file(), sorted(
        p.name for p in tmp_path.iterdir()
    )
    passed = re.search(r"all (\d+) checks passed", completed.stdout)
    assert passed and passed[1] != "0", completed.stdout


def test_make_expected_prints_the_answer_key_as_json():
    """Does `make expected` print every check's expected values as JSON?"""
    completed = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(REPO),
            "-o",
            ".venv/.installed",
            "expected",
            f"PY={sys.executable}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    key = json.loads(completed.stdout)
    assert key and isinstance(key, dict | list), completed.stdout[:500]


def help_of(*words: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *words, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"COLUMNS": "300"},
    )


def test_every_documented_grader_subcommand_and_option_is_in_its_help():
    """Does `python -m grader --help` list every sub-command the docs use, does each one's
    --help work, and does it offer every --option the docs give it?"""
    top = help_of()
    assert top.returncode == 0, top.stderr
    offered = set(re.search(r"\{([\w,-]+)\}", top.stdout)[1].split(","))
    documented = grader_commands()
    used = {words[0] for words in documented}
    assert {"grade", "check", "expected", "mark", "history"} <= used, used
    assert used <= offered, (
        f"the docs use {sorted(used - offered)}, which `python -m grader --help` does not offer"
    )
    # a sub-command with sub-commands of its own (`marks export`) is asked as such
    paths = {
        (words[0], words[1])
        if len(words) > 1 and re.fullmatch(r"[a-z]+", words[1]) and words[0] == "marks"
        else (words[0],)
        for words in documented
    }
    with ThreadPoolExecutor(4) as pool:
        helps = dict(zip(paths, pool.map(lambda p: help_of(*p), paths)))
    problems = []
    for path, completed in helps.items():
        if completed.returncode != 0:
            problems.append(f"{' '.join(path)} --help: {completed.stderr.strip()}")
    for words in documented:
        path = next(p for p in sorted(helps, key=len, reverse=True) if tuple(words[: len(p)]) == p)
        for option in (w.strip("[]") for w in words if w.lstrip("[").startswith("--")):
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helps[path].stdout):
                problems.append(f"`{' '.join(path)}` has no {option} (the docs give it)")
    assert not problems, problems


# --- the benchmarks ---------------------------------------------------------------------------

BENCH = REPO / "bench"
BENCH_SCRIPTS = sorted(
    p.name for p in BENCH.glob("*.py") if p.name != "specs.py"
)  # specs.py is a helper the others import


def repository_paths_named_in(script: Path) -> list[str]:
    """`REPO / "a" / "b"` expressions and "submissions/..."-like literals of a script."""
    text = script.read_text(encoding="utf-8")
    paths = [
        "/".join(re.findall(r'"([^"]+)"', m))
        for m in re.findall(r'REPO((?:\s*/\s*"[^"]+")+)', text)
    ]
    paths += re.findall(
        r'"((?:submissions|reference|templates)/[^"]+)"', text
    )  # not tests/: peers.py writes its own tests/ into a zip
    return paths


def test_the_benchmarks_are_all_covered_here():
    """Does this file know every script in bench/ (a new one must be given a tiny run or a dry check)?"""
    assert set(BENCH_SCRIPTS) == set(TINY_RUNS) | set(DRY_ONLY)


@pytest.mark.parametrize("script", BENCH_SCRIPTS)
def test_every_repository_path_a_benchmark_names_exists(script):
    """Does every file of the repository a benchmark script names exist (outputs and the
    environments it creates aside)?"""
    named = repository_paths_named_in(BENCH / script)
    created = (".venv-peers", "bench/out", "bench/results.json")
    absent = [p for p in named if not p.startswith(created) and not (REPO / p).exists()]
    assert not absent, f"bench/{script} names {absent}, which are not in the repository"


# script: (arguments of a tiny run, writing to {out}; what the output file must hold)
TINY_RUNS = {
    "throughput.py": (
        ["--size", "2", "--fresh-size", "1", "--jobs", "1", "--assignment", "conv2d"],
        lambda r: r["variants"]["reference/conv2d/assignment.toml"]["submissions"] == 2,
    ),
    "rules_cost.py": (
        ["--size", "2", "--repeats", "1", "--jobs", "1", "--assignment", "conv2d"],
        lambda r: r["rules_recording_conv2d"]["submissions"] == 2,
    ),
    "integrity.py": (
        ["--no-examples", "--pairs", "1", "--independent", "0", "--catalogued", "0"]
        + ["--records", "50"],
        lambda r: r["integrity"]["copied_pairs_listed_first"] and r["integrity"]["identical_said"],
    ),
    "sandbox_cost.py": (
        ["--repeat", "1", "--fresh", "0"],
        lambda r: r["warm"]["all layers"]["runs"] == 1 and "none" in r["warm"],
    ),
}
DRY_ONLY = {
    "container.py": "needs a Docker engine (make container-test runs it)",
    "peers.py": "needs nbgrader and otter-grader in .venv-peers/ (make bench-peers installs them)",
}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """Every benchmark of TINY_RUNS started at once (they mostly wait on their children), each
    writing its figures to its own temporary file; bench/results.json must stay as it was."""
    stored = BENCH / "results.json"
    before = stored.read_bytes() if stored.exists() else None
    folder = tmp_path_factory.mktemp("bench")
    started = {}
    for script, (arguments, _) in TINY_RUNS.items():
        out = folder / f"{script}.json"
        command = [sys.executable, str(BENCH / script), *arguments, "--out", str(out)]
        started[script] = (
            subprocess.Popen(
                command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ),
            out,
        )
    finished = {}
    for script, (process, out) in started.items():
        try:
            stdout, stderr = process.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        finished[script] = (
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
            out,
        )
    after = stored.read_bytes() if stored.exists() else None
    assert before == after, "a benchmark wrote over bench/results.json"
    return finished


@pytest.mark.parametrize("script", sorted(TINY_RUNS))
def test_each_benchmark_runs_at_a_tiny_size(script, tiny_runs):
    """Does the benchmark run to the end on a class of two (or one measured round) and write
    its figures where --out says?"""
    completed, out = tiny_runs[script]
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    _, holds = TINY_RUNS[script]
    assert holds(json.loads(out.read_text())), out.read_text()[:2000]


@pytest.mark.parametrize("script", sorted(DRY_ONLY))
def test_the_benchmarks_that_need_docker_or_peers_parse_their_arguments(script):
    """Does the script import and answer --help (it is not run here: it needs what DRY_ONLY says)?"""
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "usage:" in completed.stdout and "--" in completed.stdout


def test_the_docs_figures_are_the_ones_bench_results_holds():
    """The throughput figures docs/how-it-works.md quotes are those of bench/results.json, as the
    last quiet `make bench` wrote them (rounded as the page rounds them)."""
    results = json.loads((BENCH / "results.json").read_text())
    text = " ".join((REPO / "docs" / "how-it-works.md").read_text().split())
    quoted = re.search(
        r"median (\d+) ms against ([\d.]+) s with fresh interpreters, and the class went "
        r"([\d.]+)x faster",
        text,
    )
    assert quoted, "docs/how-it-works.md no longer quotes the throughput figures"
    warm, fresh, speedup = quoted.groups()
    assert int(warm) == round(results["median_overhead_ms"])
    assert float(fresh) == round(results["fresh_interpreter"]["median_overhead_ms"] / 1000, 1)
    assert float(speedup) == results["speedup_vs_fresh_interpreter"]
    ceiling = re.search(r"at most ([\d.]+)x faster here", text)
    assert ceiling and float(ceiling.group(1)) == results["speedup_ceiling"]
    same = results.get("like_for_like")
    if same:  # written by `make bench` since it measures beside a baseline
        for kind, words in (("template", "template"), ("free_form", "free-form")):
            row = same["kinds"][kind]
            sentence = f"{words} hand-ins a median {row['current_ms']:g} ms against {row['baseline_ms']:g} ms"
            assert sentence in text, f"docs/how-it-works.md should say: {sentence}"

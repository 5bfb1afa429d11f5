"""The self-check where students work: `backprop-grader check FILE` in a terminal, and in a
notebook `from grader import self_check; self_check("hw3.ipynb")`.

The notebook's call never runs the student's code in its own kernel: it runs the command
line's `check` in a process of its own on the file as saved, reads back the student's
results.json (plain data, the student's view: no hidden case ever runs without the
secret) and shows it inline.  Whether the saved file is the code the student sees is told
by content, not by clocks: every cell the kernel ran must be a code cell of the saved
notebook, as it ran (the kernel keeps no time per cell, and a notebook's mtime says when
it was saved, not whether a later edit was).

This module imports nothing but the standard library, so `import grader` stays light.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# The versions the engine is tested with; pyproject.toml declares the same ranges.
REQUIREMENTS = {"numpy": ">=2.0", "torch": ">=2.13,<2.15"}
CPU_TORCH_INDEX = (
    "https://download.pytorch.org/whl/cpu"  # PyTorch's own index of its CPU-only build
)
CHECK_SECONDS = (
    900  # the whole check, interpreter start included; each call has the spec's own limit
)
NOTEBOOK_VARIABLES = ("JPY_SESSION_NAME",)  # set by Jupyter for a notebook's kernel
VSCODE_NAME = "__vsc_ipynb_file__"  # set in the user namespace by VS Code's notebooks
ENGINE = Path(__file__).resolve().parent
SELF_CHECK_FILE = "self-check.json"  # `check --out` writes it beside the report page: what is shown inline
REFUSALS = (
    "cannot check",
    "cannot run",
    "spec error",
    "assignment error",
)  # how the command line says it graded nothing


# ------------------------------------------------------------------ the environment


def requirement_problems() -> list[str]:
    """What to install before the grader can run here: one sentence per missing or unfit package."""
    if os.name == "nt":  # the sandbox starts processes the POSIX way (process groups, rlimits)
        return [
            f"the grader runs on Linux and macOS, not on Windows ({sys.platform}): run it in WSL (the Windows Subsystem for Linux)"
        ]
    try:
        from packaging.specifiers import (
            SpecifierSet,
        )  # a dependency of the package; a bare interpreter may lack it
    except ImportError:
        return [
            f"packaging is not installed in this environment ({sys.executable}): pip install packaging (or pip install the grader, which brings it)"
        ]
    problems = []
    for name, specifier in REQUIREMENTS.items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            problem = f"{name} is not installed in this environment ({sys.executable}): pip install '{name}{specifier}'"
            if (
                name == "torch"
            ):  # on Linux, plain pip brings the CUDA build (several GB); either build works
                problem += f" (or, for the smaller CPU build, add --index-url {CPU_TORCH_INDEX})"
            problems.append(problem)
            continue
        if not SpecifierSet(specifier).contains(version, prereleases=True):
            problems.append(
                f"{name} {version} is installed, and the grader needs {name}{specifier}: pip install --upgrade '{name}{specifier}'"
            )
    return problems


def command_line(argv: list[str] | None = None) -> int:
    """`backprop-grader` and `python -m grader`: the environment checked before anything heavy is imported."""
    problems = requirement_problems()
    if problems:
        for problem in problems:
            print(f"cannot run the grader: {problem}", file=sys.stderr)
        return 2
    from grader.cli import main  # numpy, torch and the pipeline, now known to fit

    return main(argv)


# ------------------------------------------------------------------ the notebook the kernel runs


def _shell():
    """The IPython shell this code runs in, or None (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def notebook_path() -> Path | None:
    """The notebook this kernel runs, where the front end told the kernel: Jupyter's
    $JPY_SESSION_NAME (absolute, or relative to the server's root), VS Code's __vsc_ipynb_file__."""
    shell = _shell()
    candidates = [os.environ.get(name, "") for name in NOTEBOOK_VARIABLES]
    if shell is not None:
        candidates.append(str(shell.user_ns.get(VSCODE_NAME, "") or ""))
    for candidate in filter(None, candidates):
        path = Path(candidate)
        for found in (path, Path.cwd() / path.name):  # the kernel starts in the notebook's folder
            if found.suffix == ".ipynb" and found.is_file():
                return found.resolve()
    return None


def _code(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _saved_code_cells(path: Path) -> tuple[list[str] | None, str | None]:
    """The saved notebook's code cells, or why the file is not a saved notebook."""
    data = path.read_bytes()
    if not data.strip():
        return (
            None,
            f"{path.name} is empty on disk: save the notebook (File > Save, or Ctrl-S / Cmd-S) and check again",
        )
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        return (
            None,
            f"{path.name} is not a saved notebook (it is not valid JSON: {str(error)[:120]}): save it from Jupyter and check again",
        )
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return (
            None,
            f"{path.name} is not a saved notebook (it has no list of cells): save it from Jupyter and check again",
        )
    code = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            code.append("".join(source) if isinstance(source, list) else str(source))
    if not any(_code(c) for c in code):
        return (
            None,
            f"the saved {path.name} has no code yet: write your functions, save the notebook (Ctrl-S / Cmd-S) and check again",
        )
    return code, None


def unsaved_cells(saved: list[str]) -> list[str]:
    """Cells this kernel ran that the saved notebook does not hold as they ran (edited, or not
    saved since); the cells calling the self-check are left out, as is the one running now."""
    shell = _shell()
    if shell is None:
        return []
    held = {_code(c) for c in saved}
    ran = list(shell.history_manager.input_hist_raw[1:-1])
    return [
        cell for cell in ran if _code(cell) and "self_check" not in cell and _code(cell) not in held
    ]


# ------------------------------------------------------------------ the report shown inline


@dataclass(frozen=True)
class CheckLine:
    name: str
    score: float
    max_score: float
    status: str


@dataclass(frozen=True)
class SelfCheck:
    """What one self-check found: the student's view, as plain data, with an HTML and a text form."""

    path: Path | None
    assignment: str
    problem: str | None = None  # why nothing was graded, and what to do
    score: float | None = None
    max_score: float | None = None
    first_fix: str | None = None
    summary: tuple[str, ...] = ()
    checks: tuple[CheckLine, ...] = ()
    notes: tuple[str, ...] = ()  # which file was graded, unsaved changes, the isolation used

    @property
    def passed(self) -> bool:
        return self.problem is None and self.score is not None and self.score == self.max_score

    def __str__(self) -> str:
        lines = [*self.notes]
        if self.problem:
            return "\n".join([*lines, f"Not checked: {self.problem}"])
        lines.append(f"Score {self.score:g} / {self.max_score:g}")
        lines.append(
            f"First thing to fix: {self.first_fix}"
            if self.first_fix
            else "Every autograded check passed."
        )
        lines += [s for s in self.summary if not s.startswith(("Score ", "First thing to fix"))]
        failing = [
            c for c in self.checks if c.status != "passed"
        ]  # as the terminal's table: the passed ones counted, not listed
        lines += [f"  {c.status:>9}  {c.score:g}/{c.max_score:g}  {c.name}" for c in failing]
        lines.append(
            f"{len(self.checks) - len(failing)} of {len(self.checks)} checks passed"
            + (" (not listed)" if failing else "")
        )
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        e = html.escape
        notes = "".join(f"<p style='color:#57606a'>{e(note)}</p>" for note in self.notes)
        if self.problem:
            return f"<div>{notes}<p><strong style='color:#cf222e'>Not checked:</strong> {e(self.problem)}</p></div>"
        fix = "<p><strong style='color:#1a7f37'>Every autograded check passed.</strong></p>"
        if self.first_fix:
            fix = f"<p><strong style='color:#cf222e'>First thing to fix:</strong> {e(self.first_fix)}</p>"
        more = "".join(
            f"<p>{e(s)}</p>"
            for s in self.summary
            if not s.startswith(("Score ", "First thing to fix"))
        )
        rows = "".join(
            f"<tr><td>{e(c.name)}</td><td>{c.score:g} / {c.max_score:g}</td><td>{e(c.status)}</td></tr>"
            for c in self.checks
        )
        table = f"<details><summary>{len(self.checks)} checks</summary><table><tr><th>check</th><th>points</th><th>status</th></tr>{rows}</table></details>"
        return f"<div>{notes}<h3>Score {self.score:g} / {self.max_score:g}</h3>{fix}{more}{table}</div>"


def _paragraphs(output: str) -> tuple[str, ...]:
    """The plain sentences of a results.json summary drawn as HTML paragraphs."""
    found = re.findall(r"<p>(.*?)</p>", output, flags=re.S) or [output]
    return tuple(html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in found if p.strip())


def _read_results(folder: Path, path: Path, assignment: str, notes: list[str]) -> SelfCheck:
    [results_file, *_] = sorted(folder.glob("*/results.json"))
    results = json.loads(results_file.read_text(encoding="utf-8"))
    summary = _paragraphs(str(results.get("output", "")))
    first = next(
        (
            s.removeprefix("First thing to fix:").strip()
            for s in summary
            if s.startswith("First thing to fix:")
        ),
        None,
    )
    shown = results.get("tests", [])  # the student's copy: public cases only, no hidden one was run
    checks = tuple(
        CheckLine(
            str(t.get("name", "")),
            float(t.get("score", 0)),
            float(t.get("max_score", 0)),
            str(t.get("extra_data", {}).get("status", t.get("status", ""))),
        )
        for t in shown
    )
    extra = results.get("extra_data", {})
    return SelfCheck(
        path,
        assignment,
        None,
        float(results.get("score", 0)),
        float(extra.get("max_score", 0)),
        first,
        summary,
        checks,
        tuple(notes),
    )


def _inside_a_grading_run() -> bool:
    """True in the grader's own process for a submission (a notebook cell calling the self-check is run there too)."""
    main = getattr(sys.modules.get("__main__"), "__file__", "") or ""
    return bool(main) and Path(main).resolve().parent == ENGINE / "isolation" / "inside"


def self_check(
    path: str | os.PathLike | None = None,
    assignment: str | None = None,
    out: str | os.PathLike | None = None,
) -> SelfCheck:
    """Self-check a saved notebook, a `.py` file or a folder on the public cases, in a process of its own.

    `path` None: the notebook this kernel runs, where the front end says which.  `assignment`:
    the assignment's name (default: $GRADER_ASSIGNMENT, else backprop).  `out`: a folder to
    keep the report page in.  Returns the student's report (shown inline in a notebook)."""
    from grader.core.assignment import DEFAULT_ASSIGNMENT  # light: the seam's dataclasses alone

    assignment = assignment or os.environ.get("GRADER_ASSIGNMENT") or DEFAULT_ASSIGNMENT
    if _inside_a_grading_run():
        return SelfCheck(
            None,
            assignment,
            "this is the grader's own run of your file: the self-check runs only where you work",
        )
    problems = requirement_problems()
    if problems:
        return SelfCheck(None, assignment, "; ".join(problems))
    if path is None:
        path = notebook_path()
        if path is None:
            return SelfCheck(
                None,
                assignment,
                'this kernel does not know which notebook it runs: give its file name, e.g. self_check("hw3.ipynb")',
            )
    path = Path(path).expanduser()
    if not path.exists():
        return SelfCheck(
            path,
            assignment,
            f"{path} does not exist (the current folder is {Path.cwd()}): give the path of your saved notebook or .py file",
        )
    path = path.resolve()
    if path.is_dir():
        notes = [
            f"Checked the files as saved on disk: {path.name}/ (the last saved {datetime_of(_newest(path))})."
        ]
    else:
        notes = [
            f"Checked the file as saved on disk: {path.name} (saved {datetime_of(path.stat().st_mtime)})."
        ]
    if path.suffix == ".ipynb":
        cells, problem = _saved_code_cells(path)
        if problem:
            return SelfCheck(path, assignment, problem, notes=tuple(notes))
        unsaved = unsaved_cells(cells)
        if unsaved:
            first = _code(unsaved[-1]).splitlines()[0][:60]
            said = f"Warning: {len(unsaved)} cell(s) you ran are not in the saved file as you ran them (the last begins {first!r})"
            notes.append(
                f"{said}: save the notebook (Ctrl-S / Cmd-S) and check again to grade them."
            )
    return _run_check(path, assignment, out, notes)


def _newest(folder: Path, budget: int = 1000) -> float:
    """The latest change of the first `budget` files of a folder (a hand-in has a few)."""
    times = [folder.stat().st_mtime]
    for number, path in enumerate(folder.rglob("*")):
        if number >= budget:
            break
        if path.is_file():
            times.append(path.stat().st_mtime)
    return max(times)


def datetime_of(seconds: float) -> str:
    ago = max(0, int(time.time() - seconds))
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
    return f"{when}, {ago // 60} min {ago % 60} s ago" if ago < 86400 else when


def isolation_of(printed: str) -> str | None:
    """The isolation `check` said it had: its last paragraph, from "sandbox:" on (wrapped to the terminal)."""
    head, found, tail = printed.rpartition("sandbox:")
    return " ".join(tail.split()) if found and (not head or head.endswith("\n")) else None


def _run_check(path: Path, assignment: str, out, notes: list[str]) -> SelfCheck:
    with tempfile.TemporaryDirectory(prefix="self-check-") as scratch:
        folder = Path(scratch) / "report"  # this check's results alone, whatever `out` held before
        # -P and a scratch working folder: nothing of the student's folder shadows the grader's modules;
        # PYTHONPATH leads to this very engine, wherever it was imported from.
        environment = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
        environment |= {
            "PYTHONPATH": os.pathsep.join(
                filter(None, (str(ENGINE.parent), environment.get("PYTHONPATH")))
            ),
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
        command = [
            sys.executable,
            "-P",
            "-m",
            "grader",
            "check",
            str(path),
            "--out",
            str(folder),
            "--assignment",
            assignment,
        ]
        try:
            completed = subprocess.run(
                command,
                cwd=scratch,
                env=environment,
                capture_output=True,
                text=True,
                timeout=CHECK_SECONDS,
            )
        except subprocess.TimeoutExpired:
            return SelfCheck(
                path,
                assignment,
                f"the self-check did not finish within {CHECK_SECONDS} s",
                notes=tuple(notes),
            )
        printed = [
            line.strip()
            for line in (completed.stdout + "\n" + completed.stderr).splitlines()
            if line.strip()
        ]
        isolation = isolation_of(completed.stdout)
        notes += [f"Isolation: {isolation}"] if isolation else []
        if completed.returncode != 0 or not any(folder.glob("*/results.json")):
            said = [line for line in printed if not line.startswith("sandbox:")]
            refused = [n for n, line in enumerate(said) if line.startswith(REFUSALS)]
            said = (
                said[refused[0] :] if refused else said[-3:]
            )  # the command's own message, else the end of what it printed
            return SelfCheck(
                path,
                assignment,
                " ".join(said) or f"the check ended with status {completed.returncode}",
                notes=tuple(notes),
            )
        if out is not None:
            for written in folder.iterdir():
                shutil.copytree(written, Path(out) / written.name, dirs_exist_ok=True)
            notes.append(
                f"Your report page: {Path(out).resolve() / next(folder.iterdir()).name / 'report.html'}"
            )
        return _read_results(folder, path, assignment, notes)

"""The self-check where students work: `backprop-grader check FILE` in a terminal, and in a
notebook `from grader import self_check; self_check("hw3.ipynb")`.

The notebook's call never runs the student's code in its own kernel: it runs the command
line's `check` in a process of its own on the file as saved, reads back the summary it
wrote beside the student's report page (self-check.json: plain data, the student's view; no
hidden case ever runs without the secret) and shows it inline, as the student's page in
short: the score, each failing check with its values and its cause, the passed ones folded,
a link to the full page, and the notes on how it was checked folded away at the end.
Whether the saved file is the code the student sees is told by content, not by clocks:
every cell the kernel ran must be a code cell of the saved notebook, as it ran (the kernel
keeps no time per cell, and a notebook's mtime says when it was saved, not whether a later
edit was).

This module imports nothing but the standard library (and the name SELF_CHECK_FILE from
grader.outputs, whose __init__ loads nothing), so `import grader` stays light.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from grader.outputs import SELF_CHECK_FILE  # a name only: the package's __init__ loads nothing

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
DEFAULT_OUT = "self-check"  # beside the checked file, as `make check` keeps its report
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
            f"the grader runs on Linux and macOS, not on Windows ({sys.platform}): "
            "run it in WSL (the Windows Subsystem for Linux)"
        ]
    try:
        from packaging.specifiers import (
            SpecifierSet,
        )  # a dependency of the package; a bare interpreter may lack it
    except ImportError:
        return [
            f"packaging is not installed in this environment ({sys.executable}): "
            "pip install packaging (or pip install the grader, which brings it)"
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
                f"{name} {version} is installed, and the grader needs {name}{specifier}: "
                f"pip install --upgrade '{name}{specifier}'"
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
            (
                f"{path.name} is not a saved notebook (it is not valid JSON: {str(error)[:120]}): "
                "save it from Jupyter and check again"
            ),
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
            (
                f"the saved {path.name} has no code yet: write your functions, "
                "save the notebook (Ctrl-S / Cmd-S) and check again"
            ),
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

# Colours that read on a light and a dark theme: the front end's own (JupyterLab, VS Code) where it
# has them, else a pair chosen by the system's colour scheme; text and borders from currentColor,
# and no background of its own.
STYLE = """<style>
.grader-self-check { --gsc-fail: var(--jp-error-color1, var(--vscode-errorForeground, #cf222e));
  --gsc-pass: var(--jp-success-color1, var(--vscode-testing-iconPassed, #1a7f37)); color-scheme: light dark; }
@media (prefers-color-scheme: dark) { .grader-self-check {
  --gsc-fail: var(--jp-error-color1, var(--vscode-errorForeground, #ff7b72));
  --gsc-pass: var(--jp-success-color1, var(--vscode-testing-iconPassed, #3fb950)); } }
body[data-jp-theme-light="false"] .grader-self-check, body.vscode-dark .grader-self-check {
  --gsc-fail: var(--jp-error-color1, #ff7b72); --gsc-pass: var(--jp-success-color1, #3fb950); }
.grader-self-check table { border-collapse: collapse; margin: 0.3em 0 0.6em; }
.grader-self-check th, .grader-self-check td { border: 1px solid currentColor;
  border-color: color-mix(in srgb, currentColor 25%, transparent); padding: 0.15em 0.6em; text-align: left; }
.grader-self-check td.num { font-family: monospace; text-align: right; }
</style>"""
FAIL = "color: var(--gsc-fail, #cf222e)"
PASS = "color: var(--gsc-pass, #1a7f37)"
MUTED = "opacity: 0.75"
CHECKS_WITH_VALUES = 3  # of a cause's failing checks, shown with their values; the rest by name


@dataclass(frozen=True)
class SelfCheck:
    """What one self-check found: the student's view, as plain data (`details`, what `check`
    wrote beside the report page), with an HTML and a text form."""

    path: Path | None
    assignment: str
    problem: str | None = None  # why nothing was graded, and what to do
    details: dict = field(default_factory=dict, compare=False, hash=False)
    report: Path | None = None  # the student's full page, where it was kept
    warnings: tuple[str, ...] = ()  # what the student must know first (unsaved cells)
    notes: tuple[str, ...] = ()  # which file was graded, the isolation used

    @property
    def score(self) -> float | None:
        return self.details.get("score")

    @property
    def max_score(self) -> float | None:
        return self.details.get("max_score")

    @property
    def first_fix(self) -> str | None:
        causes = self.details.get("causes") or []
        return causes[0]["summary"] if causes else None

    @property
    def passed(self) -> bool:
        return self.problem is None and self.score is not None and self.score == self.max_score

    def _lines_said(self) -> list[str]:
        d = self.details
        return (
            [d[key] for key in ("written", "hidden", "reused") if d.get(key)]
            + [f"Flagged: {rule}" for rule in d.get("rules", [])]
            + [f"Problem: {problem}" for problem in d.get("problems", [])]
        )

    def __str__(self) -> str:
        lines = [*self.warnings]
        if self.problem:
            return "\n".join([*lines, *self.notes, f"Not checked: {self.problem}"])
        d = self.details
        failing = d.get("failing", [])
        lines.append(f"Score {self.score:g} / {self.max_score:g}")
        causes = d.get("causes", [])
        if not causes:
            lines.append("Every autograded check passed.")
        for cause in causes:
            lead = "First thing to fix: " if cause["number"] == 1 else f"{cause['number']}. "
            lines.append(f"{lead}{cause['summary']}.")
            lines += [
                f"   {text}"
                for text in (cause["advice"], cause["formula"] and f"Right: {cause['formula']}")
                if text
            ]
            for check in (c for c in failing if c["cause"] == cause["number"]):
                lines.append(
                    f"   {check['check']} ({check['score']:g} / {check['points']:g}): {_said(check['example'])}"
                )
        lines.append(
            f"{d.get('passed', 0)} of {d.get('checks', 0)} checks passed"
            + (" (not listed)" if failing else "")
        )
        lines += self._lines_said()
        if self.report:
            lines.append(f"Your full report: {self.report}")
        return "\n".join([*lines, *self.notes])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        e = html.escape
        warnings = "".join(f"<p style='{FAIL}'><strong>{e(w)}</strong></p>" for w in self.warnings)
        notes = "".join(f"<p style='{MUTED}'>{e(note)}</p>" for note in self.notes)
        folded = f"<details><summary style='{MUTED}'>About this check</summary>{notes}</details>"
        if self.problem:
            body = f"<p><strong style='{FAIL}'>Not checked:</strong> {e(self.problem)}</p>"
            return f"<div class='grader-self-check'>{STYLE}{warnings}{body}{folded}</div>"
        d = self.details
        failing = d.get("failing", [])
        done = f"{d.get('passed', 0)} of {d.get('checks', 0)} checks passed (public cases)"
        head = (
            f"<h3 style='margin:0.2em 0'>Score {self.score:g} / {self.max_score:g} "
            f"<small style='{MUTED}'>{e(done)}</small></h3>"
        )
        parts = [head, warnings]
        causes = d.get("causes", [])
        if not causes:
            parts.append(f"<p><strong style='{PASS}'>Every autograded check passed.</strong></p>")
        for cause in causes:
            parts.append(_cause_html(cause, [c for c in failing if c["cause"] == cause["number"]]))
        unnumbered = [c for c in failing if not c["cause"]]
        if unnumbered:
            parts.append(_cause_html(None, unnumbered))
        passed = d.get("passed_checks", [])
        if passed:
            items = "".join(
                f"<li><span style='{PASS}'>passed</span> <code>{e(c['check'])}</code> "
                f"({c['points']:g} points): {e(c['description'])}</li>"
                for c in passed
            )
            parts.append(
                f"<details><summary><span style='{PASS}'>{len(passed)} checks passed</span>"
                f"</summary><ul>{items}</ul></details>"
            )
        parts += [f"<p>{e(line)}</p>" for line in self._lines_said()]
        if self.report:
            parts.append(
                f"<p><a href='{e(_link(self.report))}' target='_blank'>Open your full report</a> "
                f"<span style='{MUTED}'>({e(str(self.report))}): every value, the curves, each case.</span></p>"
            )
        parts.append(folded)
        return f"<div class='grader-self-check'>{STYLE}{''.join(parts)}</div>"


def _said(example: dict | None) -> str:
    """A failing case in words: the values that are off (a public case), else its verdict's reason."""
    if not example:
        return "no points (see the cause above)"
    if example["values"]:
        shown = "; ".join(
            f"{v['name']} got {v['got']}, expected {v['expected']}" for v in example["values"][:2]
        )
        return f"on {example['case']}, {shown}"
    return f"on {example['case']}: {example['message']}"


def _values_table(example: dict) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(v['name'])}</code></td><td class='num'>{e(v['got'])}</td>"
        f"<td class='num'>{e(v['expected'])}</td></tr>"
        for v in example["values"]
    )
    more = example["off"] - len(example["values"])
    extra = (
        f"<p style='{MUTED}'>and {more} more values off: see the full report</p>"
        if more > 0
        else ""
    )
    return f"<table><tr><th>value</th><th>got</th><th>expected</th></tr>{rows}</table>{extra}"


def _check_html(check: dict, with_values: bool) -> str:
    e = html.escape
    example = check["example"]
    status = check["status"].replace("timeout", "timed out")
    lead = (
        f"<p style='margin:0.4em 0 0.1em'><strong style='{FAIL}'>{e(status)}</strong> <code>{e(check['check'])}</code> "
        f"({check['score']:g} / {check['points']:g}): {e(check['description'])}</p>"
    )
    if not example:
        return lead
    said = f"<p style='margin:0.1em 0 0.1em 1.5em'>On {e(example['case'])}: {e(example['message'])}</p>"
    if with_values and example["values"]:
        return lead + said + f"<div style='margin-left:1.5em'>{_values_table(example)}</div>"
    return lead + said


def _cause_html(cause: dict | None, checks: list[dict]) -> str:
    e = html.escape
    parts = []
    if cause is not None:
        label = "First thing to fix:" if cause["number"] == 1 else f"{cause['number']}."
        parts.append(
            f"<p style='margin:0.8em 0 0.2em'><strong style='{FAIL}'>{label}</strong> "
            f"<strong>{e(cause['summary'])}.</strong></p>"
        )
        if cause["advice"]:
            parts.append(f"<p style='margin:0.2em 0'>{e(cause['advice'])}</p>")
        if cause["formula"]:
            parts.append(f"<p style='margin:0.2em 0'>Right: <code>{e(cause['formula'])}</code></p>")
    shown, rest = checks[:CHECKS_WITH_VALUES], checks[CHECKS_WITH_VALUES:]
    parts += [_check_html(check, True) for check in shown]
    if rest:
        listed = "".join(_check_html(check, False) for check in rest)
        parts.append(
            f"<details><summary>{len(rest)} more failing checks of this cause</summary>{listed}</details>"
        )
    border = "border-left: 3px solid var(--gsc-fail, #cf222e); padding-left: 0.8em; margin: 0.5em 0"
    return f"<div style='{border}'>{''.join(parts)}</div>"


def _link(report: Path) -> str:
    """The report page's address from the notebook: relative to the kernel's folder (a Jupyter
    server serves it from there), else a file: URL."""
    try:
        return report.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return report.resolve().as_uri()


def _read_results(folder: Path, path: Path, assignment: str, warnings, notes, report) -> SelfCheck:
    [written] = sorted(folder.glob(f"*/{SELF_CHECK_FILE}"))
    details = json.loads(written.read_text(encoding="utf-8"))
    isolation = str(details.get("isolation") or "").removeprefix("sandbox: ")
    notes = [*notes, *([f"Isolation: {isolation}"] if isolation else [])]
    return SelfCheck(path, assignment, None, details, report, tuple(warnings), tuple(notes))


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
            (
                f"{path} does not exist (the current folder is {Path.cwd()}): "
                "give the path of your saved notebook or .py file"
            ),
        )
    path = path.resolve()
    warnings: list[str] = []
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
            return SelfCheck(path, assignment, problem, notes=tuple(notes))  # nothing ran
        unsaved = unsaved_cells(cells)
        if unsaved:
            first = _code(unsaved[-1]).splitlines()[0][:60]
            said = (
                f"Warning: {len(unsaved)} cell(s) you ran are not in the saved file "
                f"as you ran them (the last begins {first!r})"
            )
            warnings.append(
                f"{said}: save the notebook (Ctrl-S / Cmd-S) and check again to grade them."
            )
    if (
        out is None
    ):  # the report page is kept where `make check` keeps it: self-check/ beside the file
        out = path.parent / DEFAULT_OUT
    return _run_check(path, assignment, Path(out), warnings, notes)


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


def _run_check(
    path: Path, assignment: str, out: Path, warnings: list[str], notes: list[str]
) -> SelfCheck:
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
        if completed.returncode != 0 or not any(folder.glob(f"*/{SELF_CHECK_FILE}")):
            said = list(printed)
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
        report = None
        try:
            for written in folder.iterdir():
                shutil.copytree(written, out / written.name, dirs_exist_ok=True)
            report = out.resolve() / next(folder.iterdir()).name / "report.html"
        except OSError as error:  # a folder it cannot write: the check stands, without its page
            notes.append(f"The report page could not be kept in {out}: {error.strerror or error}")
        return _read_results(folder, path, assignment, warnings, notes, report)

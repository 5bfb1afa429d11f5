"""Peers benchmark (`make bench-peers`, optional): the bundled correct notebook graded by
nbgrader and by otter-grader, and by this grader, in the same run; per-submission wall
time and the ratios.  Not part of `make test`.

The peers live in their own environment, .venv-peers/, with the same torch and numpy.
Each gets an equivalent task: the student's code (the bundled notebook's cells, with
the magics and `!shell` lines that this grader never runs taken out) checked by three
autograded tests that call np_forward, np_backward and torch_backward on the given case
and compare with a tiny reference computed inside the test.  nbgrader: a source
notebook whose code cells are solution cells, `generate_assignment`, N students'
copies in submitted/, one `autograde`.  otter: one `otter run` per submission with an
autograder zip of exception-based tests (`otter grade` needs Docker).  This grader
grades the same N unmodified notebooks twice: with a spec of only the three checks the
peers' tests make (the same work; the ratios are against this run), and with its full
spec (34 checks, training runs up to 1000 epochs).  A peer that does not install or run
is reported with the reason; the others go on.

Every tool runs the notebook's own cells; that part of the time is the student's, and
no grader can go below it: the table shows it beside the ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from specs import spec_with_checks  # noqa: E402 - bench/specs.py

from grader.core.spec import DEFAULT_SPEC  # noqa: E402

NOTEBOOK = REPO / "submissions" / "backprop" / "correct_notebook_with_magics.ipynb"
PEERS_VENV = REPO / ".venv-peers"
BASE = ["torch==2.13.0", "numpy==2.4.6", "ipykernel==7.4.0"]
PEERS = {"nbgrader": ["nbgrader==0.9.6"], "otter": ["otter-grader==7.0.0"]}

# The tests, shared by both peers: a reference (sigmoid, mse, the course's numbering)
# computed inside the test, and one test function per entry point.
TESTS = """
import numpy as np
import torch

def _reference(x, y, w):
    s = lambda z: 1 / (1 + np.exp(-z))
    h = s(np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]]))
    o = s(np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]]))
    d_o = (o - y) * o * (1 - o)
    d_h = np.array([d_o[0] * w[4] + d_o[1] * w[5], d_o[0] * w[6] + d_o[1] * w[7]]) * h * (1 - h)
    g = np.array([d_h[0] * x[0], d_h[1] * x[0], d_h[0] * x[1], d_h[1] * x[1],
                  d_o[0] * h[0], d_o[1] * h[0], d_o[0] * h[1], d_o[1] * h[1]])
    return o, g

_CASE = (np.array([0.5, 0.3]), np.array([0.23, -0.07]), np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]))

def test_np_forward(np_forward):
    assert np.allclose(np.ravel(np_forward(*_CASE[::2])[1]), _reference(*_CASE)[0], atol=1e-4)

def test_np_backward(np_backward):
    assert np.allclose(np.ravel(np_backward(*_CASE)), _reference(*_CASE)[1], atol=1e-4)

def test_torch_backward(torch_backward):
    g = torch.as_tensor(torch_backward(*(torch.tensor(a) for a in _CASE))).detach().numpy()
    assert np.allclose(np.ravel(g), _reference(*_CASE)[1], atol=1e-4)
"""
ENTRIES = ("np_forward", "np_backward", "torch_backward")
SAME_CHECKS = {
    "np-forward-output",
    "np-gradients",
    "torch-gradients",
}  # the spec's checks of those three tests


def run(command: list[str], cwd: Path, timeout: float = 900) -> float:
    """Wall seconds of one command; raises with the tail of its output if it fails."""
    env = {
        **os.environ,
        "PATH": f"{PEERS_VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(command[:3])} exited {done.returncode}: {(done.stdout + done.stderr).strip()[-600:]}"
        )
    return time.perf_counter() - started


def install(peer: str) -> None:
    """Create .venv-peers/ once and install the peer's pinned release into it."""
    if not (PEERS_VENV / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", str(PEERS_VENV)], REPO)
    stamp = PEERS_VENV / f".installed-{peer}"
    wanted = " ".join(BASE + PEERS[peer])
    if stamp.exists() and stamp.read_text() == wanted:
        return
    run(
        [
            str(PEERS_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            *BASE,
            *PEERS[peer],
        ],
        REPO,
        timeout=1800,
    )
    stamp.write_text(wanted)


def student_cells() -> list:
    """The bundled notebook's cells, without the lines this grader never runs (magics, !shell)."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(
                line
                for line in cell.source.splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
    return notebook.cells


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.read(NOTEBOOK, as_version=4).metadata
    return nb


def bench_nbgrader(scratch: Path, size: int) -> dict:
    course = scratch / "nbgrader"
    (course / "source" / "hw").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    cells = student_cells()
    for index, cell in enumerate(cells):  # every code cell is one the student fills in
        if cell.cell_type == "code":
            cell.metadata["nbgrader"] = {
                "grade_id": f"student_{index}",
                "solution": True,
                "grade": False,
                "locked": False,
                "schema_version": 3,
            }
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in cells
        if "nbgrader" in cell.metadata
    }
    for entry in ENTRIES:
        test = nbformat.v4.new_code_cell(f"{TESTS}\ntest_{entry}({entry})")
        test.metadata["nbgrader"] = {
            "grade_id": f"test_{entry}",
            "solution": False,
            "grade": True,
            "locked": True,
            "points": 1,
            "schema_version": 3,
        }
        cells.append(test)
    nbformat.write(notebook(cells), course / "source" / "hw" / "hw.ipynb")
    run(["nbgrader", "generate_assignment", "hw", "--force"], course)
    released = nbformat.read(course / "release" / "hw" / "hw.ipynb", as_version=4)
    for cell in released.cells:  # the student's answers go into the released stubs
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    for index in range(size):
        folder = course / "submitted" / f"student_{index:03d}" / "hw"
        folder.mkdir(parents=True)
        nbformat.write(released, folder / "hw.ipynb")
    seconds = run(["nbgrader", "autograde", "hw", "--force"], course)
    run(["nbgrader", "export", "--to", str(course / "grades.csv")], course)
    scores = [float(row["score"]) for row in csv.DictReader((course / "grades.csv").open())]
    return {"seconds": seconds, "scores": scores, "max_score": float(len(ENTRIES))}


def bench_otter(scratch: Path, size: int) -> dict:
    folder = scratch / "otter"
    folder.mkdir()
    decorate = "".join(f"test_{entry} = test_case(points=1)(test_{entry})\n" for entry in ENTRIES)
    with zipfile.ZipFile(folder / "autograder.zip", "w") as bundle:
        bundle.writestr("otter_config.json", "{}")
        bundle.writestr(
            "tests/backprop.py",
            f"from otter.test_files import test_case\nOK_FORMAT = False\nname = 'backprop'\n{TESTS}\n{decorate}",
        )
    nbformat.write(notebook(student_cells()), folder / "hw.ipynb")
    seconds, scores = 0.0, []
    for index in range(size):
        out = folder / f"results_{index:03d}"
        out.mkdir()
        seconds += run(
            ["otter", "run", "--no-logo", "-a", "autograder.zip", "-o", str(out), "hw.ipynb"],
            folder,
        )
        scores.append(
            sum(
                test.get("score", 0)
                for test in json.loads((out / "results.json").read_text())["tests"]
            )
        )
    return {"seconds": seconds, "scores": scores, "max_score": float(len(ENTRIES))}


def bench_ours(scratch: Path, size: int, jobs: int, spec: Path = DEFAULT_SPEC) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="ours-", dir=scratch))
    out = folder / "reports"
    for index in range(size):
        shutil.copy(NOTEBOOK, folder / f"student_{index:03d}.ipynb")
    # --no-cache: every run computes its answer key and runs every notebook, as a first grading does
    seconds = run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(folder),
            "--out",
            str(out),
            "--jobs",
            str(jobs),
            "--spec",
            str(spec),
            "--no-cache",
        ],
        REPO,
    )
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig")))
    compute = statistics.median(
        json.loads((out / r["id"] / "results.json").read_text())["execution_time"] for r in rows
    )
    return {
        "seconds": seconds,
        "scores": [float(r["score"]) for r in rows],
        "max_score": float(rows[0]["max_score"]),
        "median_student_compute_s": compute,
        "jobs": jobs,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--size",
        type=int,
        default=int(os.environ.get("BENCH_PEERS_SIZE", 20)),
        help="submissions per tool",
    )
    args = parser.parse_args()
    results: dict[str, dict] = {}
    same = "ours, same 3 checks (--jobs 1)"
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch:
        three_checks = spec_with_checks(SAME_CHECKS.__contains__, Path(scratch, "same-checks.toml"))
        results[same] = bench_ours(Path(scratch), args.size, 1, three_checks)
        for jobs in (1, os.cpu_count() or 1):
            results[f"ours, full spec (--jobs {jobs})"] = bench_ours(Path(scratch), args.size, jobs)
        for peer, bench in (("nbgrader", bench_nbgrader), ("otter", bench_otter)):
            try:
                install(peer)
                results[peer] = bench(Path(scratch), args.size)
            except Exception as error:  # noqa: BLE001 - a peer that cannot install or run here is a result too
                results[peer] = {"error": f"{type(error).__name__}: {error}"}
                print(f"{peer}: not measured: {results[peer]['error']}", file=sys.stderr)

    baseline = results[same]["seconds"] / args.size
    compute = results[same]["median_student_compute_s"]
    beyond_ours = baseline - compute  # what every tool spends besides the student's own code
    print(
        f"{args.size} copies of {NOTEBOOK.name}, same run\n{'':32} {'s / submission':>15} "
        f"{'x ' + same:>40} {'beyond the code, x ours':>24}  scores"
    )
    for name, result in results.items():
        if "error" in result:
            print(f"{name:32} {'not measured':>15}")
            continue
        result["seconds_per_submission"] = round(result["seconds"] / args.size, 3)
        result["ratio_to_ours_same_checks"] = round(result["seconds_per_submission"] / baseline, 1)
        # the grader's own time, start-ups and answer key included; a peer's student code is ours
        # on the same checks, and jobs side by side overlap their code's wall time: no figure
        beyond = result["seconds"] / args.size - result.get("median_student_compute_s", compute)
        alone = result.get("jobs", 1) == 1 and beyond_ours > 0
        result["beyond_student_code_s"] = round(beyond, 3) if alone else None
        result["beyond_ratio_to_ours_same_checks"] = (
            round(beyond / beyond_ours, 1) if alone else None
        )
        result["seconds"] = round(result["seconds"], 2)
        result["scores"] = sorted(
            set(result.pop("scores"))
        )  # distinct scores over the N submissions
        scores = ", ".join(f"{s:g}" for s in result["scores"])
        print(
            f"{name:32} {result['seconds_per_submission']:>15} {result['ratio_to_ours_same_checks']:>40} "
            f"{result['beyond_ratio_to_ours_same_checks']!s:>24}  {scores} / {result['max_score']:g}"
        )

    measured = [
        r["seconds_per_submission"]
        for n, r in results.items()
        if "error" not in r and not n.startswith("ours")
    ]
    ceiling = {
        "student_compute_s": compute,
        "best_ratio_possible": round(max(measured) / compute, 1) if measured else None,
    }
    print(
        f"Each tool's time includes its own start-up.  The student's own code (the notebook's cells and the three calls) ran {compute:g} s per submission (median, "
        f"measured in ours); a grader with no overhead at all would be at most {ceiling['best_ratio_possible']}x faster than the slowest peer here."
    )
    path = REPO / "bench" / "results.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored["peers"] = {
        "submissions": args.size,
        "notebook": NOTEBOOK.name,
        "ceiling": ceiling,
        **results,
    }
    path.write_text(json.dumps(stored, indent=2) + "\n")


if __name__ == "__main__":
    main()

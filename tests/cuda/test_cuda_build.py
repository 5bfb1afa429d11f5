"""The grader where a plain `pip install` on Linux puts students: beside the CUDA build of torch,
which maps about 3 GiB of address space at import (`make cuda-test` builds that venv and runs
this file; `make test` leaves it out).

The grader is installed into it from a clone of the committed state, as a student installs it;
every verdict is compared with the one this checkout's own environment gives on the same file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.core.assignment import load_reference
from grader.core.spec import load_spec, spec_path
from tests.conftest import REPO, SUBMISSIONS, grading, run_grader

pytestmark = pytest.mark.cuda

HOSTILE = REPO / "tests" / "hostile"
CORRECT = SUBMISSIONS / "correct_scalar.py"
MISTAKEN = SUBMISSIONS / "hidden_delta_from_weight_grads.py"
MISTAKE = "hidden-delta-from-weight-grads"
KERNEL = "cuda-build-python"


def run(command: list, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_SECRET")
    } | {"COLUMNS": "200"}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def cuda_python(tmp_path_factory) -> Path:
    """The CUDA venv's interpreter ($GRADER_CUDA_PYTHON), with the grader pip-installed from a clone."""
    given = os.environ.get("GRADER_CUDA_PYTHON")
    if not given:
        pytest.fail("GRADER_CUDA_PYTHON is not set: run these tests with `make cuda-test`")
    python = Path(given)
    build = run([python, "-c", "import torch; print(torch.__version__, torch.version.cuda)"], REPO)
    assert build.returncode == 0 and "None" not in build.stdout, (
        f"not a CUDA build of torch: {build.stdout}{build.stderr}"
    )
    clone = tmp_path_factory.mktemp("clone") / "grader"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    pip = [
        python,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "--no-input",
        "install",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        "--force-reinstall",
    ]
    installing = run([*pip, clone], clone)
    assert installing.returncode == 0, installing.stdout[-2000:] + installing.stderr[-2000:]
    return python


def command(python: Path) -> Path:
    return python.parent / "backprop-grader"


def full_marks() -> str:
    points = sum(check.points for check in load_spec(spec_path("backprop")).checks)
    return f"{points:g} / {points:g} points"


def mistake_title() -> str:
    return next(m.title for m in load_reference("backprop").catalog if m.id == MISTAKE)


def statuses(out: Path, submission_id: str) -> dict[str, str]:
    return {c["check"]: c["status"] for c in grading(out, submission_id)["checks"]}


def test_the_venv_holds_a_cuda_build_whose_import_needs_more_than_the_old_address_space_limit(
    cuda_python,
):
    """Is this the build that broke the grader: one whose import maps more than the spec's memory_mib?"""
    limit = load_spec(spec_path("backprop")).limits.memory_mib
    mapped = run(
        [
            cuda_python,
            "-c",
            "import torch, re; print(re.search(r'VmSize:\\s+(\\d+)', open('/proc/self/status').read()).group(1))",
        ],
        REPO,
    )
    assert int(mapped.stdout) // 1024 > limit, mapped.stdout


def test_check_gives_the_correct_hand_in_full_marks_and_the_mistake_its_name(cuda_python, tmp_path):
    """Does `backprop-grader check`, run from a student's folder, give the correct example full marks
    and the hidden-delta example its catalogued mistake, under the CUDA build?"""
    for source, name in ((CORRECT, "correct"), (MISTAKEN, "mistaken")):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(source, folder / "hw3.py")
        checked = run([command(cuda_python), "check", "hw3.py"], folder)
        printed = " ".join(checked.stdout.split())
        assert "Traceback" not in checked.stdout + checked.stderr, checked.stderr[-3000:]
        if name == "correct":
            assert checked.returncode == 0 and full_marks() in printed, printed[-3000:]
        else:
            assert full_marks() not in printed and mistake_title() in printed, printed[-3000:]
            assert "could not be run" not in printed


def test_fresh_interpreters_and_warm_workers_give_this_checkouts_verdicts(cuda_python, tmp_path):
    """Do `grade --fresh-interpreters` and `grade` under the CUDA build give every check of a correct
    hand-in, a catalogued mistake and a memory hog the verdict this checkout's own build gives?"""
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    for source in (CORRECT, MISTAKEN, HOSTILE / "memory_hog.py"):
        shutil.copy(source, class_folder / source.name)
    oracle = tmp_path / "oracle"
    assert run_grader("grade", str(class_folder), "--out", str(oracle)).returncode == 0
    for mode in ((), ("--fresh-interpreters",)):
        out = tmp_path / ("fresh" if mode else "warm")
        graded = run(
            [cuda_python, "-m", "grader", "grade", class_folder, "--out", out, *mode], tmp_path
        )
        assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
        for submission in class_folder.iterdir():
            assert statuses(out, submission.stem) == statuses(oracle, submission.stem), (
                mode,
                submission.name,
            )


def test_a_memory_hog_is_stopped_at_its_limit_and_the_report_names_it(cuda_python, tmp_path):
    """Is a submission that allocates without end stopped with MemoryError under the CUDA build, in
    both launch modes, the import's allocation too, and does its verdict name the spec's limit?"""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(HOSTILE / "memory_hog.py", folder / "memory_hog.py")
    for mode in ((), ("--fresh-interpreters",)):
        out = tmp_path / ("fresh" if mode else "warm")
        assert (
            run(
                [cuda_python, "-m", "grader", "grade", folder, "--out", out, *mode], tmp_path
            ).returncode
            == 0
        )
        found = grading(out, "memory_hog")
        assert "the import's allocation was refused" in found["stdout"]
        gradients = next(c for c in found["checks"] if c["check"] == "np-gradients")
        assert gradients["status"] == "error" and "MemoryError" in json.dumps(gradients)
        assert "memory_mib" in gradients["message"], gradients["message"]
        assert statuses(out, "memory_hog")["np-forward-output"] == "passed"


def test_a_notebook_self_check_under_the_cuda_build(cuda_python, tmp_path, monkeypatch):
    """Does `self_check()` in a notebook, run by a kernel of the CUDA venv, score the hidden-delta
    hand-in as the command line does, with its named mistake first?"""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [str(cuda_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": KERNEL,
                "language": "python",
                "env": {"JPY_SESSION_NAME": "hw3.ipynb"},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    solution = nbformat.v4.new_code_cell(MISTAKEN.read_text())
    checking = nbformat.v4.new_code_cell('from grader import self_check\nself_check("hw3.ipynb")')
    notebook = nbformat.v4.new_notebook(cells=[solution, checking])
    nbformat.write(notebook, tmp_path / "hw3.ipynb")
    NotebookClient(
        notebook, kernel_name=KERNEL, timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    inline = " ".join(
        "".join(
            o.get("data", {}).get("text/html", "")
            for o in notebook.cells[1].outputs
            if o.output_type in ("execute_result", "display_data")
        ).split()
    )
    (tmp_path / "oracle").mkdir()
    shutil.copy(MISTAKEN, tmp_path / "oracle" / "hw3.py")
    oracle = run_grader(
        "check", str(tmp_path / "oracle" / "hw3.py"), "--out", str(tmp_path / "oracle-out")
    )
    results = json.loads(next((tmp_path / "oracle-out").glob("*/results.json")).read_text())
    assert f"Score {results['score']:g} / {results['extra_data']['max_score']:g}" in inline, inline[
        -3000:
    ]
    first = " ".join(
        re.search(r"First thing to fix: (.*?); fixing it", oracle.stdout, flags=re.S)
        .group(1)
        .split()
    )
    assert first in inline and mistake_title() in inline

"""A student's notebook that self-checks itself, run by a real Jupyter kernel (ipykernel,
driven by nbclient): the report shows inline, from the file as saved on disk."""

from __future__ import annotations

import json
import re
import sys
from html import unescape

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO, SUBMISSIONS, run_grader

MISTAKEN = SUBMISSIONS / "textbook_weight_numbering.py"
KERNEL = "grader-test-python"
SESSION = "course/hw3.ipynb"  # how Jupyter names the notebook to its kernel: relative to the server's root


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernelspec of this very interpreter, seeing this checkout's grader (as `pip install` would),
    told which notebook it runs as Jupyter tells it."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": KERNEL,
                "language": "python",
                "env": {"PYTHONPATH": str(REPO), "JPY_SESSION_NAME": SESSION},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    return KERNEL


def html_of(cell) -> str:
    return "".join(
        o.get("data", {}).get("text/html", "")
        for o in cell.outputs
        if o.output_type in ("execute_result", "display_data")
    )


def test_a_notebook_shows_its_own_self_check_inline(kernel, tmp_path):
    """Does `self_check("hw3.ipynb")` in the notebook show the score, the first thing to fix of the
    saved file with its paragraph, the first failing check's got and expected values, and only
    then the notes on isolation; a link to the report page it kept; and, called without a path,
    find the notebook itself and warn once a cell ran that the saved file does not hold?"""
    solution = nbformat.v4.new_code_cell(MISTAKEN.read_text())
    checking = nbformat.v4.new_code_cell('from grader import self_check\nself_check("hw3.ipynb")')
    saved = nbformat.v4.new_notebook(cells=[solution, checking])
    nbformat.write(saved, tmp_path / "hw3.ipynb")
    running = nbformat.v4.new_notebook(
        cells=[
            solution,
            checking,
            nbformat.v4.new_code_cell("not_saved_yet = 1"),
            nbformat.v4.new_code_cell("self_check()"),
        ]
    )
    NotebookClient(
        running, kernel_name=kernel, timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    # the oracle: the command line's own check of the same code
    (tmp_path / "oracle").mkdir()
    (tmp_path / "oracle" / "hw3.py").write_text(MISTAKEN.read_text())
    cli = run_grader(
        "check", str(tmp_path / "oracle" / "hw3.py"), "--out", str(tmp_path / "oracle-out")
    )
    results = json.loads(next((tmp_path / "oracle-out").glob("*/results.json")).read_text())
    record = json.loads(next((tmp_path / "oracle-out").glob("*/grading.json")).read_text())
    first = " ".join(
        re.search(r"First thing to fix: (.*?); fixing it", cli.stdout, re.S)[1].split()
    )
    score = f"Score {results['score']:g} / {results['extra_data']['max_score']:g}"

    inline = html_of(running.cells[1])
    text = " ".join(unescape(inline).split())
    assert score in inline and results["score"] < results["extra_data"]["max_score"]
    assert "First thing to fix:" in inline and first in text
    # the first failing check, with the values that are off: what it got and what is expected
    failing = next(c for c in record["checks"] if c["status"] != "passed")
    case = next(c for c in failing["cases"] if c["status"] != "passed")
    index = next(
        n
        for n, ok in enumerate(case["compared"])
        if ok and case["observed"][n] != case["expected"][n]
    )
    got, expected = (f"{case[key][index]:.6g}" for key in ("observed", "expected"))
    values = inline.index(f"<code>{failing['check']}</code>")
    assert f">{got}</td><td class='num'>{expected}</td>" in inline[values:]
    [explanation] = {
        d["explanation"] for d in failing["diagnoses"] if d.get("kind") != "root-cause"
    }
    paragraph = text.index(" ".join(explanation.split()))
    isolation = text.index("Isolation: ")
    assert paragraph < isolation and text.index(f"{got}") < isolation
    assert "Checked the file as saved on disk: hw3.ipynb" in text and "sandbox:" not in text
    assert text.index(score) < paragraph and "Warning" not in inline
    page = tmp_path / "self-check" / "hw3" / "report.html"  # kept beside the notebook, and linked
    assert page.is_file() and "href='self-check/hw3/report.html'" in inline
    passed = sum(c["status"] == "passed" for c in record["checks"])
    assert f"{passed} checks passed</span></summary>" in inline  # folded
    later = html_of(running.cells[3])
    assert (
        score in later
        and "Warning: 1 cell(s) you ran are not in the saved file" in later
        and "not_saved_yet" in later
    )

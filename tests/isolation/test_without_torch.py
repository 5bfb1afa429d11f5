"""A part that runs without PyTorch (`torch = false`, Part A of both homeworks): its calls are
made in a process of their own that never had torch, and the grader reads from outside it
whether a torch library is mapped there.

Through the real command line: one-file hand-ins that import torch at the top, define a
`torch.nn.Module`, and run demo lines with tensors keep every point; one whose top-level
code fails only on the stand-in keeps what it defined after that line, and the staff's
record says which line failed; a tensor made inside a Part A call costs that call its points
with the rule's message.  The memory-map reader is tried on real processes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from grader.isolation.sandbox import torch_folders, torch_library
from tests.conftest import SUBMISSIONS, TEST_SECRET, grading, run_grader

# Part B checked with an assert at the top, before Part A is defined: on the stand-in,
# torch.allclose gives a value that is not true, so the assert fails only in Part A's process
ASSERTS_PART_B_FIRST = textwrap.dedent(
    """
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 2)

    torch.manual_seed(0)
    DTYPE = torch.float64
    _part_b = torch_backward(torch.tensor([0.5, 0.3]), torch.tensor([0.23, -0.07]),
                             torch.tensor([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]))
    assert torch.allclose(torch.tensor(_part_b), torch.tensor(_part_b)), "Part B is off"
    print(f"checked Part B: {torch.tensor(_part_b).sum().item():.4f}")
    """
)


def _hand_in_asserting_part_b_before_part_a() -> str:
    """correct_scalar.py with its Part B first, then the assert above, then its Part A."""
    source = (SUBMISSIONS / "correct_scalar.py").read_text()
    top, rest = source.split("def sigmoid", 1)
    part_a, part_b = ("def sigmoid" + rest).split("def t_act", 1)
    part_b, demo = ("def t_act" + part_b).split("# quick test on the example", 1)
    return top + part_b + ASSERTS_PART_B_FIRST + "\n\n" + part_a


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("without-torch")
    (folder / "asserts_part_b_before_part_a.py").write_text(
        _hand_in_asserting_part_b_before_part_a()
    )
    shutil.copy(SUBMISSIONS / "correct_scalar.py", folder / "correct_scalar.py")
    shutil.copy(SUBMISSIONS / "tensors_in_numpy_part.py", folder / "tensors_in_numpy_part.py")
    out = folder.parent / "without-torch-out"
    completed = run_grader("grade", str(folder), "--out", str(out), secret=TEST_SECRET)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out


def test_a_top_level_line_that_fails_only_on_the_stand_in_costs_nothing_and_is_said(graded):
    result = grading(graded, "asserts_part_b_before_part_a")
    assert result["score"] == result["max_score"], [
        (c["check"], c["status"]) for c in result["checks"] if c["status"] != "passed"
    ]
    assert result["problems"] == []  # the files load as written where torch is real
    said = result["stderr"]
    assert "in the process without PyTorch" in said, said[-2000:]
    assert "the statements after it ran" in said


def test_a_correct_one_file_hand_in_with_torch_at_the_top_keeps_every_point(graded):
    result = grading(graded, "correct_scalar")
    assert result["score"] == result["max_score"]
    assert [r for r in result["rules"] if r["status"] == "broken"] == []


def test_a_tensor_made_in_a_part_a_call_fails_that_call_with_the_rules_message(graded):
    result = grading(graded, "tensors_in_numpy_part")
    checks = {c["check"]: c for c in result["checks"]}
    gradients = checks["np-gradients"]
    assert gradients["score"] == 0
    assert "no-torch-in-numpy-part" in json.dumps(gradients)
    assert checks["np-forward-output"]["status"] == "passed"
    assert checks["torch-gradients"]["status"] == "passed"


def _process(code: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", code + "\nprint('ready', flush=True)\ninput()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def test_the_memory_map_says_whether_a_torch_library_is_loaded():
    with_torch, without = _process("import torch"), _process("import numpy")
    try:
        found = torch_library(with_torch.pid)
        assert found and "torch" in found, found
        assert torch_library(without.pid) == ""
    finally:
        for process in (with_torch, without):
            process.communicate("\n", timeout=30)
    assert torch_library(with_torch.pid) == ""  # ended: nothing is mapped into it any more


def test_the_withheld_folders_hold_the_installed_torch():
    import importlib.util

    where = importlib.util.find_spec("torch").submodule_search_locations[0]
    assert where in torch_folders()

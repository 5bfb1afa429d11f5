"""Is the convolution homework graded end to end, through the real CLI, as its examples say?

One `grade --assignment conv2d` run over submissions/conv2d/ with hidden cases;
each example's grading.json is held to its docstring (the verdict, on the given
and the hidden cases, the one catalogued mistake that names it, and what the diagnosis' probes find of
a wrong gradient: a forward bug or a backward bug).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import TEST_SECRET, run_grader
from tests.reference.test_conv2d_reference import EXAMPLES, SPEC, stated_verdict

ROOT_CAUSES = {
    "forward": "forward-bug-backward-consistent",
    "backward": "backward-not-derivative-of-forward",
}


def root_cause(path) -> str | None:
    """The docstring's "Expected root cause: forward | backward" (the diagnosis' probes), if any."""
    found = re.search(r"Expected root cause: (forward|backward)", path.read_text())
    return found.group(1) if found else None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("conv2d-graded")
    completed = run_grader(
        "grade", str(EXAMPLES), "--out", str(out), "--assignment", "conv2d", secret=TEST_SECRET
    )
    assert completed.returncode == 0, completed.stderr
    return out


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_every_example_is_graded_and_diagnosed_as_its_docstring_states(path, graded):
    """Do the checks its docstring names fail, on every case, with its catalogued mistake named, and the others pass?"""
    stated = stated_verdict(path)
    grading = json.loads((graded / path.stem / "grading.json").read_text())
    failing = {
        c["check"]
        for c in grading["checks"]
        if c["status"] != "passed" and not (stated.withheld and _withheld(c))
    }
    assert failing == stated.failing
    for check in grading["checks"]:
        if check["status"] == "passed" or (stated.withheld and _withheld(check)):
            continue
        if not stated.loads:
            assert check["status"] == "error" and not check["diagnoses"]
        else:
            named = [d["id"] for d in check["diagnoses"] if d["kind"] == "misconception"]
            causes = [d["id"] for d in check["diagnoses"] if d["kind"] == "root-cause"]
            assert check["status"] == "failed" and named == [stated.diagnosis], check["check"]
            probed = (
                check["quantity"] in ("dx", "dweight", "dbias")
                and check["cases"][0]["observed"] is not None
            )
            assert causes == (
                [ROOT_CAUSES[root_cause(path)]] if probed and root_cause(path) else []
            ), check["check"]
    withheld = sum(
        c["max_score"] - c["score"]
        for c in grading["checks"]
        if c["status"] == "passed" or _withheld(c)
    )
    assert (withheld > 0) == stated.withheld
    if not failing and not stated.withheld:
        assert grading["score"] == grading["max_score"] == sum(c.points for c in SPEC.checks)


def _withheld(check: dict) -> bool:
    """The check lost its points to a rule that withholds them."""
    return any(
        f["outcome"] == "withhold" and f["status"] == "broken" for f in check["rule_findings"]
    )


def test_torch_in_the_numpy_part_loses_every_part_a_point_by_its_rule(graded):
    """Part A's calls run without PyTorch: a Part A done with torch's conv2d and autograd fails at
    its first tensor, and every Part A check is withheld by no-torch-in-numpy-part."""
    grading = json.loads((graded / "autograd_in_numpy_part" / "grading.json").read_text())
    rules = {r["rule"]: r for r in grading["rules"]}
    assert rules["no-torch-in-numpy-part"]["status"] == "broken"
    for check in grading["checks"]:
        if check["part"] == "numpy":
            assert check["score"] == 0 and _withheld(check), check["check"]
            assert "no-torch-in-numpy-part" in json.dumps(check), check["check"]
        else:
            assert check["status"] == "passed" and check["score"] == check["max_score"]

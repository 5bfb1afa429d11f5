"""One engine, any homework: the assignment is a folder, and the engine knows none of them.

A third, tiny assignment ("scale": y = factor * x) is written here into a folder
of its own and found through $GRADER_ASSIGNMENTS, as a course keeps its own;
graded by the real CLI, it gets its verdicts and its diagnosis.  Broken copies
of it are refused at start-up, naming the file and the key, with nothing graded.
And a search of grader/ finds no name either bundled homework declares.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.assignment import load_reference, names
from tests.conftest import REPO, TEST_SECRET, run_grader

PACKAGE = """
from pathlib import Path

import numpy as np

from grader.core.assignment import Reference
from grader.core.cases import Case
from grader.core.catalog import Misconception
from grader.core.contract import Contract, EntryPoint, Quantity, inputs, option

CONTRACT = Contract(
    {"scale": EntryPoint("numpy", "numpy", (*inputs("x"), option("factor", {"type": "number"}, 2.0)), ("y",), ("y",))},
    {"y": Quantity(MEMBER, "the scaled values y")},
)


class Book:
    def __init__(self, spec, secret):
        self.given, self.secret = spec.tables["given_case"]["x"], secret

    def for_check(self, check):
        hidden = [Case.of("hidden-1", {"x": [v + len(self.secret) for v in self.given]}, True)] if self.secret else []
        return [Case.of("given", {"x": self.given}), *hidden]


def runs(check, case):
    x, factor = np.array(case.inputs["x"]), check.args["factor"]
    return {"y": factor * x}, {"y": np.float32(factor) * x.astype(np.float32)}


def predict(variation, check, case, book):
    x, factor = np.array(case.inputs["x"]), check.args["factor"]
    return {"y": x + factor if variation == "added" else factor * x}


CATALOG = (
    Misconception("VARIATION", "Added instead of multiplied", "The factor was added to x, not multiplied with it.", "y = factor * x", ("numpy",), ("VARIATION",)),
)
REFERENCE = Reference(
    contract=CONTRACT, draw_cases=Book, reference_runs=runs, predict=predict, catalog=CATALOG,
    spec_tables={"given_case": {"type": "object", "required": ["x"]}}, source=Path(__file__).parent,
)
"""

SPEC = """
[assignment]
name = "scale"
title = "Scaling a vector"
hidden_cases = 1
secret_env = "GRADER_SECRET"
float32_margin = 10

[limits]
load_seconds = 30
call_seconds = 10
submission_seconds = 60
memory_mib = 3072
output_kib = 64

[[part]]
id = "numpy"
title = "Part A"
label = "A"

[experiments]
1 = "Scaling"

[given_case]
x = [1.0, 2.0, 3.0]

[tolerance.values]
rtol = 1e-6
atol = 1e-9

[[check]]
id = "scaled"
experiment = 1
part = "numpy"
entry = "ENTRY"
quantity = "y"
args = { factor = 3.0 }
points = 2
message = "y = factor * x"
"""

SUBMISSIONS = {
    "correct.py": "def scale(x, factor):\n    return factor * x\n",
    "added.py": "def scale(x, factor):\n    return x + factor\n",
}


def write_assignment(
    root: Path, entry: str = "scale", member: str = "y", variation: str = "added"
) -> Path:
    folder = root / "assignments" / "scale"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        PACKAGE.replace("MEMBER", repr(member)).replace("VARIATION", variation)
    )
    (folder / "assignment.toml").write_text(SPEC.replace("ENTRY", entry))
    return folder.parent


def grade(root: Path, assignments: Path) -> tuple[subprocess.CompletedProcess, Path]:
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir(exist_ok=True)
    for name, text in SUBMISSIONS.items():
        (submissions / name).write_text(text)
    completed = run_grader(
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--assignment",
        "scale",
        "--jobs",
        "1",
        secret=TEST_SECRET,
        env={"GRADER_ASSIGNMENTS": str(assignments)},
    )
    return completed, out


def test_an_assignment_in_a_folder_of_its_own_is_graded_by_the_same_engine(tmp_path: Path):
    completed, out = grade(tmp_path, write_assignment(tmp_path))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    rows = {line.split(",")[0]: line for line in (out / "grades.csv").read_text().splitlines()[1:]}
    assert set(rows) == {"correct", "added"}
    import json

    correct = json.loads((out / "correct" / "grading.json").read_text())
    added = json.loads((out / "added" / "grading.json").read_text())
    assert (correct["score"], correct["max_score"]) == (2, 2)
    [check] = added["checks"]
    assert added["score"] == 0 and [c["hidden"] for c in check["cases"]] == [False, True]
    assert [d["id"] for d in check["diagnoses"]] == [
        "added"
    ]  # named by the assignment's own catalogue


@pytest.mark.parametrize(
    "broken,says",
    [
        (
            {"entry": "scale_twice"},
            r"assignment\.toml: check\[0\]\.entry: 'scale_twice' is not one of \['scale'\]",
        ),
        (
            {"member": "z"},
            r"scale/__init__\.py: quantities\.y\.member: scale returns \(y\); no reader for 'z' in it",
        ),
        (
            {"variation": "same"},
            r"scale: catalog\['same'\]\.variations\[0\]: gives the reference's own values on scaled: it is not a mistake",
        ),
    ],
    ids=[
        "an entry point the reference does not define",
        "a quantity with no reader",
        "a catalogue entry that reproduces the reference",
    ],
)
def test_an_inconsistent_assignment_is_refused_at_start_up_naming_file_and_key(
    tmp_path: Path, broken: dict, says: str
):
    completed, out = grade(tmp_path, write_assignment(tmp_path, **broken))
    assert completed.returncode == 2, completed.stdout
    assert re.search(says, " ".join(completed.stdout.split())), completed.stdout
    assert not (out / "grades.csv").exists() and not list(
        out.glob("*/grading.json")
    )  # nothing is graded


def test_an_unknown_assignment_is_refused_with_the_known_ones_named(tmp_path: Path):
    completed = run_grader("check", str(tmp_path / "x.py"), "--assignment", "no_such_homework")
    assert completed.returncode == 2
    text = " ".join(completed.stdout.split())
    assert "no assignment 'no_such_homework'" in text and all(
        name in text for name in ("backprop", "conv2d")
    )


def _declared_names() -> set[str]:
    """Every entry point, quantity, part and option value the bundled assignments declare."""
    found = set()
    for name in names():
        contract = load_reference(name).contract
        found |= set(contract.entry_points) | set(contract.quantities)
        for entry in contract.entry_points.values():
            for option in entry.options:
                found |= {str(v) for v in option.schema.get("enum", ())}
    return found


def test_the_engine_names_nothing_of_either_homework():
    """grader/ (its code and the report templates) holds no entry point, quantity, activation or
    loss name of any bundled assignment: as a word where it is a long name, as a quoted string
    where it is short ("y", "o").  Part ids are "numpy" and "torch", the frameworks the engine
    builds arrays for, and are left out of the search."""
    declared = _declared_names()
    assert {
        "np_forward",
        "conv2d_backward",
        "loss_curve",
        "dweight",
        "sigmoid",
        "CrossEntropyLoss",
    } <= declared
    sources = [
        p
        for p in (REPO / "grader").rglob("*")
        if p.suffix in (".py", ".html", ".js", ".sh", ".json")
        or p.name in ("run_autograder", "Dockerfile")
    ]
    sources += list((REPO / "templates" / "report").glob("*"))
    found = []
    for name in sorted(declared):
        pattern = re.compile(
            rf"(?<![\w.-]){re.escape(name)}(?![\w-])"
            if len(name) >= 4
            else rf"[\"']{re.escape(name)}[\"']"
        )
        for path in sources:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path.relative_to(REPO)}:{number}: {name}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


def test_make_grade_selects_the_assignment(tmp_path: Path):
    """`make grade ASSIGNMENT=conv2d` grades submissions/conv2d/ by reference/conv2d/."""
    out = tmp_path / "out"
    command = [
        "make",
        "-s",
        "-C",
        str(REPO),
        "-o",
        ".venv/.installed",
        "grade",
        "ASSIGNMENT=conv2d",
        f"OUT={out}",
        f"PY={sys.executable}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    graded = {p.parent.name for p in out.glob("*/grading.json")}
    assert graded == {p.stem for p in (REPO / "submissions" / "conv2d").iterdir()}
    assert "conv2d_forward" in (out / "correct_loops" / "grading.json").read_text()


def test_the_self_check_of_the_convolution_homework_gives_a_correct_hand_in_full_marks(
    tmp_path: Path,
):
    """`make check SUB=... ASSIGNMENT=conv2d`, as a student of the second homework runs it."""
    from grader.core.spec import load_spec, spec_path

    spec = load_spec(spec_path("conv2d"))
    command = ["make", "-s", "-C", str(REPO), "-o", ".venv/.installed", "check", "ASSIGNMENT=conv2d", f"PY={sys.executable}",
               f"SUB={REPO / 'submissions' / 'conv2d' / 'correct_vectorised.py'}", f"CHECK_OUT={tmp_path}"]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    total = sum(c.points for c in spec.checks)
    assert (
        f"correct_vectorised.py: all {len(spec.checks)} checks passed, {total:g} / {total:g} points"
        in " ".join(completed.stdout.split())
    )
    assert (tmp_path / "correct_vectorised" / "report.html").is_file()

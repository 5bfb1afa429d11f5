"""Is the assignment spec complete, and is a broken one refused with an error an instructor can act on?"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.core.spec import DEFAULT_SPEC, SpecError, load_spec
from reference.backprop.contract import ENTRY_POINTS
from tests.conftest import run_grader


def test_the_spec_covers_every_experiment_and_entry_point():
    spec = load_spec()
    assert {c.experiment for c in spec.checks} == set(range(1, 10))
    assert {c.entry for c in spec.checks} == set(ENTRY_POINTS)
    assert {c.part for c in spec.checks} == {"numpy", "torch"}
    variants = {(c.args.get("act"), c.args.get("loss")) for c in spec.checks}
    for act in ("torch.sigmoid", "relu"):
        assert any(v[0] == act for v in variants)
    for loss in ("MSELoss", "CrossEntropyLoss"):
        assert any(v[1] == loss for v in variants)
    assert {c.options["weights"] for c in spec.checks} == {"given", "zero", "random"}
    assert {c.args["lr"] for c in spec.checks if "lr" in c.args} >= {0.5, 1.0, 2.0, 5.0}
    assert {c.args["epochs"] for c in spec.checks if "epochs" in c.args} >= {1, 50, 200, 1000}
    assert spec.questions and all(q.points > 0 for q in spec.questions)
    assert [p.id for p in spec.parts] == ["numpy", "torch"] and all(
        spec.experiment_title(n) != f"Experiment {n}" for n in range(1, 10)
    )


def test_every_training_run_is_checked_by_its_curve_and_its_final_weights():
    spec = load_spec()
    runs: dict[tuple, set] = {}
    for check in spec.checks:
        if check.entry.endswith("_train"):
            key = (check.entry, tuple(sorted(check.args.items())), check.options["weights"])
            runs.setdefault(key, set()).add(check.quantity)
    for key, quantities in runs.items():
        assert "final_weights" in quantities and quantities & {"loss_curve", "loss"}, key


BROKEN = [
    (
        "missing key",
        lambda s: s.replace('title = "Back-propagation in a 2-2-2 network"\n', ""),
        "assignment: 'title' is a required property",
    ),
    (
        "unknown variant",
        lambda s: s.replace('args = { act = "relu" }', 'args = { act = "tanh" }', 1),
        "check[5].args.act: 'tanh' is not one of",
    ),
    (
        "negative points",
        lambda s: s.replace("points = 4", "points = -4", 1),
        "check[2].points: -4 is less than the minimum of 0",
    ),
    (
        "bad tolerance",
        lambda s: s.replace("rtol = 1e-4", "rtol = -1e-4", 1),
        "tolerance.values.rtol: -0.0001 is less than the minimum of 0",
    ),
    (
        "undeclared tolerance",
        lambda s: s.replace('quantity = "h"\n', 'quantity = "h"\ntolerance = "loose"\n', 1),
        "check[0].tolerance: no [tolerance.loose] is declared",
    ),
    (
        "numpy part with a torch loss",
        lambda s: s.replace('args = { act = "sigmoid" }', 'args = { act = "torch.sigmoid" }', 1),
        "check[0].args.act: 'torch.sigmoid' is not one of ['sigmoid', 'relu'] (the values np_forward",
    ),
    (
        "duplicate id",
        lambda s: s.replace('id = "np-forward-output"', 'id = "np-forward-hidden"'),
        "check[1].id: 'np-forward-hidden' is used by an earlier check",
    ),
    ("not TOML", lambda s: s + "\n[[check]\n", "not valid TOML"),
    (
        "experiment without a title",
        lambda s: s.replace('9 = "All-zero initial weights"\n', ""),
        "experiment 9 has no title in [experiments]",
    ),
    (
        "part not declared",
        lambda s: re.sub(r'\[\[part\]\]\nid = "torch"\n[^\[]*', "", s),
        "the assignment's entry point torch_forward is of part 'torch', which no [[part]] declares",
    ),
    (
        "part without a label",
        lambda s: s.replace('label = "NumPy"', ""),
        "part[0]: 'label' is a required property",
    ),
]


@pytest.mark.parametrize("name,breaks,says", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_malformed_spec_is_refused_naming_file_and_key(tmp_path: Path, name, breaks, says):
    broken = tmp_path / "assignment.toml"
    broken.write_text(breaks(DEFAULT_SPEC.read_text()))
    with pytest.raises(SpecError) as error:
        load_spec(broken)
    assert str(broken) in str(error.value)
    assert says in str(error.value)


def test_the_cli_refuses_to_grade_with_a_malformed_spec(tmp_path: Path):
    """Does nothing run with a half-read spec?"""
    broken = tmp_path / "assignment.toml"
    broken.write_text(DEFAULT_SPEC.read_text().replace("points = 4", "points = -4", 1))
    out = tmp_path / "out"
    completed = run_grader("grade", "submissions", "--out", str(out), "--spec", str(broken))
    assert completed.returncode == 2
    assert re.search(r"spec error:.*check\[2\]\.points", completed.stdout.replace("\n", ""))
    assert not out.exists()

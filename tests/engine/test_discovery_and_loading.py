"""Is every kind of submission found and loaded the way a student would expect?"""

from __future__ import annotations

import csv
import json
import zipfile

import pytest

from grader.engine.discover import discover_submissions, submission_at
from grader.engine.load import MAX_FILE_BYTES, load_submission
from tests.conftest import SUBMISSIONS, run_grader

CORRECT = (SUBMISSIONS / "correct_scalar.py").read_text()


def test_an_empty_folder_says_so(tmp_path):
    discovery = discover_submissions(tmp_path)
    assert not discovery.submissions and "empty" in discovery.problems[0].message


def test_unknown_files_and_duplicate_ids_get_a_message_and_the_rest_are_found(tmp_path):
    (tmp_path / "notes.txt").write_text("not code")
    (tmp_path / "alice.py").write_text(CORRECT)
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob.py").write_text(CORRECT)
    discovery = discover_submissions(tmp_path)
    assert [s.id for s in discovery.submissions] == ["alice", "bob"]
    messages = " | ".join(p.message for p in discovery.problems)
    assert (
        ".txt files are not graded" in messages and "two submissions are named 'alice'" in messages
    )


def _zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_zip_entry_outside_its_folder_is_refused(tmp_path):
    archive = _zip(
        tmp_path / "slip.zip", {"hw/main.py": CORRECT.encode(), "../../escaped.py": b"print('out')"}
    )
    loaded = load_submission(submission_at(archive))
    assert not loaded.files and "points outside its folder" in loaded.problems[0]
    assert not (tmp_path.parent / "escaped.py").exists()


def test_a_zip_bomb_is_stopped_by_the_size_limit(tmp_path):
    archive = _zip(
        tmp_path / "bomb.zip", {"main.py": CORRECT.encode(), "big.py": b"#" * (MAX_FILE_BYTES * 4)}
    )
    assert archive.stat().st_size < 200_000  # small on disk, 20 MiB unpacked
    loaded = load_submission(submission_at(archive))
    assert [f.path for f in loaded.files] == ["main.py"] and "larger than" in loaded.problems[0]


def test_a_notebook_that_is_not_json_is_reported_by_name(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{ this is not json")
    loaded = load_submission(submission_at(tmp_path / "broken.ipynb"))
    assert "broken.ipynb: not a valid notebook" in loaded.problems[0]


@pytest.fixture(scope="module")
def awkward_class(tmp_path_factory):
    """Odd but correct layouts, graded in one real CLI run on the public cases."""
    root = tmp_path_factory.mktemp("awkward")
    shadow = root / "files_named_like_packages"
    shadow.mkdir()
    (shadow / "numpy.py").write_text(
        "from grader import SCALE\n"
        + CORRECT.replace("import numpy as np\n", "import numpy as np\nassert hasattr(np, 'exp')\n")
    )
    (shadow / "grader.py").write_text(
        "SCALE = 1.0  # a student's own helper module, named like the grader\n"
    )
    (shadow / "torch.py").write_text("import torch\nassert hasattr(torch, 'tensor')\n")
    gbk = "# 反向传播作业：两层网络\n" + CORRECT.replace(
        "# Homework 3 - Backpropagation", "# 作业三"
    )
    (root / "source_in_gbk.py").write_bytes(gbk.encode("gbk"))
    twice = root / "entry_point_defined_twice"
    twice.mkdir()
    (twice / "part_a.py").write_text(CORRECT)
    (twice / "part_a_old.py").write_text(
        CORRECT.replace(
            'def np_forward(x, w, act="sigmoid"):',
            'def np_forward(x, w, act="sigmoid"):\n    return None\n\n\ndef _unused(x, w, act="sigmoid"):',
        )
    )
    same = root / "same_file_twice"
    same.mkdir()
    (same / "homework.py").write_text(CORRECT)
    (same / "homework_copy.py").write_text(CORRECT)
    (root / "=1+1.py").write_text(CORRECT)  # a file name a spreadsheet would run as a formula
    out = root / "out"
    completed = run_grader("grade", str(root), "--out", str(out))
    return completed, out


def _result(out, name):
    return json.loads((out / name / "results.json").read_text())


def test_files_named_numpy_torch_or_grader_do_not_shadow_the_real_packages(awkward_class):
    completed, out = awkward_class
    assert completed.returncode == 0, completed.stderr
    result = _result(out, "files_named_like_packages")
    assert result["score"] == result["extra_data"]["max_score"]


def test_a_gbk_encoded_source_is_decoded(awkward_class):
    _, out = awkward_class
    result = _result(out, "source_in_gbk")
    assert result["score"] == result["extra_data"]["max_score"]


def test_two_different_definitions_of_an_entry_point_are_named_not_guessed(awkward_class):
    _, out = awkward_class
    tests = {
        t["extra_data"]["check"]: t for t in _result(out, "entry_point_defined_twice")["tests"]
    }
    assert (
        "np_forward is defined differently in part_a.py and part_a_old.py"
        in tests["np-forward-output"]["output"]
    )
    assert tests["np-gradients"]["status"] == "passed"


def test_the_same_code_in_two_files_counts_once(awkward_class):
    _, out = awkward_class
    result = _result(out, "same_file_twice")
    assert result["score"] == result["extra_data"]["max_score"]


def test_an_id_that_looks_like_a_formula_stays_text_in_grades_csv(awkward_class):
    """Does a spreadsheet opening grades.csv show `=1+1` as the id, not 2?"""
    _, out = awkward_class
    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    assert "'=1+1" in ids and "=1+1" not in ids
    assert _result(out, "=1+1")["score"] == _result(out, "=1+1")["extra_data"]["max_score"]

"""Does the autograder do what Gradescope expects, run the way Gradescope runs it?

Each run builds a simulated /autograder tree in a temporary folder: source/ holds
the extracted zip of `make autograder`, run_autograder is copied beside it (as
Gradescope's image build does), submission/ holds the student's files and
submission_metadata.json says who submitted.  The real `run_autograder` script
grades it with AUTOGRADER_ROOT pointing there, and every results.json is
validated against Gradescope's results schema.

setup.sh is tested twice: its commands in a dry run (fast, every path), and, when
GRADER_TEST_REAL_SETUP=1 is set, one real install into a virtual environment in a
temporary folder, started in the background when this module begins so that it
overlaps the grading runs.  The real install downloads about a gigabyte through this
machine's pip configuration (its index, or the CPU-only torch index when
TORCH_INDEX_URL is set), so `make test` does not depend on the network or on that
configuration unless asked.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from grader.core.spec import load_spec, spec_path
from tests.conftest import REPO, SUBMISSIONS, TEST_SECRET, build_zip, run_grader

SCRIPTS = REPO / "grader" / "gradescope"
SHARED_SCHEMA = REPO / "grader" / "gradescope" / "gradescope_schema.json"
GRADESCOPE_MEMORY = 768 * 2**20  # Gradescope's default container: 768 MB, half a CPU, 10 minutes
GRADESCOPE_SECONDS = 600
GRADESCOPE_CPUS = 0.5

# Gradescope's results.json, from its "Autograder Specifications" page: the keys a
# test and the whole result may hold, and the values it accepts.
_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
RESULTS_SCHEMA = {
    "type": "object",
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": _FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": _FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": _VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {"type": "array"},
    },
}

METADATA = {
    "id": 123456,
    "created_at": "2026-11-20T14:22:32.365935-08:00",
    "assignment": {
        "id": 25828,
        "title": "Back-propagation",
        "total_points": "51.0",
        "due_date": "2026-12-01T23:00:00-08:00",
    },
    "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
    "previous_submissions": [],
}

# Forges results every way it can, then leaves before the grader can ask it anything.
HOSTILE = """
import json, os
FORGED = {{"score": 1000, "output": "FORGED-RESULTS", "tests": [{{"name": "FORGED-RESULTS", "score": 1000, "max_score": 1, "status": "passed"}}]}}
print(json.dumps(FORGED))
print("<script>alert('FORGED-RESULTS')</script>")
for target in ({results!r}, "results.json"):
    try:
        with open(target, "w") as handle:
            json.dump(FORGED, handle)
    except OSError:
        pass
os._exit(0)
"""

# Defines none of the entry points; its one function's signature and its output carry HTML.
NO_ENTRY_POINTS = """
def evil(payload="<script>alert('FORGED-RESULTS')</script>"):
    return payload

print("<img src=x onerror=alert('FORGED-RESULTS')>")
"""


@dataclass(frozen=True)
class Run:
    root: Path
    completed: subprocess.CompletedProcess
    results: dict
    seconds: float
    cpu_seconds: float
    peak_rss: int  # bytes, summed over the grader and every process it started, sampled
    peak_pss: (
        int  # the same with shared pages counted once (what a container's memory limit counts)
    )


def _tree_memory(top: int) -> tuple[int, int]:
    """RSS and PSS in bytes, summed over process `top` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    rss = pss = 0
    pending = [top]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("Rss", "Pss"):
                    kib = int(value.split()[0]) * 1024
                    rss, pss = (rss + kib, pss) if name == "Rss" else (rss, pss + kib)
        except (OSError, ValueError):
            continue
    return rss, pss


REAL_SETUP = os.environ.get("GRADER_TEST_REAL_SETUP") == "1"


@pytest.fixture(scope="module", autouse=True)
def background_install(tmp_path_factory, autograder_zip):
    """setup.sh, for real, into a venv in a temporary folder, while the grading runs go on."""
    if not REAL_SETUP:
        yield None
        return
    folder = tmp_path_factory.mktemp("setup")
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(folder / "source")
    environment = {
        **os.environ,
        "GRADER_VENV": str(folder / "venv"),
        "SKIP_APT": "1",
        "TORCH_INDEX_URL": os.environ.get("TORCH_INDEX_URL", ""),
    }
    log = (folder / "setup.log").open("w")
    process = subprocess.Popen(
        ["bash", str(folder / "source" / "setup.sh")],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield folder, process
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()
    # a gigabyte, mostly torch: removed in the background, so the suite does not wait for the disk
    subprocess.Popen(
        ["rm", "-rf", str(folder / "venv")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def autograder_tree(
    root: Path, autograder_zip: Path, files: dict[str, str | Path], secret: str | None = None
) -> Path:
    """What Gradescope's harness sets up before it calls /autograder/run_autograder."""
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)  # extractall drops the zip's permission bits
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, content in files.items():
        target = root / "submission" / name
        if isinstance(content, Path):
            shutil.copy(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    (root / "submission_metadata.json").write_text(json.dumps(METADATA))
    (root / "results").mkdir()
    if secret is not None:
        (root / "source" / "secret.txt").write_text(secret + "\n")
    return root


def run_autograder(root: Path, measure: bool = False) -> Run:
    environment = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
    environment.update(AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable, COLUMNS="120")
    peak = [0, 0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(
        [str(root / "run_autograder")],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def sample():
        while process.poll() is None:
            rss, pss = _tree_memory(process.pid)
            peak[:] = [max(peak[0], rss), max(peak[1], pss)]
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if measure:
        sampler.start()
    stdout, _ = process.communicate(timeout=GRADESCOPE_SECONDS)
    seconds = time.monotonic() - started
    if measure:
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, "")
    results = json.loads((root / "results" / "results.json").read_text())
    return Run(root, completed, results, seconds, cpu, peak[0], peak[1])


def assert_valid(results: dict) -> None:
    jsonschema.validate(results, RESULTS_SCHEMA)
    if SHARED_SCHEMA.exists():  # the reports' schema, where it has landed
        jsonschema.validate(results, json.loads(SHARED_SCHEMA.read_text()))


def student_text_only_as_escaped_feedback(results: dict, marker: str = "FORGED-RESULTS") -> None:
    """The student's marker may appear only inside an `output` text, and never as live HTML."""

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str):
            if key != "output":
                assert marker not in value, f"{key!r} holds the student's text: {value[:200]}"
            for raw in ("<script", "<img"):
                assert raw not in value, f"unescaped {raw!r} in {key!r}: {value[:300]}"

    walk(results)


@pytest.fixture(scope="module")
def correct_run(tmp_path_factory, autograder_zip) -> Run:
    root = autograder_tree(
        tmp_path_factory.mktemp("autograder"),
        autograder_zip,
        {"homework.py": SUBMISSIONS / "correct_scalar.py"},
        secret=TEST_SECRET,
    )
    return run_autograder(root, measure=True)


def test_a_correct_submission_scores_full_marks(correct_run):
    results = correct_run.results
    assert_valid(results)
    assert results["score"] == results["extra_data"]["max_score"] > 0
    assert all(test["status"] == "passed" for test in results["tests"])
    assert results["output_format"] == "html" and {
        t["output_format"] for t in results["tests"]
    } == {"html"}
    assert results["stdout_visibility"] == "hidden"  # the grader's log is for course staff
    assert results["extra_data"]["submission"]["submission_id"] == "123456"


def test_hidden_cases_are_graded_with_the_bundled_secret_which_then_leaves_the_disk(correct_run):
    output = correct_run.completed.stdout
    assert "secret: file" in output and TEST_SECRET not in output
    assert not (correct_run.root / "source" / "secret.txt").exists()
    assert (
        stat.S_IMODE(
            (correct_run.root / "source" / "reference" / "backprop" / "assignment.toml")
            .stat()
            .st_mode
        )
        & 0o007
        == 0
    )
    assert any("hidden case" in test["output"] for test in correct_run.results["tests"])


def test_hidden_checks_take_the_visibility_the_spec_gives(correct_run):
    from grader.core.spec import load_spec

    spec = load_spec()
    visibility = {t["extra_data"]["check"]: t["visibility"] for t in correct_run.results["tests"]}
    hidden = [c.id for c in spec.checks if c.visibility == "hidden"]
    assert hidden and {visibility[c] for c in hidden} == {spec.hidden_visibility} == {
        "after_published"
    }
    assert {visibility[c.id] for c in spec.checks if c.visibility == "visible"} == {"visible"}


def test_the_run_stays_well_inside_gradescope_default_limits(correct_run):
    """768 MB, half a CPU, 10 minutes: measured on the whole process tree."""
    print(
        f"\nrun_autograder, correct submission: {correct_run.seconds:.1f} s wall, {correct_run.cpu_seconds:.1f} s CPU, "
        f"peak {correct_run.peak_rss / 2**20:.0f} MiB RSS / {correct_run.peak_pss / 2**20:.0f} MiB PSS summed over the tree"
    )
    assert (
        0 < correct_run.peak_pss < 2 / 3 * GRADESCOPE_MEMORY
    )  # shared pages once, as the container counts them
    assert (
        correct_run.peak_rss < GRADESCOPE_MEMORY
    )  # even counting torch's shared pages once per process
    assert (
        correct_run.cpu_seconds / GRADESCOPE_CPUS < GRADESCOPE_SECONDS / 5
    )  # at half a CPU, a fifth of the time limit
    assert (
        correct_run.seconds < GRADESCOPE_SECONDS
    )  # wall time here depends on what else the machine runs


def test_the_classic_hidden_layer_mistake_loses_the_numpy_gradient_checks(tmp_path, autograder_zip):
    root = autograder_tree(
        tmp_path,
        autograder_zip,
        {"homework.py": SUBMISSIONS / "hidden_delta_from_weight_grads.py"},
        secret=TEST_SECRET,
    )
    results = run_autograder(root).results
    assert_valid(results)
    lost = {t["extra_data"]["check"] for t in results["tests"] if t["status"] != "passed"}
    assert {"np-gradients", "np-one-step-weights"} <= lost
    assert all(check.startswith("np-") for check in lost)
    assert 0 < results["score"] < results["extra_data"]["max_score"]
    assert sum(t["score"] for t in results["tests"]) == results["score"]


def test_a_submission_that_forges_results_and_exits_gets_its_verdict_and_nothing_else(
    tmp_path, autograder_zip
):
    root = tmp_path / "autograder"
    forged = HOSTILE.format(results=str(root / "results" / "results.json"))
    autograder_tree(root, autograder_zip, {"homework.py": forged})
    run = run_autograder(root)
    results = run.results
    assert_valid(results)
    assert results["score"] == 0 and all(t["status"] == "failed" for t in results["tests"])
    assert "could not be run" in results["output"] and "exited with code 0" in results["output"]
    student_text_only_as_escaped_feedback(results)
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]


def test_no_entry_points_at_all_gets_one_message_at_the_top_with_its_html_escaped(
    tmp_path, autograder_zip
):
    root = autograder_tree(
        tmp_path, autograder_zip, {"homework.py": NO_ENTRY_POINTS, "notes.txt": "draft"}
    )
    results = run_autograder(root).results
    assert_valid(results)
    assert results["score"] == 0
    top = results["output"]
    assert top.startswith(
        "<p><strong>Your submission defines none of the functions the grader calls"
    )
    assert "np_forward, np_backward, np_train, torch_forward, torch_backward, torch_train" in top
    assert "It defines evil(payload=" in top and "&lt;script&gt;" in top
    student_text_only_as_escaped_feedback(results)


def test_an_upload_without_python_says_what_was_found(tmp_path, autograder_zip):
    root = autograder_tree(tmp_path, autograder_zip, {"homework.pdf": "%PDF-1.4"})
    results = run_autograder(root).results
    assert_valid(results)
    assert results["score"] == 0
    assert (
        "No .py or .ipynb file was found in what you uploaded (found: homework.pdf)"
        in results["output"]
    )


def test_the_zip_holds_the_grader_and_never_the_examples_or_a_stray_secret(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    names = set(infos)
    assert {
        "setup.sh",
        "run_autograder",
        "requirements.lock",
        "pyproject.toml",
        "reference/backprop/assignment.toml",
        "ASSIGNMENT",
        "grader/cli.py",
    } <= names
    assert any(n.startswith("templates/") for n in names)
    for name in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[name].external_attr >> 16) == 0o755
    assert not any(n.startswith(("submissions/", "tests/", ".venv/", "reports/")) for n in names)
    assert not any(
        "__pycache__" in n or n.endswith(".pyc") or n.endswith("secret.txt") for n in names
    )


def test_the_zip_carries_the_secret_only_when_asked_readable_by_its_owner_only(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("course-secret\n")
    out = tmp_path / "autograder.zip"
    completed = build_zip(out, secret)
    assert completed.returncode == 0, completed.stderr
    with zipfile.ZipFile(out) as archive:
        info = archive.getinfo("secret.txt")
        assert archive.read(info) == b"course-secret\n"
    assert stat.S_IMODE(info.external_attr >> 16) == 0o600


def dry_run(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DRY_RUN": "1",
        "GRADER_SOURCE": str(REPO),
        "GRADER_VENV": str(tmp_path / "venv"),
        **variables,
    }
    return subprocess.run(
        [shutil.which("bash"), str(SCRIPTS / "setup.sh")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_setup_installs_cpu_torch_first_then_the_pinned_requirements(tmp_path):
    completed = dry_run(tmp_path)
    assert completed.returncode == 0, completed.stderr
    commands = [line for line in completed.stdout.splitlines() if line.startswith("+ ")]
    assert " -m venv " in commands[0]
    assert "--no-deps --index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in commands[1]
    assert commands[2].endswith(f"-r {REPO / 'requirements.lock'}")
    assert not (tmp_path / "venv").exists()


def test_setup_installs_python_311_where_the_image_has_an_older_one(tmp_path):
    """Gradescope's default Ubuntu 22.04 image ships Python 3.10."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    for tool in ("dirname", "basename", "grep", "env"):
        (bin_folder / tool).symlink_to(shutil.which(tool))
    old_python = bin_folder / "python3"
    old_python.write_text("#!/bin/sh\nexit 1\n")  # a Python that fails the >= 3.11 check
    old_python.chmod(0o755)
    completed = dry_run(tmp_path, PATH=str(bin_folder))
    assert "+ apt-get update" in completed.stdout
    assert (
        "apt-get install -y --no-install-recommends python3.11 python3.11-venv" in completed.stdout
    )
    refused = dry_run(tmp_path, PATH=str(bin_folder), SKIP_APT="1")
    assert refused.returncode != 0 and "SKIP_APT=1" in refused.stderr


@pytest.mark.skipif(
    not REAL_SETUP,
    reason="a real install downloads torch through this machine's pip configuration: set GRADER_TEST_REAL_SETUP=1 to run it",
)
def test_setup_builds_an_environment_that_can_run_the_grader(background_install):
    """The one real install (about 45 s, overlapping the runs above)."""
    folder, process = background_install
    assert process.wait(timeout=400) == 0, (folder / "setup.log").read_text()[-3000:]
    python = folder / "venv" / "bin" / "python"
    version = subprocess.run(
        [python, "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "2.13.0+cpu"
    usage = subprocess.run(
        [python, "-m", "grader", "gradescope", "--help"],
        cwd=folder / "source",
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 0 and "--root" in usage.stdout


def test_the_secret_comes_from_the_environment_else_from_the_zip(tmp_path):
    from grader.core.spec import load_spec
    from grader.gradescope.container import AutograderTree, find_secret

    spec, tree = load_spec(), AutograderTree(tmp_path)
    assert find_secret(spec, {}, tree).value is None
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "secret.txt").write_text("from-the-zip\n")
    bundled = find_secret(spec, {}, tree)
    assert bundled.value == b"from-the-zip" and bundled.file == tmp_path / "source" / "secret.txt"
    assert "from-the-zip" not in repr(bundled)
    from_lms = find_secret(spec, {spec.secret_env: "from-the-lms"}, tree)
    assert (
        from_lms.value == b"from-the-lms"
        and from_lms.origin == f"environment variable {spec.secret_env}"
    )


# ------------------------------------------------------------------ the second homework's zip

CONV2D = REPO / "submissions" / "conv2d"


@pytest.fixture(scope="module")
def conv2d_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("conv2d-zip") / "autograder.zip"
    completed = build_zip(out, assignment="conv2d")
    assert completed.returncode == 0, completed.stderr
    return out


def test_the_convolution_zip_holds_that_assignment_only(conv2d_zip):
    with zipfile.ZipFile(conv2d_zip) as archive:
        names = set(archive.namelist())
        assert archive.read("ASSIGNMENT").decode().strip() == "conv2d"
    assert {
        "reference/conv2d/assignment.toml",
        "reference/conv2d/__init__.py",
        "reference/__init__.py",
    } <= names
    assert not any(n.startswith(("reference/backprop/", "submissions/")) for n in names)


@pytest.mark.parametrize(
    "example,diagnosis", [("correct_loops.py", None), ("kernel_flipped.py", "kernel-flipped")]
)
def test_the_convolution_zip_grades_its_examples_with_hidden_cases(
    tmp_path, conv2d_zip, example, diagnosis
):
    """Every check of the convolution spec is graded in the container, with its hidden cases; the
    correct hand-in gets full marks, the flipped kernel loses points and is named on each check it fails."""
    spec = load_spec(spec_path("conv2d"))
    root = autograder_tree(
        tmp_path, conv2d_zip, {"conv2d.py": CONV2D / example}, secret=TEST_SECRET
    )
    results = run_autograder(root).results
    assert_valid(results)
    assert [t["extra_data"]["check"] for t in results["tests"]] == [c.id for c in spec.checks]
    assert results["extra_data"]["max_score"] == sum(c.points for c in spec.checks)
    failed = [t for t in results["tests"] if t["status"] != "passed"]
    if diagnosis is None:
        assert not failed and results["score"] == results["extra_data"]["max_score"]
    else:
        assert failed and results["score"] < results["extra_data"]["max_score"]
        assert all(
            t["extra_data"]["diagnoses"][0] == diagnosis for t in failed
        )  # named first; a root cause may follow
    assert "hidden case" in json.dumps(results)  # the bundled secret drew them


def _outside_assignment(folder: Path, name: str) -> Path:
    """The convolution homework as a course keeps its own: a folder outside the repository, on
    $GRADER_ASSIGNMENTS, importing its own modules relatively, its examples inside it."""
    home = folder / name
    shutil.copytree(
        REPO / "reference" / "conv2d", home, ignore=shutil.ignore_patterns("__pycache__")
    )
    for module in home.glob("*.py"):
        text = module.read_text()
        text = re.sub(r"from reference\.conv2d\.(\w+) import", r"from .\1 import", text)
        text = text.replace("from reference.conv2d import", "from . import")
        text = text.replace('REPOSITORY / "submissions" / "conv2d"', 'FOLDER / "examples"')
        module.write_text(text)
    spec = home / "assignment.toml"
    spec.write_text(re.sub(r'(?m)^name = "conv2d"', f'name = "{name}"', spec.read_text(), count=1))
    shutil.copytree(REPO / "submissions" / "conv2d", home / "examples")
    return home


def test_the_zip_of_an_outside_assignment_carries_it_and_grades_with_it(tmp_path):
    """`autograder-zip --assignment layer` where layer/ is a course's own folder: the zip holds its
    reference and spec (never its examples), and unpacked it grades a correct and a wrong hand-in."""
    home = _outside_assignment(tmp_path / "assignments", "layer")
    out = tmp_path / "autograder.zip"
    env = {"GRADER_ASSIGNMENTS": str(home.parent)}
    completed = run_grader("autograder-zip", "--out", str(out), "--assignment", "layer", env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert archive.read("ASSIGNMENT").decode().strip() == "layer"
    assert {"reference/layer/__init__.py", "reference/layer/assignment.toml"} <= names
    assert not any("examples/" in n or n.startswith("reference/conv2d/") for n in names)
    for example, full in (("correct_loops.py", True), ("kernel_flipped.py", False)):
        root = autograder_tree(tmp_path / example, out, {"conv2d.py": home / "examples" / example})
        results = run_autograder(root).results
        assert_valid(results)
        assert (results["score"] == results["extra_data"]["max_score"]) is full, results["output"]

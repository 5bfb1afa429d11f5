"""The LMS container, for real: the autograder image built by a Docker engine from the
zip, as Gradescope builds it, and one fresh container per submission at Gradescope's
default limits (half a CPU, 768 MiB, no network), a read-only root and a bounded /tmp.

`make container-test` runs these (pytest -m container); `make test` leaves them out.  The
image is built once for the module, with the tests' secret, so hidden cases run and
their answer key is computed at build time; GRADER_TEST_IMAGE names one built already.
Expected values and points come from the reference and the spec, never typed in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from grader.core.spec import load_spec, spec_path
from grader.gradescope import container, image
from tests.conftest import (
    REPO,
    SUBMISSIONS,
    TEST_SECRET,
    course_assignment,
    grading,
    run_grader,
)
from tests.outputs.test_student_views import (  # noqa: F401 - answer_key is a fixture
    answer_key,
    hidden_case_text,
    leaked,
    without_case_numbers,
)

pytestmark = pytest.mark.container

HOSTILE = REPO / "tests" / "hostile"
SCHEMA = json.loads((REPO / "grader" / "gradescope" / "gradescope_schema.json").read_text())
SPEC = load_spec(spec_path("backprop", None))
FULL_MARKS = sum(check.points for check in SPEC.checks)


def _built_image(folder: Path, tag: str, assignment: str = "backprop", env: dict | None = None):
    """`make image` as docs/gradescope.md says to build one, with the tests' secret in it."""
    problem = image.engine_problem()
    if problem:
        pytest.fail(f"make container-test needs a Docker engine: {problem}")
    secret = folder / "secret.txt"
    secret.write_text(TEST_SECRET + "\n")
    built = subprocess.run(
        ["make", "-s", "image", f"IMAGE_TAG={tag}", f"SECRET_FILE={secret}"]
        + [f"ASSIGNMENT={assignment}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, **(env or {})},
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    return tag


@pytest.fixture(scope="module")
def image_tag(tmp_path_factory):
    given = os.environ.get("GRADER_TEST_IMAGE")
    if given:
        yield given
        return
    tag = _built_image(tmp_path_factory.mktemp("image"), f"backprop-autograder:test-{os.getpid()}")
    yield tag
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


class Graded:
    def __init__(self, run: image.EngineRun, results_folder: Path):
        self.run = run
        self.folder = results_folder
        path = results_folder / "results.json"
        self.results = json.loads(path.read_text()) if path.is_file() else None

    @property
    def log(self) -> str:
        return self.run.stdout + self.run.stderr

    def test(self, check_id: str) -> dict:
        [found] = [t for t in self.results["tests"] if t["extra_data"]["check"] == check_id]
        return found

    def timing(self) -> dict | None:
        return container.read_timing(self.run.stdout)


def grade(
    tag: str,
    root: Path,
    files: dict[str, Path | str],
    *,
    command: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
    read_only_results: bool = False,
) -> Graded:
    submission, results = root / "submission", root / "results"
    submission.mkdir(parents=True)
    results.mkdir()
    for name, content in files.items():
        if isinstance(content, Path):
            (shutil.copytree if content.is_dir() else shutil.copy)(content, submission / name)
        else:
            (submission / name).write_text(content)
    return Graded(
        image.run_submission(
            tag,
            submission,
            results,
            command=command,
            options=options,
            read_only_results=read_only_results,
        ),
        results,
    )


def assert_valid(graded: Graded) -> dict:
    assert graded.run.returncode == 0, graded.log[-3000:]
    assert graded.results is not None, graded.log[-3000:]
    jsonschema.validate(graded.results, SCHEMA)
    assert sorted(p.name for p in graded.folder.iterdir()) == [
        "results.json"
    ]  # nothing the student's code wrote
    return graded.results


def test_a_correct_hand_in_gets_full_marks_from_the_answer_key_built_into_the_image(
    image_tag, tmp_path
):
    graded = grade(image_tag, tmp_path, {"homework.py": SUBMISSIONS / "correct_scalar.py"})
    results = assert_valid(graded)
    assert results["score"] == FULL_MARKS
    blocks = [block for t in results["tests"] for block in hidden_case_text(t["output"])]
    assert blocks, "the image's secret drew hidden cases"
    assert all(
        not re.search(r"\d", without_case_numbers(block)) for block in blocks
    )  # a verdict, no number
    assert "answer key: read from /autograder/source/answer-key" in graded.log
    assert (
        graded.timing()["grader_imported_torch"] is False
    )  # the reference never ran in the grader's process
    sandbox = next(line for line in graded.log.splitlines() if line.startswith("sandbox: "))
    used = sandbox.split(";")[0]
    assert all(layer in used for layer in ("rlimits", "uid-drop", "seccomp")), (
        sandbox
    )  # what stands in for the namespaces here


BUSY_LOOPS = 4
CONTAINERS_UNDER_LOAD = 20
LOST_POINTS_LOGS = REPO / "bench" / "out" / "lost-points"  # kept for whoever looks for a cause


@pytest.fixture
def busy_host():
    """CPU-bound loops beside the containers, as on a Gradescope worker shared with other jobs."""
    loops = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_LOOPS)
    ]
    yield loops
    for loop in loops:
        loop.kill()
        loop.wait()


def test_a_correct_hand_in_keeps_full_marks_in_fresh_containers_beside_busy_loops(
    image_tag, tmp_path, busy_host
):
    """Do 20 fresh containers of a correct hand-in, two at a time, at Gradescope's limits, while four
    busy loops hold the host's CPUs, all give full marks?  A run that loses a point keeps its log."""

    def one(number: int) -> Graded:
        return grade(
            image_tag,
            tmp_path / f"run-{number}",
            {"homework.py": SUBMISSIONS / "correct_scalar.py"},
        )

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(one, range(CONTAINERS_UNDER_LOAD)))
    assert all(loop.poll() is None for loop in busy_host), "the load ran throughout"
    lost = [
        (number, graded)
        for number, graded in enumerate(runs)
        if graded.results is None or graded.results["score"] != FULL_MARKS
    ]
    if lost:
        LOST_POINTS_LOGS.mkdir(parents=True, exist_ok=True)
        for number, graded in lost:
            (LOST_POINTS_LOGS / f"container-under-load-{os.getpid()}-{number}.log").write_text(
                graded.log
            )
            if graded.results is not None:
                (LOST_POINTS_LOGS / f"container-under-load-{os.getpid()}-{number}.json").write_text(
                    json.dumps(graded.results)
                )
    assert not lost, (
        f"{len(lost)} of {CONTAINERS_UNDER_LOAD} lost points; their logs are in {LOST_POINTS_LOGS}"
    )


def test_the_documented_docker_run_grades_a_hand_in(image_tag, tmp_path):
    """The `docker run` block of docs/gradescope.md, as written but for the image's tag."""
    text = (REPO / "docs" / "gradescope.md").read_text()
    [block] = re.findall(r"```sh\n(docker run .*?)```", text, re.DOTALL)
    (tmp_path / "submission").mkdir()
    (tmp_path / "results").mkdir()
    shutil.copy(SUBMISSIONS / "correct_scalar.py", tmp_path / "submission" / "homework.py")
    command = block.replace("backprop-autograder:latest", image_tag)
    ran = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == FULL_MARKS


def test_a_notebook_alone_is_graded(image_tag, tmp_path):
    results = assert_valid(
        grade(
            image_tag,
            tmp_path,
            {"homework.ipynb": SUBMISSIONS / "correct_notebook_with_magics.ipynb"},
        )
    )
    assert results["score"] == FULL_MARKS


def test_a_catalogued_mistake_is_named_by_its_cause(image_tag, tmp_path):
    results = assert_valid(
        grade(
            image_tag, tmp_path, {"homework.py": SUBMISSIONS / "hidden_delta_from_weight_grads.py"}
        )
    )
    [mistake] = [
        entry for entry in SPEC.reference.catalog if entry.id == "hidden-delta-from-weight-grads"
    ]
    assert 0 < results["score"] < FULL_MARKS
    assert mistake.title in results["output"]


def test_a_process_that_takes_all_the_container_memory_is_killed_and_grading_goes_on(
    image_tag, tmp_path
):
    graded = grade(
        image_tag, tmp_path, {"homework.py": HOSTILE / "touches_all_the_memory_of_its_container.py"}
    )
    assert_valid(graded)
    assert graded.test("np-forward-output")["status"] == "passed"
    assert graded.test("np-gradients")["status"] == "failed"


def test_a_fork_storm_is_contained(image_tag, tmp_path):
    results = assert_valid(
        grade(image_tag, tmp_path, {"homework.py": HOSTILE / "fork_storm_at_import.py"})
    )
    assert results["score"] == 0


def test_a_disk_fill_is_stopped_by_the_budget_or_the_bounded_tmp(image_tag, tmp_path):
    """Whichever comes first at half a CPU: the grader's watch past the submission's budget, or the
    container's 512 MB /tmp refusing the write (then the file's loading ends, and np_forward, defined
    before, passes)."""
    graded = grade(
        image_tag, tmp_path, {"homework.py": HOSTILE / "fills_the_disk_in_its_folder.py"}
    )
    results = assert_valid(graded)
    stopped = "more than a submission may write" in json.dumps(results)
    refused = (
        graded.test("np-forward-output")["status"] == "passed" and results["score"] < FULL_MARKS
    )
    assert stopped or refused, json.dumps(results)[:2000]


def test_forged_results_do_not_count(image_tag, tmp_path):
    results = assert_valid(
        grade(image_tag, tmp_path, {"homework.py": HOSTILE / "forges_results_then_exits.py"})
    )
    assert results["score"] == 0 and all(t["status"] == "failed" for t in results["tests"])


@pytest.mark.parametrize(
    "name",
    [
        "autograd_in_a_thread_started_at_import.py",
        "imports_the_real_torch_in_a_worker_forked_at_import.py",
        "imports_the_real_torch_inside_a_numpy_call.py",
    ],
)
def test_part_a_with_the_real_torch_gets_no_gradient_points_in_the_container(
    image_tag, tmp_path, name
):
    """Part A's gradients from torch reached outside the call or by its path: in the container,
    too, Part A's calls run where PyTorch is not loaded and its folders cannot be read."""
    graded = grade(image_tag, tmp_path, {"homework.py": HOSTILE / name})
    assert_valid(graded)
    gradients = graded.test("np-gradients")
    assert gradients["score"] == 0, gradients
    assert graded.test("np-forward-output")["status"] == "passed"
    assert graded.test("torch-gradients")["status"] == "passed"


@pytest.mark.parametrize(
    "name",
    [
        "raises_hidden_inputs_in_its_exception.py",
        "returns_values_chosen_to_leak_hidden_cases.py",
        "reads_the_answer_key_in_its_container.py",
    ],
)
def test_hidden_cases_do_not_leak_from_the_container(image_tag, tmp_path, answer_key, name):  # noqa: F811
    graded = grade(image_tag, tmp_path, {"homework.py": HOSTILE / name})
    results = assert_valid(graded)
    assert leaked(json.dumps(results), answer_key) == set()
    assert "LEAKED" not in json.dumps(results)
    if name.startswith("reads_the_answer_key"):
        assert (
            graded.test("np-forward-output")["status"] == "failed"
        )  # it found no key to look its answers up in


@pytest.mark.parametrize(
    "files",
    [{}, {"notes.txt": "my answers are on paper", "plot.png": "not really a picture"}],
    ids=["empty", "unrelated-files"],
)
def test_an_upload_without_source_files_gets_results_saying_why(image_tag, tmp_path, files):
    results = assert_valid(grade(image_tag, tmp_path, files))
    assert results["score"] == 0
    assert "No .py or .ipynb file was found" in results["output"]


def test_a_results_folder_that_is_a_file_is_mended(image_tag, tmp_path):
    """No results mount: the image's own /autograder/results, replaced by a file before the run."""
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(SUBMISSIONS / "correct_scalar.py", submission / "homework.py")
    script = "rm -rf /autograder/results && echo not-a-folder > /autograder/results && /autograder/run_autograder >/dev/null 2>&1; echo RESULTS; cat /autograder/results/results.json"
    options = [
        "--rm",
        "--network=none",
        *image.GRADESCOPE_LIMITS,
        f"--tmpfs=/tmp:rw,size={image.TMP_SIZE},mode=1777",
        "-v",
        f"{submission}:/autograder/submission:ro",
    ]
    completed = subprocess.run(
        ["docker", "run", *options, image_tag, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=image.RUN_SECONDS,
    )
    results = json.loads(completed.stdout.split("RESULTS", 1)[1])
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == FULL_MARKS


def test_a_results_folder_that_cannot_be_written_is_said_and_nothing_is_graded(image_tag, tmp_path):
    graded = grade(
        image_tag,
        tmp_path,
        {"homework.py": SUBMISSIONS / "correct_scalar.py"},
        read_only_results=True,
    )
    assert graded.run.returncode != 0
    assert "is not writable" in graded.log and "nothing was graded" in graded.log
    assert container.read_timing(graded.log) is None  # no student code ran


def test_nothing_survives_the_runs(image_tag):
    left = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"ancestor={image_tag}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert left.stdout.strip() == ""


def test_a_build_that_cannot_reach_a_package_index_names_the_step_and_the_reason(tmp_path):
    environment = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
    }
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
        environment.pop(name, None)
    with pytest.raises(image.ImageError) as refused:
        image.download_wheels(
            REPO / "requirements.lock",
            tmp_path / "wheels",
            log=lambda text: None,
            environ=environment,
        )
    assert refused.value.step == "downloading the wheels (pip download)"
    assert "torch" in refused.value.reason or "No matching distribution" in refused.value.reason, (
        refused.value.reason
    )


def test_a_build_missing_a_wheel_fails_at_its_step_and_tags_no_image(image_tag, tmp_path):
    """The wheels of a working build, less torch's: the install step fails, and no half-built image is left."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    downloaded = tmp_path / "all"
    image.download_wheels(REPO / "requirements.lock", downloaded, log=lambda text: None)
    for wheel in downloaded.iterdir():
        if not wheel.name.startswith("torch-"):
            shutil.copy(wheel, wheels)
    context = image.build_context(tmp_path / "build", SPEC, wheels=wheels, log=lambda text: None)
    tag = f"backprop-autograder:half-built-{os.getpid()}"
    (context / "a-file-of-this-build-alone.txt").write_text(
        str(tmp_path)
    )  # so its first step is made, not taken from a cache
    containers = ["docker", "ps", "-a", "-q"]
    images = ["docker", "images", "-a", "-q", "--no-trunc"]
    before = [
        set(subprocess.run(listing, capture_output=True, text=True).stdout.split())
        for listing in (containers, images)
    ]
    with pytest.raises(image.ImageError) as refused:
        image.build_image(context, tag, image.base_image(), log=lambda text: None)
    assert (
        refused.value.step.startswith("step ")
        and "RUN bash /autograder/source/setup.sh" in refused.value.step
    )
    assert "torch" in refused.value.reason, refused.value.reason
    assert not image.has_image(tag)
    assert [
        set(subprocess.run(listing, capture_output=True, text=True).stdout.split())
        for listing in (containers, images)
    ] == before  # no layer, no container


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course's own homework (tests/fixtures/assignments/linmse) from its folder outside the
    repository: its image, and what `grade` on this machine gives its examples."""
    home, env = course_assignment(tmp_path_factory.mktemp("course"))
    tag = _built_image(
        tmp_path_factory.mktemp("course-image"),
        f"linmse-autograder:test-{os.getpid()}",
        "linmse",
        env,
    )
    out = tmp_path_factory.mktemp("course-graded")
    completed = run_grader(
        "grade", "--assignment", "linmse", "--out", str(out), secret=TEST_SECRET, env=env
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    yield tag, home, out
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


COURSE_EXAMPLES = sorted(
    p.stem for p in (REPO / "tests/fixtures/assignments/linmse/examples").glob("*.py")
)


@pytest.mark.parametrize("example", COURSE_EXAMPLES)
def test_a_course_assignment_grades_in_its_container_as_grade_does(course, example, tmp_path):
    """Every check's score, status and named cause in the container are what `grade` gave."""
    tag, home, out = course
    results = assert_valid(grade(tag, tmp_path, {"linmse.py": home / "examples" / f"{example}.py"}))
    on_the_host = grading(out, example)
    assert results["score"] == on_the_host["score"]
    assert [
        (
            t["extra_data"]["check"],
            t["score"],
            t["extra_data"]["status"],
            t["extra_data"]["diagnoses"],
        )
        for t in results["tests"]
    ] == [
        (c["check"], c["score"], c["status"], [d["id"] for d in c["diagnoses"]])
        for c in on_the_host["checks"]
    ]
    assert sorted(results["extra_data"]["rule_violations"]) == sorted(
        r["rule"] for r in on_the_host["rules"] if r["status"] == "broken"
    )
    assert "hidden case" in json.dumps(results)  # the image's secret drew them


def test_a_third_submission_in_the_window_shows_no_hidden_verdicts_and_says_when_they_return(
    course, tmp_path
):
    """The course's spec shows hidden-case verdicts for 2 submissions in any 24 hours: with two
    earlier ones in submission_metadata.json (as Gradescope mounts it), every check that ran a
    hidden case waits for grades to be published, the message says when feedback returns,
    and the score is recorded in full; staff still get every test."""
    tag, home, out = course
    now = datetime.now(UTC)
    earlier = [now - timedelta(hours=hours) for hours in (2, 20)]
    metadata = tmp_path / "submission_metadata.json"
    metadata.write_text(
        json.dumps(
            {
                "id": 99,
                "created_at": now.isoformat(),
                "previous_submissions": [
                    {"submission_time": moment.isoformat(), "score": 2.0} for moment in earlier
                ],
            }
        )
    )
    graded = grade(
        tag,
        tmp_path / "third",
        {"linmse.py": home / "examples" / "gradient_of_sum.py"},
        options=("-v", f"{metadata}:/autograder/submission_metadata.json:ro"),
    )
    results = assert_valid(graded)
    on_the_host = grading(out, "gradient_of_sum")
    assert results["score"] == on_the_host["score"]  # recorded in full
    hidden = {c["check"] for c in on_the_host["checks"] if any(k["hidden"] for k in c["cases"])}
    assert hidden
    assert {t["extra_data"]["check"] for t in results["tests"]} == {
        c["check"] for c in on_the_host["checks"]
    }  # staff see every test
    assert all(
        (t["visibility"] == "after_published") == (t["extra_data"]["check"] in hidden)
        for t in results["tests"]
    )
    returns = (earlier[1] + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M UTC")
    assert returns in results["output"] and "when grades are published" in results["output"]
    assert "hidden feedback: held back" in graded.log

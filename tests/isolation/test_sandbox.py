"""Does every hostile submission get its verdict, and touch nothing else?

The corpus in tests/hostile/ (each file named by what it attempts; its docstring
states the verdict it must get) is graded in one run of the real CLI, mixed with
two correct submissions, under a test spec with small time limits and four
checks.  Around that run the tests snapshot a canary folder, the batch, the
reference and the secret, listen on 127.0.0.1, and look through /proc for
survivors.  A second, smaller run turns the network and mount namespaces off and
uses fresh interpreters, so the fallbacks an LMS container relies on (seccomp,
Landlock, the uid) are tested as well.

Layers this machine cannot provide are skipped with the probe's reason, never
silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.isolation.sandbox import SANDBOX_UIDS, SKIP_VARIABLE, probe_layers
from tests.conftest import REPO, SUBMISSIONS, write_spec

HOSTILE = REPO / "tests" / "hostile"
SECRET = "hostile-test-secret-7f3a9c"
KEPT_CHECKS = ("np-forward-output", "np-gradients", "np-one-step-loss", "torch-gradients")
LIMITS = {
    "load_seconds": 4,
    "call_seconds": 2,
    "submission_seconds": 15,
    "memory_mib": 1536,
    "output_kib": 64,
}
CORRECT = {
    "correct_first.py": SUBMISSIONS / "correct_scalar.py",
    "zz_correct_last.py": SUBMISSIONS / "correct_vectorised_float32.py",
}
# Part A computed with the real PyTorch, reached outside the recorded call or by its path
PART_A_WITH_TORCH = (
    "autograd_in_a_thread_started_at_import.py",
    "imports_the_real_torch_in_a_worker_forked_at_import.py",
    "imports_the_real_torch_inside_a_numpy_call.py",
)
ATTACKS = (
    "infinite_loop_at_import.py",
    "memory_hog.py",
    "fork_storm_at_import.py",
    "reads_grader_files.py",
    "monkeypatches_comparisons.py",
    "forges_results_then_exits.py",
    "sys_exit_at_import.py",
    "kills_itself_at_import.py",
    "ends_only_the_process_without_torch_while_it_loads.py",
    "html_and_markup_in_output_and_errors.py",
    "floods_output.py",
    "connects_to_localhost.py",
    "writes_outside_and_deletes_siblings.py",
    "returns_nan_inf_wrong_shapes_and_types.py",
    "syntax_error_on_line_3.py",
    "notebook_not_json.ipynb",
    "kills_its_parent.py",
    "ignores_sigterm_and_hangs_in_a_call.py",
    "leaves_thread_running.py",
    "segfaults_in_a_call.py",
    "zip_slip.zip",
    "zip_bomb.zip",
    "source_in_gbk.py",
    "changes_arguments_in_place.py",
    "daemonizes_and_survives.py",
    "stops_itself_in_its_group_beside_a_sibling_that_left_it.py",
    "huge_but_finite_loss_curve.py",
    "named_like_grades_csv.py",
    "named_like_index_html.py",
    "named_like_the_similar_page.py",
    "links_out_of_the_submissions_folder.py",
    "writes_16mib_of_empty_lists_on_the_result_channel.py",
    "floods_the_result_channel_with_well_formed_lines.py",
    "sends_a_401_digit_integer_as_seconds.py",
    "deeply_nested_answer.py",
    "answers_1mib_per_call.py",
    "notebook_cell_source_is_a_number.ipynb",
    "zip_holds_a_file_and_a_folder_of_the_same_name.zip",
    "leaves_sysv_shared_memory_for_the_next_student.py",
    "reads_sysv_segments_of_earlier_students.py",
    "pins_gigabytes_in_sysv_segments.py",
    "squats_the_sandbox_uid_claims.py",
    "fills_the_disk_in_its_folder.py",
    "returns_two_64_dimensional_arrays.py",
    "answer_holds_a_lone_surrogate.ipynb",
    "named_like_correct_first_with_an_escape.py",
    "named_in_bytes_that_are_not_utf8.py",
    "forges_a_clean_record_then_returns.py",
    "reads_every_calls_inputs_while_it_loads.py",
    *PART_A_WITH_TORCH,
)
SAVED_AS = {
    "named_like_grades_csv.py": "grades.csv.py",  # ids of the grader's own files
    "named_like_index_html.py": "index.html.py",
    "named_like_the_similar_page.py": "similar.html.py",
    "named_like_correct_first_with_an_escape.py": "correct_first\x1b.py",  # names that do not show
    "named_in_bytes_that_are_not_utf8.py": os.fsdecode(b"not_utf8_\xff\xfe.py"),
}
RENAMED = {
    "named_like_grades_csv": "grades.csv-2",
    "named_like_index_html": "index.html-2",
    "named_like_the_similar_page": "similar.html-2",
}
ESCAPED = {  # names that do not show: ids with those characters written as escapes
    "named_like_correct_first_with_an_escape": "correct_first\\x1b",
    "named_in_bytes_that_are_not_utf8": "not_utf8_\\xff\\xfe",
}
LINKS = ("links_out_of_the_submissions_folder.py",)  # made links at test time, never graded


# ------------------------------------------------------------------ the run's surroundings


def small_spec(folder: Path) -> Path:
    """reference/backprop/assignment.toml with small limits, one hidden case and four checks."""
    return write_spec(folder, KEPT_CHECKS, LIMITS)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder below `folder`, with its mode and a hash of its content."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        mode = oct(path.lstat().st_mode)
        found[key] = mode + (
            ":" + hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        )
    return found


class Listener:
    """TCP and UDP on one port of 127.0.0.1; remembers whatever arrives."""

    def __init__(self):
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.tcp, selectors.EVENT_READ)
        selector.register(self.udp, selectors.EVENT_READ)
        while not self._stop.is_set():
            for key, _ in selector.select(timeout=0.2):
                if key.fileobj is self.tcp:
                    connection, address = self.tcp.accept()
                    self.received.append(f"tcp connection from {address}")
                    connection.close()
                else:
                    data, address = self.udp.recvfrom(65536)
                    self.received.append(f"udp {data!r} from {address}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.tcp.close()
        self.udp.close()


def grade(*arguments: str, skip: str = "") -> subprocess.CompletedProcess:
    """`python -m grader ARGS` with the test's secret in the environment too (it must not leak from there either)."""
    environment = {k: v for k, v in os.environ.items() if k != SKIP_VARIABLE}
    environment.update(
        {"GRADER_SECRET": SECRET, "COLUMNS": "200"}, **({SKIP_VARIABLE: skip} if skip else {})
    )
    return subprocess.run(
        [sys.executable, "-c", MEASURED_GRADER, *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


# `python -m grader`, which says its own peak resident size when it exits
MEASURED_GRADER = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: print('grader-peak-rss-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
    "sys.argv = ['grader', *sys.argv[1:]]\n"
    "runpy.run_module('grader', run_name='__main__', alter_sys=True)\n"
)


def peak_mib(completed: subprocess.CompletedProcess) -> float:
    return int(completed.stderr.rsplit("grader-peak-rss-kib", 1)[1].split()[0]) / 1024


def _process_table() -> dict[int, tuple[int, int, str, bool]]:
    """pid -> (parent, real uid, command line, zombie)."""
    table = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{name}/status").read_text()
            command = (
                Path(f"/proc/{name}/cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
                .strip()
            )
        except OSError:
            continue
        parent = int(re.search(r"(?m)^PPid:\s+(\d+)", status).group(1))
        uid = int(re.search(r"(?m)^Uid:\s+(\d+)", status).group(1))
        table[int(name)] = (parent, uid, command, re.search(r"(?m)^State:\s+Z", status) is not None)
    return table


def survivors(marker: str) -> list[str]:
    """Live processes left by this run: the daemon's (named after the run), and any
    sandbox-uid process no running grader owns (graders of other runs may be busy)."""
    table = _process_table()

    def owned_by_a_running_grader(pid: int) -> bool:
        while pid in table and pid > 1:
            pid = table[pid][0]
            command = table.get(pid, (0, 0, "", False))[2]
            if "-m grader" in command or "forkserver.py" in command:
                return True
        return False

    busy = others_uids()
    return [
        f"{pid} uid {uid}: {command}"
        for pid, (parent, uid, command, zombie) in table.items()
        if not zombie
        and (
            marker in command
            or (uid in SANDBOX_UIDS and uid not in busy and not owned_by_a_running_grader(pid))
        )
    ]


def others_uids() -> set[int]:
    """Sandbox uids another grader on this machine holds (a class graded beside the tests): what
    they hold is a running submission's, not something this run left."""
    from grader.isolation.sandbox import uids_in_use

    return uids_in_use()


def left_by_this_run() -> tuple[list, list]:
    """SysV objects and shared temporary files of sandbox uids no grader holds, seen in two looks
    a moment apart (another grader's submission may start or end between them)."""
    from grader.isolation.sandbox import ipc_objects, leftovers

    def look():
        free = set(SANDBOX_UIDS) - others_uids()
        return set(ipc_objects(free)), set(leftovers(free))

    first = look()
    if first == (set(), set()):
        return [], []
    time.sleep(2)
    second = look()
    return sorted(first[0] & second[0]), sorted(first[1] & second[1])


def install(names, batch: Path, targets: list[str], listener: Listener, canary: Path) -> None:
    """Copy corpus files into the batch, writing this run's paths and port where they ask for them."""
    for name in names:
        source = HOSTILE / name
        if (
            name in LINKS
        ):  # to the secret file and to the reference folder (targets[3] and targets[1])
            (batch / name).symlink_to(targets[3])
            (batch / Path(name).stem).symlink_to(targets[1], target_is_directory=True)
            continue
        if source.suffix != ".py":
            shutil.copy(source, batch / name)
            continue
        data = source.read_bytes()
        data = data.replace(b"TARGETS: list = []", f"TARGETS: list = {targets!r}".encode(), 1)
        data = data.replace(b"PORT = 0", f"PORT = {listener.port}".encode(), 1)
        data = data.replace(b'CANARY = ""', f"CANARY = {str(canary)!r}".encode(), 1)
        data = data.replace(b'SUBMISSIONS = ""', f"SUBMISSIONS = {str(batch)!r}".encode(), 1)
        data = data.replace(b'MARKER = ""', f"MARKER = {str(batch.parent)!r}".encode(), 1)
        (batch / SAVED_AS.get(name, name)).write_bytes(data)
    for name, source in CORRECT.items():
        shutil.copy(source, batch / name)


class Run:
    """One graded batch and everything observed around it."""

    def __init__(self, root: Path, names, environment_skip: str = "", fresh: bool = False):
        self.root = root
        self.batch, self.out, self.canary, self.private = (
            root / "batch",
            root / "out",
            root / "canary",
            root / "instructor",
        )
        for folder in (self.batch, self.canary, self.private):
            folder.mkdir()
        (self.canary / "grades-2023.csv").write_text("alice,41\nbob,40\n")
        (self.canary / "nested").mkdir()
        (self.canary / "nested" / "notes.md").write_text("keep me")
        self.spec = small_spec(self.private)
        self.secret_file = self.private / "secret.txt"
        self.secret_file.write_text(SECRET)
        self.targets = [
            str(REPO / "reference" / "network.py"),
            str(REPO / "reference"),
            str(self.spec),
            str(self.secret_file),
            str(self.batch / "correct_first.py"),
            str(self.batch),
            str(self.out),
            str(self.canary / "grades-2023.csv"),
        ]
        self.listener = Listener()
        try:
            install(names, self.batch, self.targets, self.listener, self.canary)
            before = {
                folder: snapshot(folder)
                for folder in (self.canary, self.batch, self.private, REPO / "reference")
            }
            arguments = [
                "grade",
                str(self.batch),
                "--out",
                str(self.out),
                "--spec",
                str(self.spec),
                "--secret-file",
                str(self.secret_file),
                "--no-cache",
            ]
            if fresh:
                arguments.append("--fresh-interpreters")
            self.completed = grade(*arguments, skip=environment_skip)
            self.changed = {
                str(folder): _difference(before[folder], snapshot(folder)) for folder in before
            }
            self.changed = {folder: change for folder, change in self.changed.items() if change}
            self.survivors = survivors(f"sleep-{self.root}")
        finally:
            self.listener.close()

    def results(self, submission_id: str) -> dict:
        return json.loads((self.out / submission_id / "results.json").read_text())

    def grading(self, submission_id: str) -> dict:
        return json.loads((self.out / submission_id / "grading.json").read_text())

    def checks(self, submission_id: str) -> dict[str, dict]:
        return {check["check"]: check for check in self.grading(submission_id)["checks"]}


def _difference(before: dict, after: dict) -> list[str]:
    return sorted(
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in set(before) | set(after)
        if before.get(key) != after.get(key)
    )


@pytest.fixture(scope="module")
def layers():
    return probe_layers()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Run:
    return Run(tmp_path_factory.mktemp("hostile"), ATTACKS)


@pytest.fixture(scope="module")
def netns_run(tmp_path_factory, layers) -> Run:
    require(layers, "netns")
    return Run(
        tmp_path_factory.mktemp("netns"),
        ("connects_to_localhost.py",),
        environment_skip="seccomp,landlock",
    )


@pytest.fixture(scope="module")
def fallback_run(tmp_path_factory, layers) -> Run:
    """No network or mount namespace (as in most LMS containers), fresh interpreters."""
    needed = [layer for layer in ("uid-drop", "seccomp", "landlock") if layer not in layers.layers]
    if needed:
        pytest.skip(f"the fallback layers are not available here: {dict(layers.missing)}")
    names = (
        "connects_to_localhost.py",
        "reads_grader_files.py",
        "writes_outside_and_deletes_siblings.py",
        "kills_its_parent.py",
        *FALLBACK_ATTACKS,
    )
    return Run(
        tmp_path_factory.mktemp("fallback"),
        names,
        environment_skip="netns,ipcns,private-root",
        fresh=True,
    )


def require(layers, *names):
    for name in names:
        if name not in layers.layers:
            pytest.skip(
                f"layer {name} is not available here: {dict(layers.missing).get(name, 'not probed')}"
            )


def require_any(layers, *names):
    """At least one of the layers that defend against this must be there."""
    if not any(name in layers.layers for name in names):
        pytest.skip("none of " + ", ".join(names) + f" is available here: {dict(layers.missing)}")


FILE_LAYERS = ("private-root", "landlock", "uid-drop")
NETWORK_LAYERS = ("netns", "seccomp", "landlock")
SIGNAL_LAYERS = ("uid-drop", "seccomp", "landlock")


# ------------------------------------------------------------------ the batch as a whole


def test_the_batch_completes_with_exit_code_zero_and_every_submission_graded(hostile_run):
    assert hostile_run.completed.returncode == 0, hostile_run.completed.stderr[-3000:]
    graded = {p.name for p in hostile_run.out.iterdir() if p.is_dir()}
    assert graded == {
        {**RENAMED, **ESCAPED}.get(Path(name).stem, Path(name).stem)
        for name in (*ATTACKS, *CORRECT)
        if name not in LINKS
    }
    assert (hostile_run.out / "grades.csv").is_file() and (hostile_run.out / "index.html").is_file()


def test_the_graders_own_memory_stays_under_a_gibibyte_through_the_whole_batch(
    hostile_run, fallback_run
):
    """Answers too large, too deep, too many; memory hogs, fork storms, floods: the grader's own peak."""
    for run in (hostile_run, fallback_run):
        assert peak_mib(run.completed) < 1024, peak_mib(run.completed)


def test_the_run_says_which_sandbox_layers_are_active(hostile_run, layers):
    line = next(
        line for line in hostile_run.completed.stdout.splitlines() if line.startswith("sandbox: ")
    )
    for layer in layers.layers:
        assert layer in line
    for layer, reason in layers.missing:
        print(f"layer {layer} not available here: {reason}")


def test_correct_submissions_in_the_batch_are_graded_exactly_as_alone(hostile_run, tmp_path):
    """Is a correct submission graded the same next to twenty hostile ones as on its own?"""
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(CORRECT["correct_first.py"], alone / "correct_first.py")
    out = tmp_path / "out"
    completed = grade(
        "grade",
        str(alone),
        "--out",
        str(out),
        "--spec",
        str(hostile_run.spec),
        "--secret-file",
        str(hostile_run.secret_file),
        "--no-cache",
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    solo = json.loads((out / "correct_first" / "results.json").read_text())
    in_batch = hostile_run.results("correct_first")
    for result in (solo, in_batch):
        result.pop("execution_time", None)
    assert in_batch == solo
    for submission_id in ("correct_first", "zz_correct_last"):
        result = hostile_run.results(submission_id)
        assert result["score"] == result["extra_data"]["max_score"] > 0


def test_no_file_outside_the_sandbox_changes(hostile_run, layers):
    """The canary folder, the batch (other submissions), the spec and secret, the reference, /tmp."""
    require_any(layers, *FILE_LAYERS)
    assert hostile_run.changed == {}
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not Path(folder, "written-by-a-submission.txt").exists()
    assert not list(hostile_run.root.rglob("written-by-a-submission.txt"))
    assert not list(hostile_run.root.rglob("escaped_by_zip_slip*"))


def test_no_process_of_a_submission_survives(hostile_run):
    assert hostile_run.survivors == []


def test_nothing_reaches_a_listener_on_localhost(hostile_run, layers):
    require_any(layers, *NETWORK_LAYERS)
    assert hostile_run.listener.received == []


def test_the_secret_appears_in_no_report(hostile_run, layers):
    require_any(layers, *FILE_LAYERS)
    for path in hostile_run.out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


# ------------------------------------------------------------------ each attack's verdict


def statuses(run: Run, submission_id: str) -> dict[str, str]:
    return {check: result["status"] for check, result in run.checks(submission_id).items()}


def messages(run: Run, submission_id: str, check: str) -> str:
    result = run.checks(submission_id)[check]
    return " | ".join(
        [result["message"]]
        + [case["message"] for case in result["cases"]]
        + [note for case in result["cases"] for note in case["notes"]]
    )


def test_an_infinite_loop_at_import_times_out_loading(hostile_run):
    grading = hostile_run.grading("infinite_loop_at_import")
    assert (
        grading["load"]["status"] == "timeout"
        and "did not finish within" in grading["load"]["message"]
    )
    assert set(statuses(hostile_run, "infinite_loop_at_import").values()) == {"timeout"}


def test_a_memory_hog_gets_memory_error_and_the_rest_is_graded(hostile_run):
    assert "the import's allocation was refused" in hostile_run.grading("memory_hog")["stdout"]
    assert statuses(hostile_run, "memory_hog")["np-forward-output"] == "passed"
    assert "MemoryError" in messages(hostile_run, "memory_hog", "np-gradients")
    assert "beyond what Python, NumPy and PyTorch hold (the spec's memory_mib)" in messages(
        hostile_run, "memory_hog", "np-gradients"
    )


def test_a_fork_storm_times_out_and_leaves_nothing(hostile_run, layers):
    require(layers, "uid-drop")  # RLIMIT_NPROC binds only below root
    grading = hostile_run.grading("fork_storm_at_import")
    assert grading["load"]["status"] == "timeout" and grading["score"] == 0
    assert "left running were killed" in grading["stderr"]


def test_reading_the_graders_files_finds_nothing(hostile_run, layers):
    require(layers, "private-root")
    stdout = hostile_run.grading("reads_grader_files")["stdout"]
    assert "LEAKED" not in stdout
    for target in hostile_run.targets:
        assert f"denied {target}:" in stdout
    assert statuses(hostile_run, "reads_grader_files")["np-forward-output"] == "passed"


def test_monkeypatched_comparisons_do_not_reach_the_grader(hostile_run):
    assert hostile_run.results("monkeypatches_comparisons")["score"] == 0
    assert "passed" not in statuses(hostile_run, "monkeypatches_comparisons").values()


def test_forged_results_on_stdout_files_and_the_channel_score_nothing(hostile_run):
    grading = hostile_run.grading("forges_results_then_exits")
    assert grading["score"] == 0 and grading["load"]["status"] == "crash"
    assert "not a result" in grading["load"]["message"]


def test_sys_exit_at_import_is_a_loading_problem_and_earlier_functions_count(hostile_run):
    grading = hostile_run.grading("sys_exit_at_import")
    assert [p["type"] for p in grading["load"]["problems"]] == ["SystemExit"]
    found = statuses(hostile_run, "sys_exit_at_import")
    assert found["np-forward-output"] == "passed" and found["np-gradients"] != "passed"


def test_a_kill_of_its_own_at_import_is_the_submission_s_crash_not_the_machine_s(hostile_run):
    """Is a file that SIGKILLs itself while loading a loading crash of its own, started once only?"""
    grading = hostile_run.grading("kills_itself_at_import")
    assert grading["load"]["status"] == "crash", grading["load"]
    assert "killed by SIGKILL, not by the grader" in grading["load"]["message"]
    assert (
        "could not start" not in grading["load"]["message"]
        and "made again" not in grading["stderr"]
    )
    assert "passed" not in statuses(hostile_run, "kills_itself_at_import").values()


def test_a_loading_crash_where_torch_is_a_stand_in_is_the_load_s_not_a_free_form_hand_in(
    hostile_run,
):
    """A file that ends only the process making the NumPy calls while it loads: that process never
    said which functions it found, so the run is not one that defines none of them (free-form)."""
    name = "ends_only_the_process_without_torch_while_it_loads"
    grading = hostile_run.grading(name)
    assert grading["load"]["status"] == "crash", grading["load"]
    assert "killed by SIGKILL, not by the grader" in grading["load"]["message"]
    assert "without PyTorch" in grading["load"]["message"]
    assert {check["mode"] for check in grading["checks"]} == {"template"}
    assert "passed" not in statuses(hostile_run, name).values()


def test_html_and_markup_stay_plain_text(hostile_run):
    grading = hostile_run.grading("html_and_markup_in_output_and_errors")
    assert "<script>alert('stdout')</script> [bold red]not markup[/bold red]" in grading["stdout"]
    assert "<img src=x onerror=alert('stderr')>" in grading["stderr"]
    assert "<script>alert('error')</script>[red]boom[/red]" in messages(
        hostile_run, "html_and_markup_in_output_and_errors", "np-forward-output"
    )
    for page in (hostile_run.out / "html_and_markup_in_output_and_errors").glob("*.html"):
        text = page.read_text()
        assert "<script>alert(" not in text and "<img src=x onerror" not in text, page


def test_100_mb_of_output_is_cut_and_the_functions_graded(hostile_run):
    grading = hostile_run.grading("floods_output")
    for stream in ("stdout", "stderr"):
        assert (
            len(grading[stream]) < LIMITS["output_kib"] * 1024 + 200
            and "more bytes not kept" in grading[stream]
        )
    assert statuses(hostile_run, "floods_output")["np-forward-output"] == "passed"


def test_a_connection_to_localhost_is_refused_and_the_call_still_graded(hostile_run, layers):
    require_any(layers, *NETWORK_LAYERS)
    stdout = hostile_run.grading("connects_to_localhost")["stdout"]
    assert "at import: tcp refused" in stdout and "in a call: tcp refused" in stdout
    assert " sent" not in stdout
    assert statuses(hostile_run, "connects_to_localhost")["np-forward-output"] == "passed"


def test_the_network_namespace_alone_keeps_localhost_out_of_reach(netns_run):
    """seccomp and Landlock off: does the empty network namespace on its own stop TCP and UDP?"""
    assert netns_run.completed.returncode == 0, netns_run.completed.stderr[-3000:]
    assert netns_run.listener.received == []
    stdout = netns_run.grading("connects_to_localhost")["stdout"]
    assert (
        "raw tcp refused: OSError" in stdout and "udp refused: OSError" in stdout
    )  # ENETUNREACH, not EACCES
    assert " sent" not in stdout


def test_writing_outside_and_deleting_siblings_changes_nothing(hostile_run, layers):
    require_any(layers, *FILE_LAYERS)
    assert (
        statuses(hostile_run, "writes_outside_and_deletes_siblings")["np-forward-output"]
        == "passed"
    )
    assert (
        str(hostile_run.canary) not in hostile_run.changed
        and str(hostile_run.batch) not in hostile_run.changed
    )


def test_nan_inf_wrong_shapes_and_types_fail_with_a_reason(hostile_run):
    submission = "returns_nan_inf_wrong_shapes_and_types"
    assert {
        statuses(hostile_run, submission)[c]
        for c in ("np-forward-output", "np-gradients", "np-one-step-loss")
    } == {"failed"}
    assert "not finite" in messages(hostile_run, submission, "np-forward-output")
    assert "shape (4,)" in messages(hostile_run, submission, "np-gradients")
    assert "where numbers belong" in messages(hostile_run, submission, "np-one-step-loss")


def test_a_syntax_error_is_reported_with_its_line(hostile_run):
    grading = hostile_run.grading("syntax_error_on_line_3")
    [problem] = grading["load"]["problems"]
    assert (
        problem["type"] == "SyntaxError" and "line 3" in problem["where"] and grading["score"] == 0
    )


def test_a_notebook_that_is_not_json_gets_a_message(hostile_run):
    grading = hostile_run.grading("notebook_not_json")
    assert grading["score"] == 0 and grading["load"]["status"] == "empty"
    assert "not a valid notebook" in grading["load"]["message"]


def test_killing_the_parent_fails_and_the_grader_lives_on(hostile_run, layers):
    require_any(layers, *SIGNAL_LAYERS)
    stdout = hostile_run.grading("kills_its_parent")["stdout"]
    assert "signalled" not in stdout and "killed " not in stdout and "opened a pidfd" not in stdout
    assert statuses(hostile_run, "kills_its_parent")["np-forward-output"] == "passed"
    assert hostile_run.completed.returncode == 0


def test_ignoring_sigterm_while_hanging_is_a_timeout(hostile_run):
    found = statuses(hostile_run, "ignores_sigterm_and_hangs_in_a_call")
    assert found["np-gradients"] == "timeout" and found["np-forward-output"] == "passed"


def test_a_thread_left_running_does_not_stop_the_grading(hostile_run):
    assert statuses(hostile_run, "leaves_thread_running")["np-forward-output"] == "passed"


def test_a_segfault_in_a_call_costs_that_call_only(hostile_run):
    found = statuses(hostile_run, "segfaults_in_a_call")
    assert found["np-gradients"] == "error" and "segmentation fault" in messages(
        hostile_run, "segfaults_in_a_call", "np-gradients"
    )
    assert found["np-forward-output"] == "passed"


def test_zip_slip_is_refused_whole(hostile_run):
    grading = hostile_run.grading("zip_slip")
    assert grading["score"] == 0 and any(
        "points outside its folder" in p for p in grading["problems"]
    )


def test_a_zip_bomb_is_cut_and_the_rest_graded(hostile_run):
    grading = hostile_run.grading("zip_bomb")
    assert any("larger than" in p for p in grading["problems"])
    assert grading["score"] == grading["max_score"] > 0


def test_source_in_gbk_is_graded_like_utf8(hostile_run):
    found = statuses(hostile_run, "source_in_gbk")
    assert {found[c] for c in ("np-forward-output", "np-gradients", "np-one-step-loss")} == {
        "passed"
    }


def test_changing_arguments_in_place_is_noted(hostile_run):
    assert statuses(hostile_run, "changes_arguments_in_place")["np-gradients"] == "passed"
    assert "changed its argument w in place" in messages(
        hostile_run, "changes_arguments_in_place", "np-gradients"
    )


def test_a_daemon_is_found_and_killed(hostile_run):
    grading = hostile_run.grading("daemonizes_and_survives")
    assert "left running were killed" in grading["stderr"]
    assert statuses(hostile_run, "daemonizes_and_survives")["np-forward-output"] == "passed"


def test_a_process_that_looks_frozen_does_not_end_the_sweep_early(hostile_run):
    name = "stops_itself_in_its_group_beside_a_sibling_that_left_it"
    assert "left running were killed" in hostile_run.grading(name)["stderr"]
    assert statuses(hostile_run, name)["np-forward-output"] == "passed"


def test_a_huge_but_finite_loss_curve_is_graded_and_drawn(hostile_run):
    found = statuses(hostile_run, "huge_but_finite_loss_curve")
    assert (
        found["np-forward-output"] == found["np-gradients"] == "passed"
        and found["np-one-step-loss"] == "failed"
    )
    page = (hostile_run.out / "huge_but_finite_loss_curve" / "report.html").read_text()
    assert "could not draw" not in page and "<h1" in page


def test_ids_named_like_the_class_outputs_are_renamed_and_announced(hostile_run):
    for name, renamed in RENAMED.items():
        assert statuses(hostile_run, renamed)["np-forward-output"] == "passed"
        assert f"{SAVED_AS[name + '.py']} is graded as {renamed}" in " ".join(
            hostile_run.completed.stdout.split()
        )
    rows = (hostile_run.out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("id,") and {row.split(",")[0] for row in rows[1:]} >= set(
        RENAMED.values()
    )
    assert 'id="renamed"' in (hostile_run.out / "index.html").read_text()
    assert "Shared wrong answers" in (hostile_run.out / "similar.html").read_text()


def test_ids_that_would_display_alike_stay_distinct_everywhere(hostile_run):
    """Expected verdicts of tests/hostile/named_like_correct_first_with_an_escape.py and
    named_in_bytes_that_are_not_utf8.py: their own ids, escaped, in every class output."""
    import sqlite3

    stdout = " ".join(hostile_run.completed.stdout.split())
    for shown in ESCAPED.values():
        result = hostile_run.results(shown)
        assert result["score"] == result["extra_data"]["max_score"] > 0
        assert f"{shown}.py is graded as {shown}: its name holds characters that do not show" in (
            stdout
        )
        assert hostile_run.grading(shown)["submission"]["renaming"]
    rows = (hostile_run.out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
    ids = [row.split(",")[0] for row in rows[1:]]
    assert len(ids) == len(set(ids)) and {"correct_first", *ESCAPED.values()} <= set(ids)
    with sqlite3.connect(hostile_run.out / "gradebook.sqlite") as book:
        names = [row[0] for row in book.execute("SELECT name FROM students")]
    assert len(names) == len(set(names)) and {"correct_first", *ESCAPED.values()} <= set(names)


def test_a_lone_surrogate_in_an_answer_is_stored_and_shown_as_its_escape(hostile_run):
    """Expected verdict of tests/hostile/answer_holds_a_lone_surrogate.ipynb."""
    import sqlite3

    result = hostile_run.results("answer_holds_a_lone_surrogate")
    assert result["score"] == result["extra_data"]["max_score"] > 0
    with sqlite3.connect(hostile_run.out / "gradebook.sqlite") as book:
        [answer] = book.execute(
            "SELECT text FROM answers JOIN students ON students.id = answers.student_id"
            " WHERE students.name = 'answer_holds_a_lone_surrogate'"
        ).fetchall()
    assert answer[0] == "The loss falls \\ud800 quickly at first."
    page = (hostile_run.out / "answer_holds_a_lone_surrogate" / "report.html").read_text()
    assert "falls \\ud800 quickly" in page


def test_arrays_of_64_dimensions_are_their_calls_verdicts(hostile_run):
    """Expected verdict of tests/hostile/returns_two_64_dimensional_arrays.py."""
    grading = hostile_run.grading("returns_two_64_dimensional_arrays")
    assert grading["problems"] == []
    for check in grading["checks"]:
        if check["check"] != "torch-gradients":
            assert check["status"] == "failed", check
            assert "64 dimensions where numbers belong" in check["message"], check
    assert "grader failed" not in json.dumps(grading)


def test_a_forged_clean_record_before_the_real_one_makes_the_call_tampered(hostile_run):
    """Expected verdict of tests/hostile/forges_a_clean_record_then_returns.py."""
    checks = hostile_run.checks("forges_a_clean_record_then_returns")
    assert checks["np-forward-output"]["status"] == "passed"
    gradients = checks["np-gradients"]
    assert gradients["score"] == 0 and "sent a second answer" in json.dumps(gradients)


def test_no_calls_inputs_are_in_the_process_while_the_file_loads(hostile_run):
    """Expected verdict of tests/hostile/reads_every_calls_inputs_while_it_loads.py: each call's
    inputs, the hidden case's among them, come only at its turn, so none is found at import."""
    grading = hostile_run.grading("reads_every_calls_inputs_while_it_loads")
    assert grading["score"] == 0
    checks = {check["check"]: json.dumps(check) for check in grading["checks"]}
    for check in ("np-forward-output", "np-gradients", "torch-gradients"):
        assert "were not in the process while the file loaded" in checks[check], check
    assert not any("found at import" in text for text in checks.values())


@pytest.mark.parametrize("name", [Path(n).stem for n in PART_A_WITH_TORCH])
@pytest.mark.parametrize("run", ["hostile_run", "fallback_run"])
def test_part_a_reaching_for_torch_outside_the_call_or_by_its_path_gets_no_part_a_points(
    request, run, name
):
    """Expected verdicts of the hand-ins that compute Part A's gradients with the real PyTorch:
    in a thread or a forked worker started while the file loads, or by importing torch again
    inside the call.  Part A's calls run in a process without PyTorch, whose folders it cannot
    read (namespaces on, warm workers; and namespaces off, fresh interpreters, Landlock alone)."""
    graded = request.getfixturevalue(run)
    checks = graded.checks(name)
    assert checks["np-gradients"]["score"] == 0, checks["np-gradients"]
    assert checks["np-one-step-loss"]["score"] == 0, checks["np-one-step-loss"]
    assert checks["np-forward-output"]["status"] == "passed", checks["np-forward-output"]
    assert checks["torch-gradients"]["status"] == "passed", checks["torch-gradients"]
    if name == "autograd_in_a_thread_started_at_import":  # the stand-in's own words
        assert "no-torch-in-numpy-part" in json.dumps(checks["np-gradients"])
    assert "TorchLoaded" not in json.dumps(checks)  # no torch library was ever mapped there


def test_links_out_of_the_submissions_folder_are_skipped_unread(hostile_run):
    stdout = " ".join(hostile_run.completed.stdout.split())
    for name in LINKS:
        for entry in (name, Path(name).stem):
            assert f"skipped {entry}: a symbolic link" in stdout
            assert not (hostile_run.out / Path(entry).stem).exists()
    for path in hostile_run.out.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_answers_over_the_channels_bounds_are_their_calls_verdicts(hostile_run):
    """Too large, too deep, a number no float holds, more than the submission's budget:
    each is the verdict of the call it came in, and the submission goes on."""
    reasons = {
        "writes_16mib_of_empty_lists_on_the_result_channel": "the answer was too large: more than",
        "sends_a_401_digit_integer_as_seconds": "the answer holds a number of 401 characters",
        "deeply_nested_answer": "the answer is nested too deeply",
        "floods_the_result_channel_with_well_formed_lines": "values on the grader's result channel",
    }
    for submission, reason in reasons.items():
        found = statuses(hostile_run, submission)
        assert found["np-forward-output"] == "passed" and found["np-gradients"] == "error", (
            submission
        )
        assert reason in messages(hostile_run, submission, "np-gradients"), submission
    assert "not called: the submission's processes sent more than" in messages(
        hostile_run, "floods_the_result_channel_with_well_formed_lines", "np-one-step-loss"
    )
    assert "was too large" in messages(
        hostile_run, "writes_16mib_of_empty_lists_on_the_result_channel", "torch-gradients"
    )


def test_answers_of_1_mib_are_read_and_compared(hostile_run):
    assert set(statuses(hostile_run, "answers_1mib_per_call").values()) == {"failed"}
    assert "shape (45000,)" in messages(hostile_run, "answers_1mib_per_call", "np-gradients")


def test_a_notebook_cell_whose_source_is_a_number_is_a_load_error(hostile_run):
    grading = hostile_run.grading("notebook_cell_source_is_a_number")
    assert grading["score"] == 0 and grading["load"]["status"] == "empty"
    assert (
        "not a valid notebook (cell 3: its source is a number, not text)"
        in grading["load"]["message"]
    )


def test_a_zip_holding_a_file_and_a_folder_of_one_name_is_a_load_error(hostile_run):
    grading = hostile_run.grading("zip_holds_a_file_and_a_folder_of_the_same_name")
    assert (
        grading["score"] == 0
        and "a.py is in the submission both as a file and as a folder" in grading["load"]["message"]
    )
    assert "grader failed" not in json.dumps(grading)


# ------------------------------------------------------------------ the fallbacks of an LMS container


def test_without_namespaces_seccomp_and_landlock_still_hold(fallback_run):
    """Network and mount namespaces off, fresh interpreters: is nothing reached, read or changed?"""
    assert fallback_run.completed.returncode == 0, fallback_run.completed.stderr[-3000:]
    line = next(
        line for line in fallback_run.completed.stdout.splitlines() if line.startswith("sandbox: ")
    )
    assert "netns (turned off" in line and "seccomp" in line.split(";")[0]
    assert fallback_run.listener.received == []
    stdout = fallback_run.grading("connects_to_localhost")["stdout"]
    assert (
        "raw tcp refused: PermissionError" in stdout
        and "udp refused: PermissionError" in stdout
        and " sent" not in stdout
    )
    stdout = fallback_run.grading("reads_grader_files")["stdout"]
    assert "LEAKED" not in stdout and all(
        f"denied {target}:" in stdout for target in fallback_run.targets
    )
    assert fallback_run.changed == {} and fallback_run.survivors == []
    for submission_id in (
        "connects_to_localhost",
        "reads_grader_files",
        "writes_outside_and_deletes_siblings",
        "kills_its_parent",
    ):
        assert statuses(fallback_run, submission_id)["np-forward-output"] == "passed", submission_id
    result = fallback_run.results("correct_first")
    assert result["score"] == result["extra_data"]["max_score"] > 0


# ------------------------------------------------------------------ IPC, the uid claims and the disk, in every mode

FALLBACK_ATTACKS = (
    *PART_A_WITH_TORCH,
    "leaves_sysv_shared_memory_for_the_next_student.py",
    "reads_sysv_segments_of_earlier_students.py",
    "pins_gigabytes_in_sysv_segments.py",
    "squats_the_sandbox_uid_claims.py",
    "fills_the_disk_in_its_folder.py",
)
PLANTED_KEY = 0x5EED0001  # the key the hostile files use
PLANTED_TEXT = b"another submission's solution"
IPC_LAYERS = ("ipcns", "seccomp")


@pytest.fixture(scope="module", autouse=True)
def planted_segment():
    """A 0666 segment under the hostile files' key, as an earlier student (or anyone) might have
    left it: there is something to find.  Autouse, so it exists before the module's runs."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    segment = libc.shmget(PLANTED_KEY, 4096, 0o1000 | 0o2000 | 0o666)  # IPC_CREAT | IPC_EXCL
    if segment == -1:
        pytest.skip(f"cannot plant a SysV segment here: {os.strerror(ctypes.get_errno())}")
    address = libc.shmat(segment, None, 0)
    ctypes.memmove(address, PLANTED_TEXT, len(PLANTED_TEXT))
    libc.shmdt(ctypes.c_void_p(address))
    yield segment
    libc.shmctl(segment, 0, None)  # IPC_RMID


def attack_stdout(run: Run, submission_id: str) -> str:
    return run.grading(submission_id)["stdout"]


def test_sysv_and_message_queue_objects_cannot_be_left_behind(hostile_run, fallback_run, layers):
    require_any(layers, *IPC_LAYERS)
    for run in (hostile_run, fallback_run):
        stdout = attack_stdout(run, "leaves_sysv_shared_memory_for_the_next_student")
        for call in ("shmget", "msgget", "semget", "mq_open"):
            assert f"{call} refused" in stdout, (call, stdout)
        assert (
            statuses(run, "leaves_sysv_shared_memory_for_the_next_student")["np-forward-output"]
            == "passed"
        )


def test_segments_left_by_others_cannot_be_read(hostile_run, fallback_run, layers, planted_segment):
    require_any(layers, *IPC_LAYERS)
    for run in (hostile_run, fallback_run):
        stdout = attack_stdout(run, "reads_sysv_segments_of_earlier_students")
        assert "LEAKED" not in stdout and "shmget by key: Operation not permitted" in stdout, stdout
        assert (
            statuses(run, "reads_sysv_segments_of_earlier_students")["np-forward-output"]
            == "passed"
        )
    from grader.isolation.sandbox import ipc_objects

    assert ("shm", planted_segment) in ipc_objects({0}), (
        "the planted segment is gone: the test proves nothing"
    )


def test_no_gigabytes_are_pinned_in_sysv_segments(hostile_run, fallback_run, layers):
    require_any(layers, *IPC_LAYERS)
    for run in (hostile_run, fallback_run):
        stdout = attack_stdout(run, "pins_gigabytes_in_sysv_segments")
        assert stdout.count("shmget refused") == 4 and "pinned" not in stdout, stdout
        assert statuses(run, "pins_gigabytes_in_sysv_segments")["np-forward-output"] == "passed"


def test_no_ipc_object_process_or_file_of_a_sandbox_uid_is_left(hostile_run, fallback_run):
    assert left_by_this_run() == ([], [])
    assert hostile_run.survivors == [] and fallback_run.survivors == []
    for run in (hostile_run, fallback_run):
        assert [p for p in run.root.rglob("*") if p.lstat().st_uid in SANDBOX_UIDS] == []
        assert not list(run.root.rglob("filler-*"))


def test_squatting_the_uid_claims_keeps_no_one_from_being_graded(hostile_run, fallback_run, layers):
    require(layers, "uid-drop")
    for run in (hostile_run, fallback_run):
        assert "claim files taken: 0" in attack_stdout(run, "squats_the_sandbox_uid_claims")
        assert statuses(run, "squats_the_sandbox_uid_claims")["np-forward-output"] == "passed"
        for folder in run.out.iterdir():
            if folder.is_dir():
                assert "no free sandbox uid" not in (folder / "grading.json").read_text(), (
                    folder.name
                )
        result = run.results("correct_first")
        assert result["score"] == result["extra_data"]["max_score"] > 0
    # without a network namespace it took the old scheme's names (all but those graders held) while the others ran
    bound = re.findall(
        r"abstract names bound: (\d+)", attack_stdout(fallback_run, "squats_the_sandbox_uid_claims")
    )
    assert len(bound) == 3 and sum(map(int, bound)) >= 400, bound


def test_filling_the_disk_with_a_private_root_fails_at_its_size(hostile_run, layers):
    require(layers, "private-root")
    stdout = attack_stdout(hostile_run, "fills_the_disk_in_its_folder")
    refused = re.search(r"write refused after (\d+) MiB: .*No space left on device", stdout)
    assert refused and int(refused.group(1)) <= 256, stdout[-500:]
    assert statuses(hostile_run, "fills_the_disk_in_its_folder")["np-forward-output"] == "passed"


def test_filling_the_disk_without_a_private_root_is_stopped_past_the_budget(fallback_run):
    """No mount namespace (an LMS container): the grader watches, and stops it, with its own verdict."""
    from grader.isolation.sandbox import WRITE_BUDGET_BYTES

    grading = fallback_run.grading("fills_the_disk_in_its_folder")
    assert (
        grading["load"]["status"] == "crash"
        and "more than a submission may write" in grading["load"]["message"]
    )
    assert grading["score"] == 0
    for check in fallback_run.checks("fills_the_disk_in_its_folder"):
        assert "more than a submission may write" in messages(
            fallback_run, "fills_the_disk_in_its_folder", check
        )
    written = [int(n) for n in re.findall(r"written (\d+) MiB", grading["stdout"])]
    # the watch reacts after the fact: a few MiB on a quiet machine, tens of MiB on a loaded one
    # (the slack SECURITY.md states); without it this writer goes on to fill the disk
    assert written and max(written) * 2**20 <= 2 * WRITE_BUDGET_BYTES, max(written)


# ------------------------------------------------------------------ the same, at unit level (no batch)


def test_a_misspelt_syscall_name_stops_the_grader_at_start_up(monkeypatch):
    """Would a typo in the deny list silently deny nothing?"""
    from grader.isolation.inside import confine

    if confine.pyseccomp is None:
        pytest.skip("pyseccomp is not installed: nothing resolves syscall names")
    assert (
        confine.unknown_syscalls(
            (*confine.DENIED_SYSCALLS, *confine.SIGNAL_SYSCALLS, *confine.FILTERED_SYSCALLS)
        )
        == []
    )
    assert (
        confine.unknown_syscalls(("ipc", "shmget")) == []
    )  # another architecture's call is known, and harmless
    monkeypatch.setattr(confine, "DENIED_SYSCALLS", (*confine.DENIED_SYSCALLS, "shmgte"))
    with pytest.raises(confine.ConfinementError, match="shmgte"):
        probe_layers()
    with pytest.raises(confine.ConfinementError, match="shmgte"):
        confine.seccomp([os.getpid()])


def _as_sandbox_uid(uid: int, action) -> int:
    """Run `action` in a forked process that has become `uid`; its exit code (0: it worked)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            code = action()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _needs_root():
    if os.geteuid() != 0:
        pytest.skip("sandbox uids need root")


def test_everything_a_sandbox_uid_leaves_is_removed_even_owner_only():
    """Is a 0600 segment, queue, semaphore set, /dev/shm and /tmp file of a reused uid removed?"""
    import ctypes

    from grader.isolation.sandbox import _claim_uid, leftovers, remove_leftovers

    _needs_root()
    claim = _claim_uid()
    try:

        def leave() -> int:
            libc = ctypes.CDLL(None, use_errno=True)
            made = [
                libc.shmget(0, 4096, 0o1000 | 0o600),
                libc.msgget(0, 0o1000 | 0o600),
                libc.semget(0, 1, 0o1000 | 0o600),
            ]
            for folder in ("/dev/shm", "/tmp"):
                with open(os.path.join(folder, f"left-by-{os.getuid()}"), "w") as handle:
                    handle.write("for the next holder")
            return 0 if -1 not in made else 2

        assert _as_sandbox_uid(claim.uid, leave) == 0
        left = leftovers({claim.uid})
        assert len(left) == 5, left
        remove_leftovers(claim.uid)
        assert leftovers({claim.uid}) == []
    finally:
        remove_leftovers(claim.uid)
        claim.release()


SWEEPER = """
import subprocess, sys
from grader.isolation.sandbox import kill_stragglers
uid = int(sys.argv[1])
own = subprocess.Popen(["sleep", "60"], user=uid, group=uid, extra_groups=[])
print(kill_stragglers(None, uid), own.poll() is not None)
"""


def test_a_sweep_kills_only_the_processes_of_its_uid_below_its_own_grader():
    """Another grader's students may run as the same uid numbers (a grader in a container claims
    them where this one cannot see): a sweep of that uid kills its own grader's straggler, never
    a process of the uid that is not below that grader."""
    from grader.isolation.sandbox import _claim_uid

    _needs_root()
    claim = _claim_uid()
    other = subprocess.Popen(
        ["sleep", "60"], user=claim.uid, group=claim.uid, extra_groups=[]
    )  # the other grader's student: below the test, not below the sweeping grader
    try:
        swept = subprocess.run(
            [sys.executable, "-c", SWEEPER, str(claim.uid)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert swept.returncode == 0, swept.stderr
        assert swept.stdout.split() == ["1", "True"], swept.stdout
        assert other.poll() is None, "the sweep killed a process that is not its grader's"
    finally:
        other.kill()
        other.wait()
        claim.release()


def test_uid_claims_hold_against_squatted_names_and_a_sandbox_cannot_reach_them():
    from grader.isolation import sandbox

    _needs_root()
    squatted = []
    for uid in sandbox.SANDBOX_UIDS:  # every name of the old scheme, taken
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0backprop-grader-sandbox-uid-{uid}")
            squatted.append(claim)
        except OSError:
            claim.close()
    try:
        first, second = sandbox._claim_uid(), sandbox._claim_uid()
        assert first.uid != second.uid
        folder = sandbox._claims_folder()
        assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == 0

        def squat() -> int:
            try:
                os.open(folder / str(first.uid), os.O_RDONLY)
            except PermissionError:
                return 0
            return 3

        assert _as_sandbox_uid(first.uid, squat) == 0
        first.release()
        second.release()
    finally:
        for claim in squatted:
            claim.close()


def test_when_every_uid_is_claimed_a_submission_waits_for_one(monkeypatch):
    from grader.isolation import sandbox

    _needs_root()
    only = sandbox._claim_uid()
    monkeypatch.setattr(sandbox, "SANDBOX_UIDS", range(only.uid, only.uid + 1))
    got = []
    waiter = threading.Thread(target=lambda: got.append(sandbox._claim_uid(wait_seconds=30)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive() and got == []  # waiting, not failed
    only.release()
    waiter.join(30)
    assert [claim.uid for claim in got] == [only.uid]
    got[0].release()
    with pytest.raises(RuntimeError, match="no free sandbox uid"):
        held = sandbox._claim_uid()
        try:
            sandbox._claim_uid(wait_seconds=0)
        finally:
            held.release()


def test_a_deleted_file_kept_open_counts_against_the_write_budget(tmp_path):
    """Is a file written, unlinked and held open (in no folder) still seen by the watch?"""
    from grader.isolation.sandbox import DiskWatch

    folder = tmp_path / "work"
    folder.mkdir()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, time\nf = open('hidden', 'wb')\nos.unlink('hidden')\nf.write(b'x' * 2**22)\nf.flush()\ntime.sleep(60)",
        ],
        cwd=folder,
        start_new_session=True,
    )
    watch = DiskWatch(folder, None, shared_tmp=False, budget=2**20)
    try:
        watch.follow(writer.pid)
        assert writer.wait(timeout=30) == -signal.SIGKILL
        assert watch.exceeded and "more than a submission may write" in watch.exceeded
        assert list(folder.iterdir()) == []
    finally:
        watch.stop()
        if writer.poll() is None:
            writer.kill()

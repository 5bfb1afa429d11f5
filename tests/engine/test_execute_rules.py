"""The rules of executing a submission, with a scripted process in place of a real one.

`execute_submission` turns what a submission's process does (answers, hangs, exits,
a premature "done", a line that is not a result) into each call's outcome, and
decides which calls a fresh process is asked to make.  Here the launcher is a fake:
its "process" is three pipes the test has already written its events into, and a
pid that no longer exists (a `sleep 0` started and reaped), so that the grader's
killing of leftover processes finds nothing to kill.  No student code runs; a
hang is a pipe left open, waited for the few tenths of a second the limits allow.
The same rules are exercised with real processes in test_sandbox.py and test_budgets.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field

import pytest

from grader.core.cases import Case
from grader.core.spec import Limits
from grader.engine import execute
from grader.engine.discover import submission_at
from grader.engine.execute import Call, execute_submission
from grader.engine.load import load_submission
from grader.isolation import sandbox
from grader.isolation.sandbox import Sandbox, kill_stragglers, submission_processes

LIMITS = Limits(
    load_seconds=0.3, call_seconds=0.3, submission_seconds=30, memory_mib=512, output_kib=64
)
ONLY_A_PROCESS_GROUP = Sandbox(
    ("process-group",)
)  # no uid to claim, no probe: nothing but a folder


def vanished_pid() -> int:
    """The pid of a process that has ended and been reaped: no process has it, or its group."""
    process = subprocess.Popen(["sleep", "0"], start_new_session=True)
    process.wait()
    assert submission_processes(process.pid, None) == []
    return process.pid


@dataclass
class Script:
    """What every process of the fake submission does.

    `load`: "ok", or how loading goes wrong ("never-confined", "unconfined",
    "hangs", "exits").  `calls`: call id -> what the process does when it reaches
    that call; any other call is answered.  An action that ends or stalls the
    process stops it there, as a real child would stop.  An action ending in
    "-once" is done the first time the call is made, and the call answered after
    that (a busy machine's timeout, an out-of-memory kill of a moment)."""

    entries: tuple[str, ...]
    calls: dict[str, tuple] = field(default_factory=dict)
    load: str = "ok"


class ScriptedLauncher:
    """A launcher (grader.isolation.launchers) whose processes play a Script."""

    def __init__(self, script: Script):
        self.script = script
        self.requests: list[list[str]] = []  # the call ids each process was asked to make
        self.made: dict[str, int] = {}  # call id -> how often a process reached it
        self._processes: dict[
            int, tuple[tuple[int, ...], int]
        ] = {}  # pid -> (its open fds, its exit code)

    def start(self, workdir, limits, request: bytes, torch: bool = True) -> sandbox.Child:
        calls = [call["id"] for call in json.loads(request)["calls"]]
        self.requests.append(calls)
        result_read, result_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        code = self._play(calls, result_write, stdout_write)
        fds = (result_read, stdout_read, stderr_read)
        if code is None:  # still running: it is killed when the grader stops it
            fds += (result_write, stdout_write, stderr_write)
            code = -signal.SIGKILL
        else:
            for fd in (result_write, stdout_write, stderr_write):
                os.close(fd)
        pid = vanished_pid()
        self._processes[pid] = (fds, code)
        return sandbox.Child(pid, result_read, stdout_read, stderr_read, process=None)

    def stop(self, child: sandbox.Child, wait: bool = True) -> int:
        fds, code = self._processes.pop(child.pid)
        for fd in fds:
            os.close(fd)
        return code

    def _play(self, calls: list[str], result: int, stdout: int) -> int | None:
        """Write the process's events; its exit code, or None when it is left hanging."""

        def send(event: dict) -> None:
            os.write(result, json.dumps(event).encode() + b"\n")

        load = self.script.load
        if load == "never-confined":
            return None
        if load == "unconfined":
            send({"event": "confined", "ok": False, "message": "OSError: no namespaces here"})
            return 1
        send({"event": "confined", "ok": True, "layers": []})
        if load == "hangs":
            return None
        if load == "exits":
            return 1
        entry_points = {entry: {"where": ["hand_in.py"]} for entry in self.script.entries}
        send(
            {
                "event": "loaded",
                "seconds": 0.01,
                "problems": [],
                "entry_points": entry_points,
                "defined": [],
            }
        )
        for call_id in calls:
            action, *detail = self.script.calls.get(call_id, ("answer",))
            self.made[call_id] = self.made.get(call_id, 0) + 1
            if action.endswith("-once"):
                action = action.removesuffix("-once") if self.made[call_id] == 1 else "answer"
            if action == "answer":
                os.write(stdout, f"{call_id} printed this\n".encode())
                send(
                    {
                        "event": "result",
                        "id": call_id,
                        "ok": True,
                        "value": float(len(call_id)),
                        "seconds": 0.001,
                    }
                )
            elif action == "raise":
                send(
                    {
                        "event": "result",
                        "id": call_id,
                        "ok": False,
                        "error": {"type": "ValueError", "message": "raised by the submission"},
                    }
                )
            elif action == "hang":
                return None
            elif action == "exit":
                return detail[0]
            elif action == "done":
                send({"event": "done"})
                return 0
            elif action == "line":  # written to the result channel as it is, in place of the answer
                os.write(result, detail[0] + b"\n")
            elif action == "forge-then-answer":  # a line of the submission's, then the answer
                os.write(result, detail[0] + b"\n")
                send({"event": "result", "id": call_id, "ok": True, "value": 1.0, "seconds": 0.001})
            elif action == "answer-twice":
                send({"event": "result", "id": call_id, "ok": True, "value": 1.0, "seconds": 0.001})
                send({"event": "result", "id": call_id, "ok": True, "value": 2.0, "seconds": 0.001})
        send({"event": "done"})
        return 0


def call(call_id: str, entry: str) -> Call:
    return Call(call_id, entry, {}, Case.of(f"case-{call_id}", {"x": [0.5, 0.3]}))


# entry_a's calls, then entry_b's: the order the calls are made in
CALLS = [
    call("a1", "entry_a"),
    call("a2", "entry_a"),
    call("a3", "entry_a"),
    call("b1", "entry_b"),
    call("b2", "entry_b"),
]


@pytest.fixture
def run(tmp_path):
    """Execute CALLS (or the calls given) with a Script; returns the execution and the launcher."""
    hand_in = tmp_path / "hand_in.py"
    hand_in.write_text("def entry_a():\n    pass\n\n\ndef entry_b():\n    pass\n")
    loaded = load_submission(submission_at(hand_in))
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def run(script: Script, limits: Limits = LIMITS, calls: list[Call] = CALLS):
        launcher = ScriptedLauncher(script)
        execution = execute_submission(
            loaded, calls, limits, scratch, launcher, ONLY_A_PROCESS_GROUP
        )
        assert execution.stragglers == 0  # the vanished pids: nothing was found to kill
        assert launcher._processes == {}  # every process started was stopped
        assert list(scratch.iterdir()) == []  # and its workspace removed
        return execution, launcher

    return run


def statuses(execution) -> dict[str, str]:
    return {call_id: outcome.status for call_id, outcome in execution.outcomes.items()}


def message(execution, call_id: str) -> str:
    return execution.outcomes[call_id].error["message"]


def test_a_process_that_answers_every_call_is_the_only_one(run):
    execution, launcher = run(Script(("entry_a", "entry_b")))
    assert statuses(execution) == dict.fromkeys(("a1", "a2", "a3", "b1", "b2"), "ok")
    assert execution.outcomes["b1"].value == 2.0  # what the process sent, as plain data
    assert execution.load.status == "ok" and execution.processes == 1
    assert launcher.requests == [["a1", "a2", "a3", "b1", "b2"]]
    assert execution.stdout.count("printed this") == 5


def test_a_call_that_does_not_return_times_out_and_is_made_once_more_when_its_function_works(run):
    """A call that hangs while its function returned on another call is made again, at the end, in a
    fresh process with twice the limit; hanging again, that is its verdict, and it says so."""
    execution, launcher = run(Script(("entry_a", "entry_b"), calls={"a2": ("hang",)}))
    assert statuses(execution) == {"a1": "ok", "a2": "timeout", "a3": "ok", "b1": "ok", "b2": "ok"}
    assert message(execution, "a2") == (
        "the call did not return within 0.6 s, and before that the call did not return within 0.3 s "
        "(it was made twice, the second time in a fresh process with a longer limit)"
    )
    assert launcher.requests == [["a1", "a2", "a3", "b1", "b2"], ["a3", "b1", "b2"], ["a2"]]
    assert execution.processes == 3
    assert (
        "a1 printed this" in execution.stdout and "b2 printed this" in execution.stdout
    )  # every process's output
    assert "entry_a on the case-a2 case timed out or ended its process once" in execution.stderr


def test_a_call_stuck_once_by_the_machine_gets_its_answer_on_the_second_try(run):
    """A busy machine's timeout or out-of-memory kill, once, costs no point: the second try's answer counts."""
    for action in ("hang-once", "exit-once"):
        script = Script(("entry_a", "entry_b"), calls={"b2": (action, -signal.SIGKILL)})
        execution, launcher = run(script)
        assert set(statuses(execution).values()) == {"ok"}, action
        assert launcher.requests[-1] == ["b2"] and launcher.made["b2"] == 2
        assert "made again in a fresh process with a 0.6 s limit and returned" in execution.stderr


def test_a_function_stuck_twice_without_returning_is_not_called_again(run):
    """An infinite loop is not re-run for long: two calls of the function hang, its later calls are not made."""
    script = Script(("entry_a", "entry_b"), calls={"a1": ("hang",), "a2": ("hang",)})
    execution, launcher = run(script)
    assert statuses(execution) == {
        "a1": "timeout",
        "a2": "timeout",
        "a3": "timeout",
        "b1": "ok",
        "b2": "ok",
    }
    assert message(execution, "a1") == "the call did not return within 0.3 s"
    # the call not made names the calls that hung, as the report shows calls
    assert message(execution, "a3") == (
        f"not called: an earlier call, {CALLS[0].describe()} on the case-a1 case, did not return within 0.3 s, "
        f"and so did {CALLS[1].describe()} on the case-a2 case, so entry_a is not called again"
    )
    assert launcher.requests == [
        ["a1", "a2", "a3", "b1", "b2"],
        ["a2", "a3", "b1", "b2"],
        ["b1", "b2"],
    ]


def test_a_process_that_exits_mid_call_crashes_that_entry_and_a_fresh_process_goes_on(run):
    execution, launcher = run(
        Script(
            ("entry_a", "entry_b"),
            calls={"a1": ("exit", -signal.SIGSEGV), "a2": ("exit", -signal.SIGSEGV)},
        )
    )
    assert statuses(execution) == {
        "a1": "crash",
        "a2": "crash",
        "a3": "crash",
        "b1": "ok",
        "b2": "ok",
    }
    assert (
        message(execution, "a1")
        == "the submission's process killed by SIGSEGV (segmentation fault)"
    )
    assert message(execution, "a3").startswith(
        f"not called: an earlier call, {CALLS[0].describe()} on the case-a1 case, ended its process"
    )
    assert launcher.requests == [
        ["a1", "a2", "a3", "b1", "b2"],
        ["a2", "a3", "b1", "b2"],
        ["b1", "b2"],
    ]


def test_a_kill_the_grader_did_not_send_is_not_called_a_time_limit(run):
    """SIGKILL with the grader's deadline still ahead: the process's wait status, read by the grader."""
    execution, _ = run(
        Script(
            ("entry_a", "entry_b"),
            calls={"b1": ("exit", -signal.SIGKILL), "b2": ("exit", -signal.SIGKILL)},
        )
    )
    assert "killed by SIGKILL, not by the grader" in message(execution, "b1")
    assert "time" not in message(execution, "b1")


def test_an_exit_code_is_reported_as_the_process_gave_it(run):
    execution, _ = run(Script(("entry_a", "entry_b"), calls={"b2": ("exit", 3)}))
    assert statuses(execution) == {"a1": "ok", "a2": "ok", "a3": "ok", "b1": "ok", "b2": "crash"}
    assert message(execution, "b2").startswith(
        "the submission's process exited with code 3 (it was made twice"
    )
    assert execution.processes == 2  # b2, once more: b1 of the same function returned


def test_a_raised_exception_is_that_call_s_error_and_the_process_goes_on(run):
    execution, launcher = run(Script(("entry_a", "entry_b"), calls={"a1": ("raise",)}))
    assert statuses(execution) == {"a1": "error", "a2": "ok", "a3": "ok", "b1": "ok", "b2": "ok"}
    assert execution.outcomes["a1"].error["type"] == "ValueError"
    assert len(launcher.requests) == 1


def test_a_done_before_every_call_is_answered_crashes_the_unanswered_calls(run):
    """The student's code can write "done" on the channel itself; nothing is restarted for it."""
    execution, launcher = run(Script(("entry_a", "entry_b"), calls={"a3": ("done",)}))
    assert statuses(execution) == {
        "a1": "ok",
        "a2": "ok",
        "a3": "crash",
        "b1": "crash",
        "b2": "crash",
    }
    assert (
        message(execution, "b1")
        == "the submission's process said it was done without answering this call"
    )
    assert len(launcher.requests) == 1


def test_the_submission_s_time_limit_ends_every_call_still_to_make(run):
    limits = Limits(
        load_seconds=5, call_seconds=5, submission_seconds=0.4, memory_mib=512, output_kib=64
    )
    execution, launcher = run(Script(("entry_a", "entry_b"), calls={"a2": ("hang",)}), limits)
    assert statuses(execution) == {
        "a1": "ok",
        "a2": "timeout",
        "a3": "timeout",
        "b1": "timeout",
        "b2": "timeout",
    }
    assert {message(execution, c) for c in ("a2", "a3", "b1", "b2")} == {
        "the submission's time limit (0.4 s) ran out"
    }
    assert len(launcher.requests) == 1  # no process is started past the limit


def test_what_is_left_of_the_budget_is_the_limit_when_it_is_given(run, tmp_path):
    """`seconds`: the wall-clock budget a submission has left when this execution starts."""
    hand_in = tmp_path / "hand_in.py"  # written by `run`
    launcher = ScriptedLauncher(Script(("entry_a", "entry_b"), calls={"a1": ("hang",)}))
    scratch = tmp_path / "budget-scratch"
    scratch.mkdir()
    limits = Limits(
        load_seconds=5, call_seconds=5, submission_seconds=600, memory_mib=512, output_kib=64
    )
    execution = execute_submission(
        load_submission(submission_at(hand_in)),
        CALLS,
        limits,
        scratch,
        launcher,
        ONLY_A_PROCESS_GROUP,
        seconds=0.3,
    )
    assert execution.outcomes["a1"].status == "timeout"
    assert set(statuses(execution).values()) == {"timeout"} and len(launcher.requests) == 1


@pytest.mark.parametrize(
    "line,reason",
    [
        (b"this is not JSON", "the answer is not JSON"),
        (
            b'{"event": "result"}',
            "the submission's process wrote something that is not a result to the grader's channel",
        ),
        (
            b'{"event": "result", "id": "a2", "ok": true, "value": {"array": [1, 2], "shape": [3]}}',
            "sent an answer the grader does not read",
        ),
    ],
    ids=["not-json", "not-an-event", "not-a-value"],
)
def test_a_line_that_is_not_a_result_crashes_the_call_it_came_in_and_a_fresh_process_goes_on(
    run, line, reason
):
    """Unlike a hang or an exit, a corrupt line says nothing about the entry point: its other calls are made."""
    execution, launcher = run(Script(("entry_a", "entry_b"), calls={"a2": ("line", line)}))
    assert statuses(execution) == {"a1": "ok", "a2": "crash", "a3": "ok", "b1": "ok", "b2": "ok"}
    assert reason in message(execution, "a2")
    expected_requests = [["a1", "a2", "a3", "b1", "b2"], ["a3", "b1", "b2"]]
    if reason.startswith(
        "sent an answer"
    ):  # a well-formed event with a bad value: only that answer is refused
        expected_requests = expected_requests[:1]
    assert launcher.requests == expected_requests


def test_an_answer_sent_twice_makes_that_call_tampered_and_the_others_count(run):
    execution, _ = run(Script(("entry_a", "entry_b"), calls={"a1": ("answer-twice",)}))
    assert execution.outcomes["a1"].status == "crash"
    assert execution.outcomes["a1"].error["type"] == "Tampered"
    assert "a second answer" in message(execution, "a1")
    assert {k: v for k, v in statuses(execution).items() if k != "a1"} == dict.fromkeys(
        ("a2", "a3", "b1", "b2"), "ok"
    )


def test_an_answer_for_a_later_call_before_its_turn_makes_that_call_tampered(run):
    """A forged answer for b1 written during a1: b1 is tampered, its real answer too; a1 counts."""
    forged = json.dumps({"event": "result", "id": "b1", "ok": True, "value": 2.0, "seconds": 0.0})
    execution, _ = run(
        Script(("entry_a", "entry_b"), calls={"a1": ("forge-then-answer", forged.encode())})
    )
    assert execution.outcomes["b1"].error["type"] == "Tampered"
    assert "before its turn" in message(execution, "b1")
    assert {k: v for k, v in statuses(execution).items() if k != "b1"} == dict.fromkeys(
        ("a1", "a2", "a3", "b2"), "ok"
    )


def test_loading_that_never_finishes_times_out_every_call_in_one_process(run):
    execution, launcher = run(Script(("entry_a", "entry_b"), load="hangs"))
    assert execution.load.status == "timeout"
    assert execution.load.message == "loading did not finish within 0.3 s"
    assert set(statuses(execution).values()) == {"timeout"}
    assert {o.error["type"] for o in execution.outcomes.values()} == {"LoadFailure"}
    assert len(launcher.requests) == 1


def test_a_process_that_exits_while_loading_crashes_every_call(run):
    execution, launcher = run(Script(("entry_a", "entry_b"), load="exits"))
    assert execution.load.status == "crash"
    assert execution.load.message == "the submission's process exited with code 1"
    assert set(statuses(execution).values()) == {"crash"} and len(launcher.requests) == 1


def test_a_process_that_never_starts_is_the_grader_s_start_up_limit_not_the_load_limit(
    run, monkeypatch
):
    """No student code ran: the grader's own start failed, is tried once more, and is said to be the grader's."""
    monkeypatch.setattr(execute, "STARTUP_SECONDS", 0.3)
    execution, launcher = run(Script(("entry_a", "entry_b"), load="never-confined"))
    assert execution.load.status == "unstarted" and len(launcher.requests) == 2
    assert execution.load.message.startswith(
        "the grader could not start the submission's process: it did not start within 0.3 s"
    )
    assert {o.error["type"] for o in execution.outcomes.values()} == {"NotStarted"}


def test_a_sandbox_that_cannot_be_set_up_runs_nothing(run):
    execution, launcher = run(Script(("entry_a", "entry_b"), load="unconfined"))
    assert execution.load.status == "crash"
    assert (
        "could not set up its sandbox" in execution.load.message
        and "no namespaces here" in execution.load.message
    )
    assert {o.error["type"] for o in execution.outcomes.values()} == {"SandboxFailure"}
    assert len(launcher.requests) == 1


def test_an_entry_point_the_submission_does_not_define_is_missing_and_never_asked_for(run):
    execution, launcher = run(Script(("entry_a",)))
    assert statuses(execution) == {
        "a1": "ok",
        "a2": "ok",
        "a3": "ok",
        "b1": "missing",
        "b2": "missing",
    }
    assert message(execution, "b1").startswith("entry_b is not defined")
    assert launcher.requests == [
        ["a1", "a2", "a3", "b1", "b2"]
    ]  # the fake answers b1 too: an answer nobody asked for is not read


def test_the_fake_pid_is_nobody_s():
    """What the fake launcher relies on: the grader's killing finds no process for a vanished pid."""
    pid = vanished_pid()
    assert kill_stragglers(pid, None, settle_seconds=0.1) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_child_that_stops_reading_its_inputs_never_holds_the_grader(monkeypatch):
    """A submission whose own code answers in the call's place leaves its request pipe unread:
    the grader writes the next call's inputs for a bounded time, then goes on."""
    import threading
    from types import SimpleNamespace

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:  # the pipe full, as after turns the child never read
            os.write(write_end, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)  # as the grader holds it
    monkeypatch.setattr(execute, "TURN_WRITE_SECONDS", 0.5)
    call = SimpleNamespace(inputs_line=lambda: b'{"id": "c2", "inputs": {}}\n')
    child = SimpleNamespace(request_fd=write_end)
    writer = threading.Thread(
        target=execute._give_turn, args=(child, ["c1", "c2"], 1, {"c2": call}), daemon=True
    )
    writer.start()
    writer.join(timeout=60)
    alive = writer.is_alive()
    os.close(read_end)  # a writer still blocked gets its broken pipe and ends
    os.close(write_end)
    assert not alive

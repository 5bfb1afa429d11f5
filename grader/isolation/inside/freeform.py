"""Runs inside a submission's process: its scripts as written, watched, when it has no entry point.

A hand-in that ignores the template still computes what the homework asks; this
module runs each of its files as `__main__` (a notebook's cells in order) and
records, as plain bounded data sent as it comes, what flows through it:

    {"event": "observed", "kind": "script", "script": path}              a file starts
    {"event": "observed", "kind": "call", "function", "n", "arguments", "returned"}
    {"event": "observed", "kind": "backward", "n", "root", "leaves": [{"name", "value", "grad"}]}
    {"event": "observed", "kind": "printed", "line", "text"}
    {"event": "observed", "kind": "globals", "script", "values": {name: value}}
    {"event": "observed", "kind": "ended", "script", "how": "finished"|"raised"|"deadline", "error"}

Only the script's own functions (code in the submission's files) are recorded: the
first `FIRST_CALLS` calls of each, sent at once, and its last call, sent when the
file ends.  `input()` gets the assignment's answers (a step size), then end of input;
plotting and window modules are inert.
Each file has `seconds`; a file still running then is stopped by an alarm, and
what it recorded so far is sent (the grader kills a process that ignores it).
It imports nothing from the grader; `child.py` passes it what it needs.
"""

from __future__ import annotations

import builtins
import collections
import signal
import sys

FIRST_CALLS = 3  # calls of one function sent as they happen; then only its last
MAX_FUNCTIONS = 40
MAX_ELEMENTS = 64  # larger arrays are not the homework's numbers
MAX_CURVE = (
    5000  # a global list of plain numbers this long is kept whole: a curve the script recorded
)
MAX_BACKWARDS = 8  # the first backward passes, and the last
FIRST_LINES, LAST_LINES, LINE_CHARS = 300, 60, 300
MAX_GLOBALS = 120
GUI_MODULES = (
    "tkinter",
    "turtle",
    "PyQt5",
    "PySide2",
    "PySide6",
    "plotly",
    "plotly.express",
    "plotly.graph_objects",
    "pandas.plotting",
)
SKIPPED_CODE = {"<module>", "<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<lambda>"}


class Deadline(BaseException):
    """The file's time is up (a BaseException, so `except Exception` in the script does not keep it)."""


def plain(value, depth: int = 0):
    """A number, a small array or a short list of them as plain data; None for anything else."""
    numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
    if isinstance(value, bool) or depth > 3:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            if value.numel() > MAX_ELEMENTS or not value.is_floating_point():
                return None
            tensor = value.detach().cpu()
            return {"array": tensor.double().reshape(-1).tolist(), "shape": list(tensor.shape)}
        if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
            if value.size > MAX_ELEMENTS or value.dtype.kind not in "fiu":
                return None
            array = numpy.asarray(value, dtype=float)
            return {"array": array.reshape(-1).tolist(), "shape": list(array.shape)}
    except Exception:  # noqa: BLE001 - a value that will not convert is not recorded
        return None
    if isinstance(value, (list, tuple)) and 0 < len(value) <= MAX_ELEMENTS:
        items = [plain(item, depth + 1) for item in value]
        return {"seq": items} if all(item is not None for item in items) else None
    return None


def _module_values(name: str, value) -> dict:
    """An nn.Module's parameters as `name.path` entries."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.nn.Module):
        return {}
    found = {}
    try:
        for path, parameter in list(value.named_parameters())[:16]:
            converted = plain(parameter)
            if converted is not None:
                found[f"{name}.{path}"] = converted
    except Exception:  # noqa: BLE001
        pass
    return found


def global_values(namespace: dict) -> dict:
    values = {}
    for name, value in list(namespace.items()):
        if name.startswith("_") or len(values) >= MAX_GLOBALS:
            continue
        converted = plain(value)
        if converted is None:
            converted = _curve(value)
        if converted is not None:
            values[name[:64]] = converted
        else:
            values.update(_module_values(name[:64], value))
    return values


def _curve(value):
    """A long flat list of numbers (a value per step the script kept), as an array; None for anything else."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_CURVE:
        return None
    numbers = []
    for item in value:
        if isinstance(item, bool):
            return None
        if not isinstance(item, (int, float)):
            item = plain(item, 3)  # a 0-d array or tensor
            if not (isinstance(item, dict) and len(item.get("array", ())) == 1):
                return None
            item = item["array"][0]
        numbers.append(float(item))
    return {"array": numbers, "shape": [len(numbers)]}


class Recorder:
    """What the running file's own functions and backward passes did, sent as it happens."""

    def __init__(self, send, files: set[str]):
        self.send, self.files = send, files
        self.counts: dict[str, int] = collections.Counter()
        self.last: dict[str, dict] = {}
        self.open_calls: dict[int, tuple] = {}
        self.calls = 0
        self.backwards = 0
        self.last_backward = None
        self.namespace: dict = {}

    # sys.setprofile: the profiler itself is never profiled, so converting values here is not recorded
    def profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code.co_filename not in self.files or code.co_name in SKIPPED_CODE:
                return
            name = code.co_qualname if hasattr(code, "co_qualname") else code.co_name
            if name not in self.counts and len(self.counts) >= MAX_FUNCTIONS:
                return
            self.counts[name] += 1
            self.calls += 1
            count = code.co_argcount + code.co_kwonlyargcount
            local = frame.f_locals
            arguments = {a: plain(local.get(a)) for a in code.co_varnames[:count]}
            self.open_calls[id(frame)] = (
                name,
                self.calls,
                {a: v for a, v in arguments.items() if v is not None},
                self.counts[name],
            )
        elif event == "return":
            opened = self.open_calls.pop(id(frame), None)
            if opened is None:
                return
            name, number, arguments, count = opened
            record = {
                "event": "observed",
                "kind": "call",
                "function": name,
                "n": number,
                "call": count,
                "arguments": arguments,
                "returned": plain(arg),
            }
            if count <= FIRST_CALLS:
                self.send(record)
            else:
                self.last[name] = record

    def backward_done(self, root, leaves) -> None:
        self.backwards += 1
        names = {}
        for name, value in list(self.namespace.items()):
            names.setdefault(id(value), name)
            if isinstance(value, (list, tuple)) and len(value) <= MAX_ELEMENTS:
                for index, item in enumerate(value):
                    names.setdefault(id(item), f"{name}[{index}]")
            torch = sys.modules.get("torch")
            if torch is not None and isinstance(value, torch.nn.Module):
                try:
                    for path, parameter in list(value.named_parameters())[:16]:
                        names.setdefault(id(parameter), f"{name}.{path}")
                except Exception:  # noqa: BLE001
                    pass
        record = {
            "event": "observed",
            "kind": "backward",
            "n": self.calls,
            "pass": self.backwards,
            "root": plain(root),
            "leaves": [
                {"name": names.get(id(leaf), ""), "value": plain(leaf), "grad": plain(leaf.grad)}
                for leaf in leaves[:16]
            ],
        }
        if self.backwards <= MAX_BACKWARDS:
            self.send(record)
        else:
            self.last_backward = record

    def flush(self) -> None:
        for record in self.last.values():
            self.send(record)
        if self.last_backward is not None:
            self.send(self.last_backward)
        self.last, self.last_backward = {}, None


def _leaves(tensor) -> list:
    """The autograd leaves a backward pass from `tensor` reaches (bounded walk of its graph)."""
    found, seen, stack = [], set(), [getattr(tensor, "grad_fn", None)]
    while stack and len(seen) < 5000:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.append(variable)
        stack.extend(next_node for next_node, _ in getattr(node, "next_functions", ()))
    return found


def watch_backward(recorder: Recorder) -> None:
    """Every backward pass reports its leaves' .grad right after it ran."""
    torch = sys.modules["torch"]
    original_method, original_function = torch.Tensor.backward, torch.autograd.backward
    depth = [0]

    def recorded(run, tensors):
        leaves = [leaf for t in tensors for leaf in _leaves(t)]
        depth[0] += 1
        try:
            result = run()
        finally:
            depth[0] -= 1
        if depth[0] == 0:
            recorder.backward_done(tensors[0] if len(tensors) == 1 else None, leaves)
        return result

    def method(self, *args, **kwargs):
        return recorded(lambda: original_method(self, *args, **kwargs), [self])

    def function(tensors, *args, **kwargs):
        listed = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        return recorded(lambda: original_function(tensors, *args, **kwargs), listed)

    torch.Tensor.backward = method
    torch.autograd.backward = function


class PrintedLines:
    """A stream wrapper: writes pass through; lines holding digits are kept, the first and the last."""

    def __init__(self, stream, send):
        self.stream, self.send = stream, send
        self.partial, self.lines = "", 0
        self.tail = collections.deque(maxlen=LAST_LINES)

    def write(self, text):
        result = self.stream.write(text)
        try:
            self.partial += str(text)
            *complete, self.partial = self.partial.split("\n")
            self.partial = self.partial[-LINE_CHARS:]
            for line in complete:
                self._line(line)
        except Exception:  # noqa: BLE001 - recording never breaks the student's print
            pass
        return result

    def _line(self, line: str) -> None:
        if not any(c.isdigit() for c in line):
            return
        self.lines += 1
        record = {
            "event": "observed",
            "kind": "printed",
            "line": self.lines,
            "text": line[:LINE_CHARS],
        }
        if self.lines <= FIRST_LINES:
            self.send(record)
        else:
            self.tail.append(record)

    def flush_records(self) -> None:
        if self.partial:
            self._line(self.partial)
            self.partial = ""
        for record in self.tail:
            self.send(record)
        self.tail.clear()

    def flush(self):
        return self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _answering(answers: list[str], send):
    """input() as the grader's script runner gives it: the assignment's answers in turn, each
    reported, then end of input.  It never waits for a keyboard."""
    given = iter(list(answers))
    count = [0]

    def answered(prompt=""):
        answer = next(given, None)
        if answer is None:
            raise EOFError("input() has no more input when the grader runs a script")
        send({"event": "observed", "kind": "answered", "text": str(prompt)[:300], "n": count[0]})
        count[0] += 1
        return answer

    return answered


def _inert_gui(inert_class) -> None:
    for name in GUI_MODULES:
        if name not in sys.modules:
            module = inert_class(name)
            module.__path__ = []
            sys.modules[name] = module


def run_scripts(
    sources: list[dict],
    send,
    files: set[str],
    seconds: float,
    describe_exception,
    strip_magics,
    inert_class,
    answers: list[str] = (),
) -> None:
    """Each source file as `__main__`, one after another, each within `seconds`; input() gets
    `answers` in turn, then end of input."""
    _inert_gui(inert_class)
    builtins.input = _answering(answers, send)
    recorder = Recorder(send, files)
    if "torch" in sys.modules:
        watch_backward(recorder)
    printed = PrintedLines(sys.stdout, send)
    sys.stdout = printed

    def on_alarm(signum, frame):
        raise Deadline()

    signal.signal(signal.SIGALRM, on_alarm)
    for source in sources:
        namespace = {"__name__": "__main__", "__file__": source["path"], "__builtins__": builtins}
        recorder.namespace = namespace
        send({"event": "observed", "kind": "script", "script": source["path"]})
        how, error = "finished", None
        signal.setitimer(signal.ITIMER_REAL, seconds)
        sys.setprofile(recorder.profile)
        try:
            if source["kind"] == "py":
                with open(source["path"], encoding="utf-8") as file:
                    exec(compile(file.read(), source["path"], "exec"), namespace)  # noqa: S102
            else:
                for number, cell in enumerate(source["cells"], start=1):
                    code = strip_magics(cell)
                    if code.strip():
                        exec(compile(code, f"{source['path']} [cell {number}]", "exec"), namespace)  # noqa: S102
        except Deadline:
            how = "deadline"
        except BaseException as raised:  # noqa: BLE001 - a crash half-way is observed up to there
            how, error = "raised", describe_exception(raised, source["path"])
        finally:
            sys.setprofile(None)
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            recorder.flush()
            printed.flush_records()
            send(
                {
                    "event": "observed",
                    "kind": "globals",
                    "script": source["path"],
                    "values": global_values(namespace),
                }
            )
        except Deadline:
            pass
        send(
            {
                "event": "observed",
                "kind": "ended",
                "script": source["path"],
                "how": how,
                "error": error,
            }
        )

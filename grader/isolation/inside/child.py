"""Runs inside a submission's own process: load the student's code, make the calls.

Started by `grader.isolation.sandbox` as `python -I child.py RESULT_FD` (or forked from a
warm parent, which calls `serve`).  It reads one JSON request line on stdin: the
submission's source files (already on disk in the working folder) and the
calls to make, without their inputs.  Once the files are loaded, each call's inputs come as
a line of their own, `{"id": ..., "inputs": {name: values}}`, written by the grader only
when it is that call's turn (after the answer to the one before): nothing of a later call,
a hidden case's included, is in the process before then.  It writes one JSON line per
event to RESULT_FD:

    {"event": "confined", "ok": true, "layers": [...]}   (or "ok": false, "message": ...)
    {"event": "loaded", "defined": [...], "problems": [...], "entry_points": {...}}
    {"event": "result", "id": ..., "ok": true, "value": <tree>, "seconds": ..., "evidence": {...}}
    {"event": "result", "id": ..., "ok": false, "error": {...}}
    {"event": "done"}

A call the spec's rules cover carries "watch" (the kinds of rule): `watch.py` beside
it records what the call did while it ran, sent as the result's "evidence".  A probe's
call may carry "trace": `locals.py` records the numbers its functions compute, line by
line, sent as the result's "locals".
It sends values, never verdicts: it never sees an expected value.  It imports
nothing from the grader (the grader is not on its path) and only the standard
library, NumPy and PyTorch; `confine.py` beside it (loaded by path) confines the
process to the request's sandbox plan before the first line of student code.
"""

from __future__ import annotations

import builtins
import importlib.util
import inspect
import io
import json
import math
import os
import re
import sys
import time
import traceback
import types

# Modules a student file may be named after without shadowing the real one.
PROTECTED = {
    "numpy",
    "torch",
    "grader",
    "reference",
    "child",
    "json",
    "math",
    "random",
    "test",
    "tests",
}
MAX_ELEMENTS = 100_000  # a returned array larger than this is described, not sent
TEXT_LIMIT = 4000

_INSIDE = os.path.dirname(os.path.abspath(__file__))
_write = os.write
_dumps = json.dumps
_perf = time.perf_counter
_isfinite = math.isfinite


class _Inert(types.ModuleType):
    """Stands in for plotting and display modules a grader does not need.

    `import matplotlib.pyplot as plt; plt.plot(losses); plt.show()` then does
    nothing instead of failing the cell that also defines the functions.
    """

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _inert_value

    def __call__(self, *args, **kwargs):
        return _inert_value


class _InertValue:
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter((self, self))

    def __getitem__(self, key):
        return self


_inert_value = _InertValue()
INERT_MODULES = ("matplotlib", "matplotlib.pyplot", "IPython", "IPython.display", "seaborn")


def _install_inert_modules() -> list[str]:
    installed = []
    for name in INERT_MODULES:
        if name in sys.modules:
            continue
        module = _Inert(name)
        module.__path__ = []  # a package, so `import matplotlib.pyplot` resolves
        sys.modules[name] = module
        installed.append(name)
    for name in INERT_MODULES:
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    return installed


def send(fd: int, message: dict) -> None:
    data = _dumps(message, allow_nan=True, default=str).encode() + b"\n"
    while data:
        data = data[_write(fd, data) :]


def _short(text: str, limit: int = TEXT_LIMIT) -> str:
    return (
        text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"
    )


def describe_exception(error: BaseException, filename_hint: str | None = None) -> dict:
    frames = traceback.extract_tb(error.__traceback__)
    # the grader's own frames (this folder's files: input() answered, a recorder) are not the student's
    student_frames = [f for f in frames if os.path.dirname(os.path.abspath(f.filename)) != _INSIDE]
    where = ""
    if isinstance(error, SyntaxError):
        where = f"{error.filename or filename_hint}, line {error.lineno}"
    elif student_frames:
        last = student_frames[-1]
        where = f"{os.path.basename(last.filename)}, line {last.lineno}, in {last.name}"
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    lines = traceback.format_list(student_frames[-6:])
    return {
        "type": type(error).__name__,
        "message": _short(text),
        "where": where,
        "traceback": _short("".join(lines) + text),
    }


# ------------------------------------------------------------------ loading

MAGIC_LINE = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*[%!])")
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


def strip_magics(source: str) -> str:
    """IPython syntax is not Python: drop `%magic` and `!shell` lines; a cell
    magic runs its body only where the body is Python (`%%time`)."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split()[0] if lines[0].lstrip()[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return ""
        lines = lines[1:]
    kept = []
    for line in lines:
        if MAGIC_LINE.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            kept.append(f"{indent}pass  # IPython line skipped by the grader")
        else:
            kept.append(line)
    return "\n".join(kept)


def _module_name(path: str, taken: set[str]) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    clean = re.sub(r"\W", "_", stem)
    if (
        clean in PROTECTED
        or clean in sys.stdlib_module_names
        or clean in sys.modules
        or clean in taken
        or not clean.isidentifier()
    ):
        return f"_submission_{clean}"
    return clean


def load_python(path: str, name: str, problems: list, by_statement: bool = False) -> dict | None:
    """`by_statement`: a statement that raises does not stop the ones after it (where torch is
    a stand-in, a demo line that meets it must not cost the functions defined below it)."""
    existing = sys.modules.get(name)
    if existing is not None and os.path.abspath(
        getattr(existing, "__file__", "") or ""
    ) == os.path.abspath(path):
        return vars(existing)  # already imported by a sibling
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if by_statement:
        try:
            with open(path, "rb") as handle:
                source = handle.read()
        except OSError as error:
            problems.append({"file": path, "cell": None, **describe_exception(error, path)})
            return vars(module)
        _run_by_statement(source, path, vars(module), path, None, problems)
        return vars(module)
    try:
        spec.loader.exec_module(module)
    except BaseException as error:  # noqa: BLE001 - a student's SystemExit is a finding too
        problems.append({"file": path, "cell": None, **describe_exception(error, path)})
    return vars(module)


def _run_by_statement(source, filename: str, namespace: dict, path: str, cell, problems) -> None:
    """Run `source` one top-level statement at a time; each one that raises is a problem, and
    the next one runs.  `from __future__` imports hold for the statements after them."""
    import __future__

    import ast

    try:
        tree = ast.parse(source, filename)
    except BaseException as error:  # noqa: BLE001 - a syntax error is the file's problem
        problems.append({"file": path, "cell": cell, **describe_exception(error, path)})
        return
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
        try:
            code = compile(ast.Module([statement], []), filename, "exec", flags, dont_inherit=True)
            exec(code, namespace)  # noqa: S102
        except BaseException as error:  # noqa: BLE001
            problems.append({"file": path, "cell": cell, **describe_exception(error, path)})


def load_notebook(path: str, cells: list[str], problems: list, by_statement: bool = False) -> dict:
    namespace = {"__name__": "__notebook__", "__builtins__": builtins, "__file__": path}
    for number, source in enumerate(cells, start=1):
        code = strip_magics(source)
        if not code.strip():
            continue
        if by_statement:
            _run_by_statement(code, f"{path} [cell {number}]", namespace, path, number, problems)
            continue
        try:
            exec(compile(code, f"{path} [cell {number}]", "exec"), namespace)  # noqa: S102
        except BaseException as error:  # noqa: BLE001
            problems.append({"file": path, "cell": number, **describe_exception(error, path)})
    return namespace


def _signature(function) -> str:
    try:
        return f"{function.__name__}{inspect.signature(function)}"
    except (TypeError, ValueError):
        return f"{getattr(function, '__name__', '?')}(...)"


def _fingerprint(code) -> tuple:
    """A code object without its file and line numbers, nested functions included."""
    consts = tuple(
        _fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
        for c in code.co_consts
    )
    return (code.co_code, consts, code.co_names, code.co_varnames)


def _same_code(a, b) -> bool:
    code_a, code_b = getattr(a, "__code__", None), getattr(b, "__code__", None)
    if code_a is None or code_b is None:
        return False
    return _fingerprint(code_a) == _fingerprint(code_b)


def find_entry_points(namespaces: list[tuple[str, dict]], wanted: frozenset[str]):
    """Each entry point (the names the request calls) once; the same function imported
    elsewhere counts once; two different definitions are reported, not silently chosen between."""
    found, defined = {}, []
    for where, namespace in namespaces:
        for name, value in list(namespace.items()):
            if (
                not callable(value)
                or name.startswith("_")
                or isinstance(value, type)
                or isinstance(value, types.ModuleType)
            ):
                continue
            if (
                getattr(value, "__module__", None) not in (None, namespace.get("__name__"))
                and name not in wanted
            ):
                continue  # imported from a library, not the student's own
            if isinstance(value, types.FunctionType):
                defined.append({"name": name, "signature": _signature(value), "where": where})
            if name not in wanted:
                continue
            previous = found.get(name)
            if previous is None:
                found[name] = (value, [where])
            elif previous[0] is not value and not _same_code(previous[0], value):
                previous[1].append(where)
    entries = {name: {"where": places} for name, (_, places) in found.items()}
    return {name: value for name, (value, _) in found.items()}, entries, defined


# ------------------------------------------------------------------ calling


def to_tree(value, depth: int = 0):
    """A returned value as plain JSON data: numbers, nested lists, or arrays."""
    if depth > 6:
        return {"unsupported": "nested too deeply"}
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if isinstance(value, bool):
        return {"unsupported": "bool"}
    if isinstance(value, (int, float)):
        return float(value)
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.numel() > MAX_ELEMENTS:
            return {"unsupported": f"tensor of shape {tuple(tensor.shape)}"}
        if not (tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64)):
            return {"unsupported": f"tensor of dtype {tensor.dtype}"}
        return {
            "array": tensor.double().reshape(-1).tolist(),
            "shape": list(tensor.shape),
            "dtype": str(tensor.dtype),
            "grad": value.requires_grad,
        }
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        array = numpy.asarray(value)
        if array.size > MAX_ELEMENTS:
            return {"unsupported": f"array of shape {array.shape}"}
        if array.dtype.kind not in "fiu":
            if array.dtype.kind == "O":
                return {
                    "seq": [to_tree(item, depth + 1) for item in array.reshape(-1)][:MAX_ELEMENTS],
                    "shape": list(array.shape),
                }
            return {"unsupported": f"array of dtype {array.dtype}"}
        return {
            "array": array.astype(float).reshape(-1).tolist(),
            "shape": list(array.shape),
            "dtype": str(array.dtype),
        }
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ELEMENTS:
            return {"unsupported": f"{type(value).__name__} of length {len(value)}"}
        return {"seq": [to_tree(item, depth + 1) for item in value], "type": type(value).__name__}
    return {"unsupported": type(value).__name__}


class Requests:
    """The lines the grader writes on the request pipe: the request, then each call's inputs."""

    def __init__(self, fd: int):
        self.fd, self._pending = fd, b""

    def _line(self) -> bytes | None:
        while b"\n" not in self._pending:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None  # the grader closed the pipe: no more calls
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def first(self) -> dict:
        return json.loads(self._line() or b"{}")

    def inputs_of(self, call_id: str) -> dict | None:
        """The inputs of call `call_id`, as the grader sends them at its turn; None when none came."""
        line = self._line()
        if line is None:
            return None
        message = json.loads(line)
        return message.get("inputs") if message.get("id") == call_id else None


ELEMENT_TYPES = ("float64", "float32", "int64", "bool")  # what an input may arrive as


def make_arguments(call: dict):
    """Fresh arguments for every call, in the order the request gives: each case input an array
    of the call's framework (NumPy or torch) of its declared element type (float64 unless the
    contract says otherwise), each other argument its value."""
    if call["framework"] == "numpy":
        import numpy

        make = lambda v, d: numpy.array(v, dtype=getattr(numpy, d))  # noqa: E731
    else:
        import torch

        make = lambda v, d: torch.tensor(v, dtype=getattr(torch, d))  # noqa: E731
    inputs = call.get("inputs") or {}

    def element_type(argument) -> str:
        dtype = argument.get("dtype", "float64")
        return dtype if dtype in ELEMENT_TYPES else "float64"

    return [
        (a["name"], make(inputs[a["name"]], element_type(a)) if a.get("input") else a["value"])
        for a in call["arguments"]
    ]


def _changed(before, after) -> bool:
    try:
        return bool((before != after).any())
    except Exception:  # noqa: BLE001
        return False


def _judged_by_passes_only(call: dict) -> bool:
    """A training call whose only rule asks for backward passes: it returns no derivatives, so
    no value of its operations is judged."""
    return (
        set(call.get("watch") or ()) == {"gradients-from-autograd"}
        and bool(call.get("trains"))
        and not call.get("derivatives")
    )


def make_call(
    function, call: dict, watch=None, files: set[str] | None = None, standin=None
) -> dict:
    """`standin`: where torch is a stand-in (standin.py), its uses during the call are recorded,
    and each raises."""
    positional = make_arguments(call)
    originals = {
        name: value.clone() if hasattr(value, "clone") else value.copy()
        for name, value in positional
        if hasattr(value, "shape")
    }
    inputs = [value for (name, value), a in zip(positional, call["arguments"]) if a.get("input")]
    recording = (
        watch.begin(call.get("watch") or (), inputs, light=_judged_by_passes_only(call))
        if watch is not None
        else None
    )  # only where a rule covers the call
    # a probe's call: the numbers its own functions compute, line by line (locals.py)
    recorder = recording_locals.Recorder(files or set()) if call.get("trace") else None
    started = _perf()
    if standin is not None:
        standin.begin_call()
    try:
        if recorder is not None:
            with recorder:
                value = function(*[value for _, value in positional])
        else:
            value = function(*[value for _, value in positional])
    except BaseException as error:  # noqa: BLE001 - SystemExit inside a call is the student's
        seconds = _perf() - started
        used = standin.end_call() if standin is not None else []
        return {
            "ok": False,
            "error": describe_exception(error),
            "seconds": seconds,
            **_with_uses(watch.end(recording, None, call) if watch is not None else {}, used),
            **({"locals": recorder.report()} if recorder is not None else {}),
        }
    seconds = _perf() - started
    used = standin.end_call() if standin is not None else []
    evidence = _with_uses(watch.end(recording, value, call) if watch is not None else {}, used)
    if recorder is not None:
        evidence = {**evidence, "locals": recorder.report()}
    mutated = [
        name for name, value in positional if name in originals and _changed(originals[name], value)
    ]
    try:
        tree = to_tree(value)
    except BaseException as error:  # noqa: BLE001
        return {"ok": False, "error": describe_exception(error), "seconds": seconds, **evidence}
    return {"ok": True, "value": tree, "seconds": seconds, "mutated": mutated, **evidence}


def _quiet_output() -> tuple[int, int]:
    """stdout and stderr to /dev/null, at the file descriptors; what to restore them from."""
    _flush()
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    return saved


def _restore_output(saved: tuple[int, int]) -> None:
    _flush()
    for target, fd in zip((1, 2), saved):
        os.dup2(fd, target)
        os.close(fd)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the student's code replaced or closed
            pass


def _with_uses(evidence: dict, used: list[str]) -> dict:
    """The call's evidence with the torch stand-in's uses counted as torch computing."""
    if not used or "evidence" not in evidence:
        return evidence
    record = dict(evidence["evidence"])
    record["torch_calls"] = [*record.get("torch_calls", []), *used][:12]
    record["torch_count"] = int(record.get("torch_count", 0)) + len(used)
    return {**evidence, "evidence": record}


# ------------------------------------------------------------------ main


def _load_beside(name: str):
    """A module beside this file, loaded by path: the grader's package is not on this process's path."""
    spec = importlib.util.spec_from_file_location(
        f"_grader_{name}", os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


confinement = _load_beside("confine")  # at import, so a warm parent loads it (and pyseccomp) once
watching = _load_beside("watch")
recording_locals = _load_beside("locals")
freeform = _load_beside("freeform")
_standin = []
# The standard library's modules importing torch loads, which a hand-in may import too: the
# server without torch imports them once, since where the interpreter's own folders cannot be
# read by the submission's user (a Python under /root), a fork could not import them later.
STANDARD_MODULES = (
    "abc", "argparse", "array", "bisect", "cmath", "collections", "concurrent.futures", "contextlib",
    "copy", "csv", "dataclasses", "decimal", "enum", "fractions", "functools", "glob", "heapq",
    "itertools", "logging", "numbers", "operator", "pathlib", "pickle", "pprint", "queue", "random",
    "statistics", "string", "struct", "textwrap", "threading", "typing", "unittest", "warnings",
    "weakref",
)  # fmt: skip


def import_standard_modules() -> None:
    """STANDARD_MODULES, imported before the process is confined (where torch is not)."""
    for name in STANDARD_MODULES:
        try:
            __import__(name)
        except ImportError:
            pass


def standin_module():
    """standin.py, loaded once (a warm parent without torch loads it before it forks)."""
    if not _standin:
        _standin.append(_load_beside("standin"))
    return _standin[0]


def _source_files(sources: list[dict]) -> set[str]:
    """The file names the submission's code objects carry, as loaded here (a sibling import: absolute)."""
    names = set()
    for source in sources:
        if source["kind"] == "py":
            names |= {source["path"], os.path.abspath(source["path"])}
        else:
            names |= {
                f"{source['path']} [cell {number}]" for number in range(1, len(source["cells"]) + 1)
            }
    return names


def _confine(plan: dict | None, result_fd: int, request_fd: int | None = None) -> bool:
    """Apply the sandbox's plan to this process before any student code; say so on the channel."""
    if plan is None:
        send(result_fd, {"event": "confined", "ok": True, "layers": []})
        return True
    try:
        applied = confinement.confine(
            plan, keep_fds={result_fd} | ({request_fd} if request_fd is not None else set())
        )
    except Exception as error:  # noqa: BLE001 - reported, and the submission is not run
        send(
            result_fd,
            {"event": "confined", "ok": False, "message": f"{type(error).__name__}: {error}"},
        )
        return False
    send(result_fd, {"event": "confined", "ok": True, "layers": applied})
    return True


def serve(request: dict, result_fd: int, requests: Requests | None = None) -> None:
    """Load the submission in the current folder and answer the request's calls, each once its
    inputs came on `requests`."""
    import numpy  # noqa: F401 - imported before any student file can shadow it

    without = request.get("without_torch")  # this process's calls are made without PyTorch
    if without is None:
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already fixed in a warm parent
    standin = None
    if without is not None and not request.get("freeform"):  # before the grader's files are hidden
        import_standard_modules()  # the ones importing torch would have loaded
        standin = standin_module()
        standin.install(str(without.get("rule", "")), str(without.get("message", "")))
    if not _confine(request.get("sandbox"), result_fd, requests.fd if requests else None):
        return
    inert = _install_inert_modules()
    if request.get("freeform"):  # no entry point: the files run as written, watched (freeform.py)
        sys.path[:0] = sorted(
            {
                os.path.dirname(os.path.abspath(s["path"]))
                for s in request["sources"]
                if s["kind"] == "py"
            },
            key=len,
        )
        send_event = lambda message: send(result_fd, message)  # noqa: E731
        seconds = float(request["freeform"]["seconds"])
        freeform.run_scripts(
            request["sources"],
            send_event,
            _source_files(request["sources"]),
            seconds,
            describe_exception,
            strip_magics,
            _Inert,
            [str(a)[:100] for a in request["freeform"].get("answers", [])][:8],
        )
        send(result_fd, {"event": "done"})
        return
    # before any student code: what the recorders use is looked up now, not after a file could replace it
    watch = (
        watching.Watch(_source_files(request["sources"]), with_torch=standin is None)
        if any(call.get("watch") for call in request["calls"])
        else None
    )
    files = _source_files(request["sources"])
    started = _perf()
    problems: list = []
    namespaces: list[tuple[str, dict]] = []
    folders = sorted(
        {
            os.path.dirname(os.path.abspath(s["path"]))
            for s in request["sources"]
            if s["kind"] == "py"
        },
        key=len,
    )
    sys.path[:0] = folders
    # where torch is a stand-in, what the files print while they load is shown once, from the
    # process with PyTorch: here it is discarded (the calls' own output is kept)
    quiet = _quiet_output() if standin is not None else None
    taken: set[str] = set()
    for source in request["sources"]:
        if source["kind"] == "py":
            name = _module_name(source["path"], taken)
            taken.add(name)
            loaded = load_python(source["path"], name, problems, standin is not None)
            namespaces.append((source["path"], loaded))
        else:
            cells = source["cells"]
            loaded = load_notebook(source["path"], cells, problems, standin is not None)
            namespaces.append((source["path"], loaded))
    if quiet is not None:
        _restore_output(quiet)
    _flush()  # what loading printed reaches the grader before it hears the files are loaded
    functions, entries, defined = find_entry_points(
        namespaces, frozenset(call["entry"] for call in request["calls"])
    )
    send(
        result_fd,
        {
            "event": "loaded",
            "seconds": _perf() - started,
            "problems": problems,
            "entry_points": entries,
            "defined": defined,
            "inert_modules": inert,
        },
    )
    for call in request["calls"]:
        function = functions.get(call["entry"])
        if function is None or len(entries[call["entry"]]["where"]) > 1:
            continue  # the grader already knows why from the "loaded" event
        inputs = requests.inputs_of(call["id"]) if requests is not None else call.get("inputs")
        if inputs is None:
            break  # the grader asks no more of this process
        outcome = make_call(function, {**call, "inputs": inputs}, watch, files, standin)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        send(result_fd, {"event": "result", "id": call["id"], **outcome})
    _flush()  # a process that made no call printed too: its output before "done"
    send(result_fd, {"event": "done"})


def main() -> None:
    result_fd = int(sys.argv[1])
    requests = Requests(os.dup(0))  # the calls' inputs come later, one by one, on this pipe
    request = requests.first()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # the student's code reads nothing from the grader on its stdin
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    try:
        serve(request, result_fd, requests)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(0)  # no atexit hook or leftover thread of the student's runs after this


if __name__ == "__main__":
    main()

"""Runs inside the submission's process: what one call did while it ran, as plain data.

The spec's rules say how a part's numbers must be computed (Part A by hand, no
autograd; Part B from a backward pass).  Comparing numbers cannot tell, so the
child watches the calls a rule covers, and only those, with three recorders that
check each other:

- a TorchDispatchMode sees every torch operation, the ones autograd's engine runs
  in a backward pass included (`torch._C._current_graph_task_id()` is set there,
  whatever the entry: `Tensor.backward`, `torch.autograd.grad`, `torch.func`, an
  optimizer's closure); it keeps the small values a backward pass produced;
- a TorchFunctionMode names the torch functions the submission's code called;
- a profile hook counts calls into the submission's own functions (finite
  differences evaluate the network twice per weight), sees the engine's entry and
  forward-mode AD from the outside, and sees calls that switch recording off.

Where a rule asks that derivatives come from autograd, the hook also reads, as each backward
pass starts, the graph it runs: whether a tensor saved in it holds the values of one of the
call's inputs (x, the weights), that is, whether the pass differentiates the call's own
forward computation rather than a product of a fresh leaf with numbers made by hand.

A call that removed a recorder, replaced the profile hook or started a thread the
recorders do not reach is "unverifiable": the grader never takes it as clean.
Loaded by path (like confine.py): the grader's package is not on this process's path.
Everything it needs from torch and sys is looked up once, before any student code.
"""

from __future__ import annotations

import struct
import sys

MAX_VALUES = 20_000  # numbers kept from backward passes during one call
MAX_GRAPHS_READ = 8  # backward passes of one call whose graphs are read (a training call runs many)
MAX_GRAPH_NODES = 5_000  # nodes of one backward pass's graph read for the values it saved
MAX_SAVED_ELEMENTS = 4096  # a saved tensor larger than this is not read
MAX_NAMES = 12
SMALL_CONSTANT = (
    1e-3  # a float constant at most this large, in the code a call ran, looks like a step eps
)
# Making, converting, printing or inspecting a tensor is not computing with torch.
HARMLESS_TORCH = {
    "tensor", "as_tensor", "from_numpy", "asarray", "numpy", "tolist", "item", "detach", "cpu", "clone",
    "__repr__", "__str__", "__format__", "__get__", "__len__", "__iter__", "__getitem__", "__array__",
    "__float__", "__int__", "__index__", "__bool__", "dim", "size", "numel", "is_floating_point", "double",
    "float", "to", "type", "__hash__", "__eq__", "__reduce_ex__", "__deepcopy__", "_set_grad_enabled",
    "_record_function_enter_new", "_record_function_exit", "lift_fresh", "lift", "alias", "_to_copy", "copy_",
}  # fmt: skip
C_AUTOGRAD = {
    "run_backward": "a backward pass (the autograd engine)",
    "_make_dual": "forward-mode automatic differentiation",
}
# switching a recorder off, or running code where the recorders do not reach
C_TAMPER = {
    "setprofile", "settrace", "_pop_torch_dispatch_stack", "_pop_torch_function_stack", "_DisableTorchDispatch",
    "DisableTorchFunction", "DisableTorchFunctionSubclass", "_set_torch_function_mode", "_set_python_dispatcher",
}  # fmt: skip
# a thread or a process of its own, where none of the recorders reach: through the standard library too
C_ESCAPE = {
    "start_new_thread",
    "_start_new_thread",
    "_start_joinable_thread",
    "fork",
    "posix_spawn",
    "fork_exec",
}
COMPREHENSIONS = {"<listcomp>", "<genexpr>", "<setcomp>", "<dictcomp>"}


class Watch:
    """The recorders, set up before student code runs; `begin` and `end` bracket one call."""

    def __init__(self, source_files, with_torch: bool = True):
        """`with_torch` false: a process without PyTorch, where the profile hook is the recorder
        (what torch would have done cannot happen there; a stand-in counts its uses)."""
        self.files = set(source_files)
        self._setprofile, self._getprofile = sys.setprofile, sys.getprofile
        self.record = None
        if not with_torch:
            self._classes, self._handlers, self._pops = (), (), ()
            self._dispatch_stack = self._function_stack = None
            self._tamper_codes, self._transform_files, self._autograd_codes = set(), set(), {}
            self._tensor = type("NoTensor", (), {})
            return
        import torch
        import torch.autograd.forward_ad as forward_ad
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import (
            TorchDispatchMode,
            _disable_current_modes,
            _pop_mode_temporarily,
        )

        C = torch._C
        self._graph_task = C._current_graph_task_id
        self._interpreter = C._functorch.peek_interpreter_stack
        self._dispatch_stack = (C._len_torch_dispatch_stack, C._get_dispatch_stack_at)
        self._function_stack = (C._len_torch_function_stack, C._get_function_stack_at)
        self._pops = (
            lambda pop=C._pop_torch_dispatch_stack: pop(None),
            C._pop_torch_function_stack,
        )
        self._forward_ad = forward_ad
        self._tensor, self._isfinite = torch.Tensor, __import__("math").isfinite
        python_tamper = [
            _disable_current_modes,
            _pop_mode_temporarily,
            torch.overrides._pop_mode_temporarily,
        ]
        self._tamper_codes = {getattr(f, "__wrapped__", f).__code__ for f in python_tamper}
        import torch._functorch.apis as functorch_apis
        import torch._functorch.eager_transforms as functorch_transforms

        # a torch.func transform seen from the outside (a light record enters no dispatch mode)
        self._transform_files = {functorch_apis.__file__, functorch_transforms.__file__}
        self._autograd_codes = {
            torch.Tensor.backward.__code__: "Tensor.backward",
            torch.autograd.grad.__code__: "torch.autograd.grad",
            torch.autograd.backward.__code__: "torch.autograd.backward",
        }
        watch = self

        class DispatchRecorder(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                record = watch.record
                if record is not None:
                    try:  # the recording never changes what the student's code gets
                        record["ops"] += 1
                        how = watch._differentiating()
                        if how:
                            watch._note(record, "autograd", how)
                            if record["keep"]:
                                watch._keep(record, out)
                    except Exception:  # noqa: BLE001 - a value it cannot read (a torch.func wrapper) is not kept
                        record["unreadable"] = True
                return out

        class FunctionRecorder(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                record = watch.record
                if record is not None:
                    name = (
                        str(getattr(func, "__name__", "?")).split(".")[0].split("::")[-1]
                    )  # aten::lift_fresh.default: lift_fresh
                    if name not in HARMLESS_TORCH:
                        watch._note(record, "torch_calls", _display(func))
                        record["torch_count"] += 1
                return func(*args, **(kwargs or {}))

        # torch wraps a mode's handler to import torch._dynamo on its first call (seconds, and absent from
        # some sandboxes); the recorder is never compiled, so it keeps its own function
        DispatchRecorder.__torch_dispatch__ = getattr(
            DispatchRecorder.__torch_dispatch__, "__wrapped__", DispatchRecorder.__torch_dispatch__
        )
        self._classes = (DispatchRecorder, FunctionRecorder)
        self._handlers = (DispatchRecorder.__torch_dispatch__, FunctionRecorder.__torch_function__)
        self.record = None

    # ------------------------------------------------------------ during the call

    def _differentiating(self) -> str:
        if self._graph_task() != -1:
            return "a backward pass (the autograd engine)"
        interpreter = self._interpreter()
        if interpreter is not None and "Vmap" not in str(interpreter.key()):
            return "a torch.func transform"
        if self._forward_ad._current_level >= 0:
            return "forward-mode automatic differentiation"
        return ""

    def _note(self, record: dict, key: str, text: str) -> None:
        names = record[key]
        if text not in names and len(names) < MAX_NAMES:
            names.append(text)

    def _keep(self, record: dict, out) -> None:
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for item in outs:
            if isinstance(item, self._tensor) and item.is_floating_point() and item.numel() <= 64:
                if len(record["values"]) >= MAX_VALUES:
                    record["unreadable"] = True
                    return
                record["values"].extend(item.detach().reshape(-1).tolist())

    def _profile(self, frame, event, arg):
        record = self.record
        if record is None:
            return
        caller = frame.f_back if event == "call" else frame
        if caller is not None and caller.f_code.co_filename in self.files:
            # a call site of the submission's, by its line: a loop's body calls from one line again
            # and again (finite differences written inline run one forward pass per weight)
            site = (caller.f_code, caller.f_lineno)
            record["sites"][site] = record["sites"].get(site, 0) + 1
        if event == "call":
            code = frame.f_code
            if code.co_filename in self.files:
                record["counts"][code] = record["counts"].get(code, 0) + 1
            elif code in self._autograd_codes:
                self._note(record, "autograd", self._autograd_codes[code])
            elif code.co_filename in self._transform_files:
                self._note(record, "autograd", "a torch.func transform")
            elif code in self._tamper_codes and self._called_by_submission(frame.f_back):
                self._note(
                    record,
                    "tampered",
                    f"the call ran {code.co_name}, which switches the grader's recording off",
                )
        elif event == "c_call":
            name = getattr(arg, "__name__", "")
            if name in C_AUTOGRAD:
                self._note(record, "autograd", C_AUTOGRAD[name])
                if name == "run_backward" and record["keep"]:
                    self._read_graph(record, frame)
            elif name in C_TAMPER and frame.f_code.co_filename in self.files:
                self._note(
                    record,
                    "tampered",
                    f"the call ran {name}, which switches the grader's recording off",
                )
            elif name in C_ESCAPE and self._called_by_submission(frame, levels=6):
                self._note(
                    record,
                    "tampered",
                    f"the call ran {name}: code in another thread or process is not recorded",
                )

    def _read_graph(self, record: dict, frame) -> None:
        """As a backward pass starts: whether its graph saved the values of one of the call's inputs."""
        self.record = None  # the grader's own reading is not the call's
        try:
            roots = frame.f_locals.get("t_outputs") if frame is not None else None
            if not isinstance(roots, (tuple, list)):
                record["graphs_unread"] += 1  # the engine entered some other way: nothing to read
                return
            record["passes"] += 1
            if record["passes_from_inputs"] or record["passes"] > MAX_GRAPHS_READ:
                return  # one pass through the call's inputs settles it; a training loop's others are counted
            wanted = record.get("input_keys")
            if wanted is None:
                wanted = record["input_keys"] = [
                    k for k in (_keys(_flat(v, self._tensor)) for v in record["inputs"]) if k
                ]
            if _graph_holds(roots, wanted, self._tensor):
                record["passes_from_inputs"] += 1
        except Exception:  # noqa: BLE001 - a graph it cannot read is not held against the call
            record["graphs_unread"] += 1
        finally:
            self.record = record

    def _called_by_submission(self, frame, levels: int = 3) -> bool:
        """Whether the submission's code is among the nearest callers (a context manager's
        generator runs two frames below the `with` that entered it)."""
        while frame is not None and levels:
            if frame.f_code.co_filename in self.files:
                return True
            frame, levels = frame.f_back, levels - 1
        return False

    # ------------------------------------------------------------ around the call

    def begin(self, kinds, inputs=(), light: bool = False) -> dict | None:
        """Start recording for the rules of `kinds` (`inputs`: the call's case inputs, whose values
        a backward pass's graph is looked for); None when no rule covers the call.  `light`: the
        profile hook alone, no torch mode (a training call judged only by its backward passes,
        which the hook sees start: a mode on each of a long loop's operations costs it threefold)."""
        kinds = set(kinds)
        if not kinds:
            return None
        record = {
            "kinds": sorted(kinds), "keep": "gradients-from-autograd" in kinds, "ops": 0,
            "torch_count": 0, "values": [],
            "autograd": [], "torch_calls": [], "tampered": [], "counts": {}, "modes": [], "unreadable": False,
            "inputs": list(inputs), "passes": 0, "passes_from_inputs": 0, "graphs_unread": 0, "sites": {},
        }  # fmt: skip
        self.record = record
        previous = self._getprofile()
        if previous is not None:
            self._note(
                record, "tampered", "a profile hook of the submission's was already installed"
            )
        self._setprofile(self._profile)
        record["hook"] = self._getprofile()
        for cls, (length, _) in zip(
            () if light else self._classes, (self._dispatch_stack, self._function_stack)
        ):
            mode = cls()
            before = length()
            mode.__enter__()
            record["modes"].append((mode, before))
        return record

    def _on_stack(self, mode, depth: int, stack) -> bool:
        length, at = stack
        return length() == depth + 1 and at(depth) is mode

    def end(self, record: dict | None, value, call=None) -> dict:
        """Stop recording; the evidence for the grader (empty when nothing was watched).  `call`:
        the request's call, whose `derivatives` name the returned members a rule judges."""
        if record is None:
            return {}
        hook = self._getprofile()
        self._setprofile(None)
        self.record = None
        if hook is not record["hook"]:
            self._note(record, "tampered", "the call replaced or removed the grader's profile hook")
        stacks = (self._dispatch_stack, self._function_stack)
        for (mode, depth), stack, pop, handler, cls in zip(
            record["modes"], stacks, self._pops, self._handlers, self._classes
        ):
            if not self._on_stack(mode, depth, stack):
                self._note(
                    record,
                    "tampered",
                    f"the call removed or covered the grader's {cls.__mro__[1].__name__}",
                )
            if vars(cls).get(handler.__name__) is not handler:
                self._note(record, "tampered", "the call changed the grader's recorder")
            length, at = stack
            if length() > depth and at(depth) is mode:
                while length() > depth + 1:  # modes the submission left on top
                    pop()
                mode.__exit__(None, None, None)
        return {"evidence": self._evidence(record, value, call or {})}

    def _evidence(self, record: dict, value, call: dict) -> dict:
        counts = record["counts"]
        entry = next(iter(counts), None)  # the first submission function called is the entry point
        others = {
            code: n
            for code, n in counts.items()
            if code is not entry and code.co_name not in COMPREHENSIONS
        }
        most = max(others, key=others.get, default=None)
        names_torch = [
            code.co_qualname
            for code in counts
            if "torch" in code.co_names or "backward" in code.co_names
        ][:MAX_NAMES]
        constants = sorted(
            {
                abs(c)
                for code in counts
                for c in code.co_consts
                if isinstance(c, float) and 0 < abs(c) <= SMALL_CONSTANT
            }
        )[:5]
        sites = record["sites"]
        busiest = max(sites, key=sites.get, default=None)
        evidence = {
            "site_repeats": sites[busiest] if busiest is not None else 0,
            "busiest_site": f"line {busiest[1]} of {busiest[0].co_qualname}" if busiest else "",
            "watched": record["kinds"],
            "autograd": record["autograd"],
            "torch_calls": record["torch_calls"],
            "torch_count": record["torch_count"],
            "torch_ops": record["ops"],
            "evaluations": others[most] if most is not None else 0,
            "most_called": most.co_qualname if most is not None else "",
            "names_torch": names_torch,
            "small_constants": constants,
            "tampered": record["tampered"],
        }
        if record["keep"]:
            kept = record["values"]
            members = []
            for position, member in call.get("derivatives") or [[-1, ""]]:
                part = value if position == -1 else _member(value, position)
                returned = _numbers(part, self._tensor)
                # values a torch.func transform wraps cannot be read here: its derivatives get the
                # benefit of the doubt
                unmatched = (
                    []
                    if record["unreadable"] or returned is None
                    else [i for i, v in enumerate(returned) if not _produced(v, kept)]
                )
                members.append(
                    {
                        "member": str(member),
                        "elements": len(returned) if returned is not None else 0,
                        "not_from_backward": unmatched[:64],
                    }
                )
            if call.get("trains") and not call.get("derivatives"):
                members = []  # a training call returns no derivative: its backward passes are judged
            evidence["derivatives"] = members
            evidence["gradient_elements"] = sum(m["elements"] for m in members)
            evidence["not_from_backward"] = [i for m in members for i in m["not_from_backward"]][
                :64
            ]
            evidence["backward_passes"] = record["passes"]
            evidence["passes_from_inputs"] = record["passes_from_inputs"]
            evidence["graphs_unread"] = record["graphs_unread"]
            evidence["inputs_known"] = bool(record.get("input_keys", True))
            evidence["trains"] = bool(call.get("trains"))
        return evidence


def _display(func) -> str:
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", "?")
    owner, _, name = qualname.rpartition(".")
    if owner == "_VariableFunctionsClass":
        return f"torch.{name}"
    if owner in ("TensorBase", "Tensor"):
        return f"Tensor.{name}"
    module = getattr(func, "__module__", None) or ""
    return f"{module}.{qualname}" if module.startswith("torch") else qualname


def _numbers(value, tensor_type, depth: int = 0) -> list[float] | None:
    """The returned value's numbers in order, or None when it holds anything else."""
    if depth > 4:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, tensor_type):
        return value.detach().double().reshape(-1).tolist() if value.numel() <= 64 else None
    if hasattr(value, "tolist") and hasattr(value, "shape"):
        flat = value.reshape(-1).tolist() if getattr(value, "size", 65) <= 64 else None
        return (
            [float(v) for v in flat]
            if flat is not None and all(isinstance(v, (int, float)) for v in flat)
            else None
        )
    if isinstance(value, (list, tuple)) and len(value) <= 64:
        numbers = []
        for item in value:
            inner = _numbers(item, tensor_type, depth + 1)
            if inner is None:
                return None
            numbers.extend(inner)
        return numbers
    return None


def _member(value, position: int):
    """Member `position` of a returned tuple or list, or None."""
    if isinstance(value, (tuple, list)) and 0 <= position < len(value):
        return value[position]
    return None


def _key(number: float) -> float:
    """The number at float32's precision: a value the same in float64 and float32 has one key."""
    try:
        return struct.unpack("f", struct.pack("f", number))[0]
    except (OverflowError, struct.error):
        return number


def _flat(value, tensor_type) -> list:
    """A case input's values (an array the grader made for the call), or none when it is large."""
    if isinstance(value, tensor_type):
        value = value.detach()
    size = value.numel() if isinstance(value, tensor_type) else getattr(value, "size", 0)
    return value.reshape(-1).tolist() if 0 < size <= MAX_SAVED_ELEMENTS else []


def _keys(numbers) -> frozenset:
    return frozenset(_key(v) for v in numbers)


def _graph_holds(roots, wanted: list, tensor_type) -> bool:
    """Whether a tensor saved in the graph below `roots` (at most MAX_GRAPH_NODES nodes) holds every
    value of one of `wanted` (sets of keys): the pass differentiates a computation on that input."""
    if not wanted:
        return True  # no input to look for: nothing to hold against the pass
    stack = [getattr(r, "grad_fn", None) for r in roots]
    seen, values, nodes = set(), set(), 0
    while stack and nodes < MAX_GRAPH_NODES:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes += 1
        for name in dir(node):
            if not name.startswith("_saved_"):
                continue
            try:
                saved = getattr(node, name)
            except Exception:  # noqa: BLE001 - freed, or not a tensor
                continue
            for item in saved if isinstance(saved, (tuple, list)) else (saved,):
                if (
                    isinstance(item, tensor_type)
                    and item.is_floating_point()
                    and 0 < item.numel() <= MAX_SAVED_ELEMENTS
                ):
                    values.update(_key(v) for v in item.detach().reshape(-1).tolist())
        if any(keys <= values for keys in wanted):
            return True
        stack.extend(edge[0] for edge in getattr(node, "next_functions", ()))
    return any(keys <= values for keys in wanted)


def _produced(number: float, kept: list[float]) -> bool:
    """Whether a backward pass produced this number (float32 rounding of it included)."""
    if number != number:
        return any(k != k for k in kept)
    return any(abs(number - k) <= 1e-6 * max(abs(number), abs(k)) + 1e-12 for k in kept)


def warm_up(run) -> None:
    """Run `run` once under the recorders: torch sets up its Python dispatch path per operator on first
    use (seconds in all), and a warm parent that did so spares every fork that cost inside a timed call."""
    watch = Watch(set())
    record = watch.begin(["gradients-from-autograd", "no-autograd", "no-torch"])
    try:
        run()
    finally:
        watch.end(record, None, {})

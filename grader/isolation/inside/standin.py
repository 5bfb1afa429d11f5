"""Runs inside a submission's own process: an inert `torch` where PyTorch must not be.

Some calls are held to a rule that forbids PyTorch (for example a Part A that is NumPy
only), and run in a process where PyTorch cannot be imported at all.  The student's files
still `import torch` at the top, because one file holds both parts: it subclasses
`torch.nn.Module`, seeds, names dtypes and runs demo lines at the top level.  Were the
import to fail, the file would not load and the functions the rule allows would be lost
with it.  So `install` puts a stand-in `torch` in `sys.modules`, and a finder first on
`sys.meta_path` serves stand-ins for every `torch.*` name and its sibling packages,
without touching the file system.

While the files load, every stand-in is inert: attribute access gives a stand-in class,
calling one gives a stand-in value, and a value answers every operation with another
value (falsy, empty, zero), so the demo lines run and do nothing.  Two answers read the
statement asking, so that a line meant for the real torch does not stop the file: an
`assert` on a stand-in passes, and unpacking one (`n, d = x.shape`) gives as many values
as there are names, where a loop over one runs no times.

Between `begin_call` and `end_call` every use raises `TorchUnavailable`, whose message
names the rule and what the call used, and is recorded; printing a stand-in does not
raise (it is harmless) but is recorded too.  Imports are not uses: `import torch` inside
a function gives the stand-in module, which raises at its first use.  Looking a name up
on a stand-in module or class from the standard library, an installed package or the
grader's own files beside this one (`isinstance(x, torch.Tensor)` in a library that
checks what it was given) is not the student's use either: it gives the stand-in class,
raising nothing.

The call-time state lives in one small object the stand-ins reach through their closure,
not in a name on the `torch` module a student could rebind.  Only the standard library is
imported: this file is loaded by path, where the grader's package is not importable.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import opcode
import os
import sys
import sysconfig
import types

# The packages served as stand-ins, with every submodule of each.
ROOTS = ("torch", "torchvision", "torchaudio", "functorch", "torchgen", "triton")
VERSION = "0+standin"
MAX_USES = 12  # distinct uses one call records
MAX_USE_CHARS = 100
MAX_TRUTHS_AT_LOAD = 100_000  # a stand-in's truth asked this often while loading: a loop on it
_NAME_GROWTH = 60  # a value's name stops growing past this (a loop's chain of operations)
_MARK = "_torch_standin"  # on the classes of this file's modules and finders, to find them again


class TorchUnavailable(RuntimeError):
    """A call that must not use PyTorch used the stand-in."""


class _State:
    """Whether a call is running, and what it used: reached by the stand-ins' closures."""

    __slots__ = ("rule_id", "message", "active", "uses", "truths")

    def __init__(self, rule_id: str, message: str):
        self.rule_id, self.message = rule_id, message
        self.active = False
        self.uses: dict[str, None] = {}
        self.truths = 0  # how often the files' own code asked a stand-in's truth while loading


_state: _State | None = None


def install(rule_id: str, message: str) -> None:
    """Serve stand-ins for `torch` and its siblings from now on; `rule_id: message` on use.

    Refuses where PyTorch is already imported: the stand-in is for a process without it,
    and shadowing a live torch would mix the two.  Installing again only changes the rule.
    """
    global _state
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] in ROOTS and module is not None and not _is_standin(module):
            raise RuntimeError(
                f"{name} is already imported: the torch stand-in is only for a process "
                "where PyTorch is absent"
            )
    if _state is not None and _is_standin(sys.modules.get("torch")):
        _state.rule_id, _state.message = rule_id, message
        return
    _remove_standins()  # another copy of this file's, loaded under another name
    state = _State(rule_id, message)
    finder = _build(state)
    sys.meta_path.insert(0, finder)
    spec = finder.find_spec("torch")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["torch"] = module
    _state = state


def begin_call() -> None:
    """From now until `end_call`, a use of a stand-in raises and is recorded."""
    if _state is not None:
        _state.uses.clear()
        _state.active = True


def end_call() -> list[str]:
    """The distinct uses since `begin_call` (printing included), first ones first; stop raising."""
    if _state is None:
        return []
    uses = list(_state.uses)
    _state.uses.clear()
    _state.active = False
    return uses


def _is_standin(module) -> bool:
    return bool(type(module).__dict__.get(_MARK))


def _remove_standins() -> None:
    for name in [n for n, m in sys.modules.items() if m is not None and _is_standin(m)]:
        del sys.modules[name]
    sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__dict__.get(_MARK)]


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name[:2] == "__" and name[-2:] == "__"


def _library_dirs() -> tuple[str, ...]:
    """Where the standard library, installed packages and the grader's own files are."""
    paths = sysconfig.get_paths()
    found = {paths.get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    site = sys.modules.get("site")
    if site is not None:
        found.update(getattr(site, "getsitepackages", list)())
        found.add(getattr(site, "USER_SITE", None))
    found.add(os.path.dirname(os.path.abspath(__file__)))
    return tuple(os.path.realpath(p) + os.sep for p in found if p)


def _build(state: _State):
    """The stand-in classes, module type and finder, all closed over `state`; the finder."""
    classes: dict[str, type] = {}  # a stand-in class per dotted name
    library: set[type] = set()  # the stand-in classes made here (not a student's subclasses)
    library_dirs = _library_dirs()
    by_library: dict[str, bool] = {}  # a code object's file name -> is it outside student code
    import_codes = {opcode.opmap[n] for n in ("IMPORT_FROM", "IMPORT_STAR") if n in opcode.opmap}
    unpack_sequence = opcode.opmap.get("UNPACK_SEQUENCE")
    unpack_ex = opcode.opmap.get("UNPACK_EX")
    extended_arg = opcode.opmap.get("EXTENDED_ARG")
    assert_tests: dict[types.CodeType, frozenset[int]] = {}
    module_getattribute = types.ModuleType.__getattribute__
    missing = object()

    def record(what: str) -> None:
        what = what[:MAX_USE_CHARS]
        if what not in state.uses and len(state.uses) < MAX_USES:
            state.uses[what] = None

    def use(what: str) -> None:
        """Inside a call: record `what`, then refuse it."""
        if state.active:
            record(what)
            raise TorchUnavailable(
                f"{state.rule_id}: {state.message} (this call used {what[:MAX_USE_CHARS]}; "
                "PyTorch is not available in these calls)"
            )

    def note(what: str) -> None:
        """Inside a call: record `what` (printing a stand-in is harmless)."""
        if state.active:
            record(what)

    def looked_up_by_library(frame) -> bool:
        """Is this lookup an import's, or from code that is not the student's?"""
        if frame is None:
            return True
        code = frame.f_code
        filename = code.co_filename
        outside = by_library.get(filename)
        if outside is None:
            if filename.startswith("<"):
                outside = filename.startswith("<frozen ")  # the import system, os, codecs...
            else:
                outside = os.path.realpath(filename).startswith(library_dirs)
            by_library[filename] = outside
        if outside:
            return True
        try:
            return code.co_code[frame.f_lasti] in import_codes  # `from torch import nn`
        except (IndexError, ValueError):
            return False

    def lookup(what: str) -> None:
        if state.active and not looked_up_by_library(sys._getframe(2)):
            use(what)

    def unpacked(frame) -> int:
        """How many values the statement being run unpacks (`n, d = x.shape`); 0 elsewhere."""
        try:
            code, at = frame.f_code.co_code, frame.f_lasti
            if code[at] not in (unpack_sequence, unpack_ex):
                return 0
            argument, before, shift = code[at + 1], at - 2, 8
            while before >= 0 and code[before] == extended_arg:
                argument |= code[before + 1] << shift
                before, shift = before - 2, shift + 8
        except (AttributeError, IndexError, ValueError):
            return 0
        if code[at] == unpack_ex:  # `a, *rest, b = x`: the names either side of the star
            return (argument & 0xFF) + (argument >> 8)
        return argument

    def truth(frame, what: str) -> bool:
        """A stand-in's truth: false (true for an `assert`'s).  While the files load, a loop that
        waits on one (`while not converged:`) would never end: past MAX_TRUTHS_AT_LOAD asks the
        statement fails, and the next one runs."""
        if not state.active:
            state.truths += 1
            if state.truths > MAX_TRUTHS_AT_LOAD:
                state.truths = 0
                raise TorchUnavailable(
                    f"the file's code asked {what} {MAX_TRUTHS_AT_LOAD} times while it loaded, "
                    "as a loop that waits on torch does; PyTorch is not loaded in this process"
                )
        return asserted(frame)

    def asserted(frame) -> bool:
        """Is the truth being asked for an `assert`'s, which then passes at load?"""
        try:
            code = frame.f_code
            offsets = assert_tests.get(code)
            if offsets is None:
                offsets = assert_tests[code] = _assert_offsets(code)
            return frame.f_lasti in offsets
        except Exception:  # noqa: BLE001 - an unreadable frame: plain falsity, as elsewhere
            return False

    def passes_through(args, kwargs) -> bool:
        """`@torch.no_grad()` or `@torch.jit.script` over a function: keep the function."""
        return (
            len(args) == 1
            and not kwargs
            and callable(args[0])
            and not isinstance(args[0], (Standin, StandinClass))
        )

    def name_of(value) -> str:
        try:
            return name_slot.__get__(value)
        except AttributeError:  # a student's subclass, made by its own constructor
            return type.__getattribute__(type(value), "__qualname__")

    def label(value) -> str:
        cls = type(value)
        return "a tensor" if cls is tensor else f"a {type.__getattribute__(cls, '__qualname__')}"

    def make(cls: type, name: str):
        value = object.__new__(cls)
        name_slot.__set__(value, name[:MAX_USE_CHARS])
        return value

    def derived(value, suffix: str):
        name = name_of(value)
        return make(tensor, name + suffix if len(name) <= _NAME_GROWTH else name)

    def library_base(cls: type) -> str:
        for base in cls.__mro__:
            if base in library:
                return base.__qualname__
        return "torch"

    def standin_class(qualified: str) -> type:
        cls = classes.get(qualified)
        if cls is None:
            namespace = {
                "__module__": qualified.partition(".")[0],
                "__qualname__": qualified,
                "__doc__": f"Stand-in for {qualified}: PyTorch is not available here.",
            }
            cls = StandinClass(qualified.rpartition(".")[2] or qualified, (Standin,), namespace)
            classes[qualified] = cls
            library.add(cls)
        return cls

    def text(name: str) -> str:
        return f"<torch stand-in: {name}>"

    # ------------------------------------------------------------------ values

    def value_binary(symbol: str):
        def operation(self, other=None, *more):
            use(f"{label(self)}'s {symbol}")
            return make(tensor, "tensor")

        return operation

    def value_unary(symbol: str, result):
        def operation(self, *more):
            use(f"{label(self)}'s {symbol}")
            return make(tensor, "tensor") if result is None else result

        return operation

    class Standin:
        """A stand-in value: every operation gives another, inertly, outside a call."""

        __slots__ = ("_torch_standin_name", "__dict__", "__weakref__")

        def __init__(self, *args, **kwargs):
            pass  # `super().__init__(...)` in a student's subclass

        def __getattribute__(self, name):
            if state.active and not _is_dunder(name):
                use(f"{label(self)}'s .{name}")
            return object.__getattribute__(self, name)

        def __getattr__(self, name):
            if _is_dunder(name) or name == "_torch_standin_name":  # copy reads unset slots
                raise AttributeError(f"{name_of(self)!r} stand-in has no attribute {name!r}")
            return derived(self, f".{name}")

        def __setattr__(self, name, value):
            if not _is_dunder(name):
                use(f"{label(self)}'s .{name} (assigned)")
            object.__setattr__(self, name, value)

        def __delattr__(self, name):
            if not _is_dunder(name):
                use(f"{label(self)}'s .{name} (deleted)")
            object.__delattr__(self, name)

        def __call__(self, *args, **kwargs):
            use(f"{label(self)} called as a function")
            if type(self) in library and passes_through(args, kwargs):
                return args[0]
            return derived(self, "(...)")

        def __getitem__(self, key):
            use(f"{label(self)}'s [...]")
            return derived(self, "[...]")

        def __setitem__(self, key, value):
            use(f"{label(self)}'s [...] (assigned)")

        def __delitem__(self, key):
            use(f"{label(self)}'s [...] (deleted)")

        def __iter__(self):
            use(f"{label(self)}'s iteration")
            count = unpacked(sys._getframe(1))
            return iter([derived(self, f"[{i}]") for i in range(count)])

        def __reversed__(self):
            use(f"{label(self)}'s reversed()")
            return iter(())

        def __contains__(self, item):
            use(f"{label(self)}'s in")
            return False

        def __len__(self):
            use(f"{label(self)}'s len()")
            return 0

        def __bool__(self):
            use(f"{label(self)}'s bool()")
            return truth(sys._getframe(1), f"{label(self)}'s bool()")

        def __eq__(self, other):
            use(f"{label(self)}'s ==")
            return self is other

        def __ne__(self, other):
            use(f"{label(self)}'s !=")
            return self is not other

        __hash__ = object.__hash__

        def __enter__(self):
            use(f"{label(self)}'s with")
            return self

        def __exit__(self, *exception):
            return None

        def __array__(self, dtype=None, copy=None):
            use(f"{label(self)}'s conversion to a NumPy array")
            return sys.modules["numpy"].zeros((), dtype=float if dtype is None else dtype)

        def __repr__(self):
            note(f"{label(self)}'s repr()")
            return text(name_of(self))

        def __str__(self):
            note(f"{label(self)}'s str()")
            return text(name_of(self))

        def __format__(self, spec):
            note(f"{label(self)}'s format()")
            return text(name_of(self))

    Standin.__module__, Standin.__qualname__ = "torch", "stand-in"
    name_slot = Standin.__dict__["_torch_standin_name"]

    # ------------------------------------------------------------------ classes

    def class_binary(symbol: str):
        def operation(cls, other=None, *more):
            if cls not in library:
                return NotImplemented
            use(f"{cls.__qualname__}'s {symbol}")
            return make(tensor, "tensor")

        return operation

    def class_unary(symbol: str, result):
        def operation(cls, *more):
            if cls not in library:
                raise TypeError(f"bad operand type for {symbol}: {cls.__qualname__!r}")
            use(f"{cls.__qualname__}'s {symbol}")
            return make(tensor, "tensor") if result is None else result

        return operation

    class StandinClass(type):
        """The type of stand-in classes: looking a name up on one gives another."""

        def __getattr__(cls, name):
            if _is_dunder(name):
                raise AttributeError(f"stand-in {cls.__qualname__!r} has no attribute {name!r}")
            base = cls.__qualname__ if cls in library else library_base(cls)
            qualified = f"{base}.{name}"
            lookup(qualified)
            return standin_class(qualified)

        def __call__(cls, *args, **kwargs):
            if cls not in library:  # a student's subclass: its own constructor
                use(f"{cls.__qualname__} (a {library_base(cls)})")
                return type.__call__(cls, *args, **kwargs)
            name = cls.__qualname__
            use(name)
            if passes_through(args, kwargs):
                return args[0]
            last = name.rpartition(".")[2]
            return make(cls if last[:1].isupper() else tensor, f"{name}(...)")

        def __bool__(cls):
            if cls not in library:
                return True
            use(f"{cls.__qualname__}'s bool()")
            return truth(sys._getframe(1), f"{cls.__qualname__}'s bool()")

        def __repr__(cls):
            if cls not in library:
                return type.__repr__(cls)
            note(f"{cls.__qualname__}'s repr()")
            return text(cls.__qualname__)

        def __str__(cls):
            if cls not in library:
                return type.__repr__(cls)
            note(f"{cls.__qualname__}'s str()")
            return text(cls.__qualname__)

        def __format__(cls, spec):
            if cls not in library:
                return type.__format__(cls, spec)
            note(f"{cls.__qualname__}'s format()")
            return text(cls.__qualname__)

    binary = {
        "add": "+", "sub": "-", "mul": "*", "matmul": "@", "truediv": "/", "floordiv": "//",
        "mod": "%", "divmod": "divmod()", "pow": "**", "lshift": "<<", "rshift": ">>",
        "and": "&", "xor": "^", "or": "|",
    }  # fmt: skip
    for op, symbol in binary.items():
        setattr(Standin, f"__{op}__", value_binary(symbol))
        setattr(Standin, f"__r{op}__", value_binary(symbol))
        if op != "divmod":
            setattr(Standin, f"__i{op}__", value_binary(f"{symbol}="))
        if op != "or":  # `torch.Tensor | None` stays a union of types
            setattr(StandinClass, f"__{op}__", class_binary(symbol))
            setattr(StandinClass, f"__r{op}__", class_binary(symbol))
    for op, symbol in {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}.items():
        setattr(Standin, f"__{op}__", value_binary(symbol))
        setattr(StandinClass, f"__{op}__", class_binary(symbol))
    unary = {
        "neg": ("unary -", None), "pos": ("unary +", None), "abs": ("abs()", None),
        "invert": ("~", None), "round": ("round()", None), "trunc": ("math.trunc()", None),
        "floor": ("math.floor()", None), "ceil": ("math.ceil()", None),
        "float": ("float()", 0.0), "int": ("int()", 0), "index": ("use as an index", 0),
        "complex": ("complex()", 0j),
    }  # fmt: skip
    for op, (symbol, result) in unary.items():
        setattr(Standin, f"__{op}__", value_unary(symbol, result))
        setattr(StandinClass, f"__{op}__", class_unary(symbol, result))

    tensor = standin_class("torch.Tensor")  # what operations on stand-ins give

    # ------------------------------------------------------------------ modules

    class StandinModule(types.ModuleType):
        """A stand-in package: its names are stand-in classes (its dunders are its own)."""

        _torch_standin = True

        def __getattribute__(self, name):
            if _is_dunder(name):
                return module_getattribute(self, name)
            qualified = f"{module_getattribute(self, '__name__')}.{name}"
            if state.active and not looked_up_by_library(sys._getframe(1)):
                use(qualified)
            found = module_getattribute(self, "__dict__").get(name, missing)
            return standin_class(qualified) if found is missing else found

    class StandinLoader:
        """Makes the stand-in modules, with no file behind them."""

        _torch_standin = True

        def create_module(self, spec):
            return StandinModule(spec.name)

        def exec_module(self, module):
            module.__doc__ = "Stand-in: PyTorch is not available in this process."
            if "." not in module.__name__:
                module.__version__ = VERSION

        def is_package(self, fullname):
            return True

        def __repr__(self):
            return "<torch stand-in loader>"

    loader = StandinLoader()

    class StandinFinder:
        """First on sys.meta_path: every name under ROOTS is a stand-in package."""

        _torch_standin = True

        def find_spec(self, fullname, path=None, target=None):
            if fullname.partition(".")[0] not in ROOTS:
                return None
            return importlib.machinery.ModuleSpec(fullname, loader, is_package=True)

        def __repr__(self):
            return "<torch stand-in finder>"

    return StandinFinder()


def _assert_offsets(code: types.CodeType) -> frozenset[int]:
    """The offsets of the truth tests whose truth lets an `assert` pass."""
    import dis  # only when a stand-in is asked for its truth while the files load

    instructions = list(dis.get_instructions(code))
    starts = {i.offset for i in instructions if i.opname == "LOAD_ASSERTION_ERROR"}
    found = set()
    for index, instruction in enumerate(instructions[:-1]):
        name = instruction.opname
        if "JUMP" not in name or not ("IF_TRUE" in name or "IF_FALSE" in name):
            continue
        after = instructions[index + 1].offset
        if ("IF_TRUE" in name and after in starts) or (
            "IF_FALSE" in name and instruction.argval in starts
        ):
            found.add(instruction.offset)
            if index and instructions[index - 1].opname == "TO_BOOL":
                found.add(instructions[index - 1].offset)
    return frozenset(found)

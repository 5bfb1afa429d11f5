"""The layout of grader/ and reference/: imports run one way, floor by floor.

Every import of every module is read with `ast`, those inside functions too, so an
import put off until a call still counts.  The floors of grader/, lowest first:
core, isolation, engine, outputs, course; grader.gradescope and the top (cli,
selfcheck, the authors' names) may import all of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("grader", "reference")
FLOORS = ("core", "isolation", "engine", "outputs", "course")
# what each floor may import of grader's other folders
ALLOWED = {floor: set(FLOORS[: i + 1]) for i, floor in enumerate(FLOORS)}
TOP_ENTRIES = 14  # entry points, the authoring API shims, the floors
SHIMS = ("assignment", "contract", "cases", "catalog")  # the names an assignment's authors import


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "__pycache__" in path.parts or "starter" in path.relative_to(REPO).parts:
                continue
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of grader/ and reference/ that `name` imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from a.b import c`: the module a.b.c where c is one, else a.b
            candidates = [
                f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                for alias in node.names
            ]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in modules:  # `import a.b.c` of a name inside a.b
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _floor(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "grader" and len(parts) > 2 and parts[1] in FLOORS else None


def test_the_graph_is_read():
    graph = _graph()
    assert "grader.core.spec" in graph["grader.engine.pipeline"]
    assert "reference.backprop.variations" in graph["reference.backprop.network"]
    assert "grader.cli" in graph["grader.selfcheck"]  # a function-level import is seen


def test_no_import_cycles_in_grader_or_reference():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(
                    " -> ".join(path[path.index(target) :] + [target])
                    if target in path
                    else f"{module} -> {target}"
                )
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_each_floor_imports_only_the_floors_below():
    wrong = []
    for module, targets in _graph().items():
        floor = _floor(module)
        if floor is None:
            continue
        for target in targets:
            if not target.startswith("grader."):
                continue
            if (
                target in ("grader.cli", "grader.selfcheck")
                or target.startswith("grader.gradescope")
                or target == "grader"
            ):
                wrong.append(f"{module} imports {target}")
            elif target.removeprefix("grader.") in SHIMS:
                wrong.append(
                    f"{module} imports {target}, the authors' name: import grader.core.{target.removeprefix('grader.')}"
                )
            elif _floor(target) not in ALLOWED[floor]:
                wrong.append(f"{module} ({floor}) imports {target} ({_floor(target)})")
    assert wrong == []


def test_the_top_of_grader_is_small():
    entries = sorted(p.name for p in (REPO / "grader").iterdir() if p.name != "__pycache__")
    assert len(entries) <= TOP_ENTRIES, entries
    for floor in FLOORS:
        assert (REPO / "grader" / floor / "__init__.py").is_file()


def test_the_authors_names_are_the_cores():
    import importlib

    for name in SHIMS:
        shim, core = (
            importlib.import_module(f"grader.{name}"),
            importlib.import_module(f"grader.core.{name}"),
        )
        public = {
            n
            for n, v in vars(core).items()
            if not n.startswith("_")
            and getattr(v, "__module__", core.__name__) == core.__name__
            and not isinstance(v, type(ast))
        }
        assert public <= set(shim.__all__), name
        assert all(getattr(shim, n) is getattr(core, n) for n in shim.__all__)

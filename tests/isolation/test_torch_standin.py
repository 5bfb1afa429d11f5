"""Does the torch stand-in let a both-parts file load, and refuse PyTorch inside a call?

The stand-in is for a process where PyTorch cannot be imported, so each scenario runs in
a real separate interpreter (`python -I`) that loads `standin.py` by path, as the
submission's process does, and installs it before anything could import the real torch.
A student-like file using every common form of PyTorch at its top level is then loaded,
its NumPy-only functions are called between `begin_call` and `end_call`, and the
interpreter reports what happened as one JSON line.  At the end it also reports whether
anything of the real torch reached the process: its modules, its files, its libraries.
Only the refusal test imports the real torch, on purpose.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

STANDIN = REPO / "grader" / "isolation" / "inside" / "standin.py"
RULE = "no-torch-in-numpy-part"
MESSAGE = "Part A is NumPy only."
PREFIX = f"{RULE}: {MESSAGE} (this call used "

# What the submission's process does first: the stand-in, by path, before any import of torch.
# Every file opened from then on is noted (an audit hook), to show nothing of torch is read.
DRIVER_HEAD = """
import importlib.util, json, sys
standin_path, student_path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("_grader_standin", standin_path)
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)
standin.install("no-torch-in-numpy-part", "Part A is NumPy only.")
opened = []
sys.addaudithook(lambda event, args: event == "open" and opened.append(str(args[0])))
report = {}


def load(path):
    spec = importlib.util.spec_from_file_location("student", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["student"] = module
    spec.loader.exec_module(module)
    return module


def finish():
    roots = ("torch", "torchvision", "torchaudio", "functorch", "torchgen", "triton")
    loader = sys.modules["torch"].__spec__.loader
    report["torch_modules"] = {
        name: getattr(module, "__file__", None) is None and module.__spec__.loader is loader
        for name, module in sys.modules.items()
        if name.partition(".")[0] in roots
    }
    report["opened"] = [path for path in opened if "torch" in path]
    report["files opened"] = len(opened)  # the student's numpy, at least: the hook works
    with open("/proc/self/maps") as maps:
        mapped = {line.split()[-1] for line in maps if "/" in line}
    report["maps"] = sorted(path for path in mapped if "torch" in path)
    report["numpy mapped"] = any("numpy" in path for path in mapped)
    print("RESULT " + json.dumps(report, default=repr))
"""

# A file holding both parts, as students hand them in: PyTorch at the top level throughout.
STUDENT = '''
import copy
import importlib.util
import inspect
import pickle
import pkgutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import nn as nn_again, optim
from torch.autograd import grad
import torchvision.transforms as transforms
import triton.language
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
DTYPE = torch.float64
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
FACTS = {}


class Net(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)
        self.sizes = (n_in, n_out)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward_numpy(x, w):
    return sigmoid(x @ w)


def forward_torch(x, w):
    return (torch.tensor(x) @ torch.tensor(w)).numpy()


def forward_prints(x, w):
    print("running on", device)
    return sigmoid(x @ w)


IMPORTED = []


def forward_imports(x, w):
    import torch
    import torch.nn.functional as G
    from torch import nn

    IMPORTED.append(torch is sys.modules["torch"])
    return sigmoid(x @ w)


def forward_swallows(x, w):
    try:
        torch.zeros(2)
    except Exception:
        pass
    return sigmoid(x @ w)


def forward_probes(x, w):
    """A library asks whether it was given a tensor: not the student's use."""
    tensor_type = pkgutil.resolve_name("torch:Tensor")
    assert not isinstance(x, tensor_type)
    return sigmoid(x @ w)


def torch_backward(x, y, w):
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    loss = ((torch.sigmoid(x @ w) - y) ** 2).mean()
    loss.backward()
    return w.grad


@torch.no_grad()
def evaluate(x):
    return x * 2


@torch.jit.script
def scripted(x):
    return x + 1


x = np.array([[1.0, 2.0]])
y = np.array([1.0])
w = np.array([[0.5], [-0.5]])
print(torch_backward(torch.tensor(x), torch.tensor(y), w))

net = Net(2, 3)
model = net.to(device)
optimizer = optim.SGD(model.parameters(), lr=0.1)
epochs = 0
for epoch in range(3):
    epochs += 1
    optimizer.zero_grad()
    loss = F.mse_loss(model(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    optimizer.step()
    print(f"{loss.item():.4f}")
    if loss < 0.01:
        break
with torch.no_grad() as context:
    for p in model.parameters():
        p -= 0.1 * p.grad
        FACTS["loop over parameters ran"] = True
    FACTS["with gives the value"] = context is not None and "stand-in" in repr(context)
(g,) = grad(loss, [w])
n, d = torch.tensor(x).shape
first, *rest = model.parameters()
assert torch.allclose(loss, loss)
loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=1)
for batch in loader:
    FACTS["loop over a loader ran"] = True

t = torch.tensor(x)
t[0] = 1.0
t.requires_grad = True
TENSOR = t
CLASSES = [getattr(torch, f"name{i}") for i in range(20)] + [getattr(torch, "x" * 200)]
FACTS.update(
    {
        "isinstance ndarray": isinstance(np.zeros(2), torch.Tensor),
        "class cached": torch.nn.Module is nn.Module is nn_again.Module,
        "qualname": torch.nn.Module.__qualname__,
        "module": torch.nn.Module.__module__,
        "net": list(Net(2, 3).sizes),
        "net is a Module": isinstance(net, nn.Module),
        "decorated": [evaluate(3), evaluate.__name__, scripted(1), scripted.__name__],
        "version": torch.__version__,
        "device": str(device),
        "formatted": [f"{loss:.4f}", f"{loss.item():.4f}"],
        "str": str(loss),
        "epochs": epochs,
        "g n d first rest": [repr(g), repr(n), repr(d), repr(first), rest],
        "bool len float int list": [bool(t), len(t), float(t), int(t), list(t)],
        "index": list(range(10))[t],
        "compare": "stand-in" in repr(t < 0.01),
        "eq ne hash": [t == t, t != t, t == 1, hash(t) == hash(t)],
        "arithmetic": [repr(-t), repr(2 ** t), repr(t @ t), repr(abs(t)), repr(1 - t)],
        "attribute set": t.requires_grad,
        "np.array": [np.array(t).tolist(), np.array(t).shape, np.asarray([t, t]).tolist()],
        "pi": [float(torch.pi), "stand-in" in repr(-torch.pi)],
        "dunders": [
            hasattr(torch, "__all__"),
            hasattr(torch, "__file__"),
            torch.__spec__.name,
            torch.__path__,
            torch.nn.__spec__.name,
            isinstance(torch.__loader__, object),
        ],
        "dir": "__version__" in dir(torch),
        "inspect": inspect.getmodule(forward_numpy).__name__,
        "pickle": len(pickle.loads(pickle.dumps({"a": [1, 2]}))),
        "find_spec": importlib.util.find_spec("torch.nn").name,
        "deepcopy": list(copy.deepcopy(net).sizes),
        "modules": [transforms.__name__, triton.language.__name__, F.__name__],
        "repr forms": [repr(torch.nn.Module), repr(DTYPE), repr(nn.Linear(1, 1))],
    }
)
'''

DRIVER_MAIN = """
import contextlib, io
student = load(student_path)
report["facts"] = student.FACTS
x, w = student.x, student.w


def call(function, *args):
    out = io.StringIO()
    standin.begin_call()
    try:
        with contextlib.redirect_stdout(out):
            value = function(*args)
        outcome = {"ok": True, "value": getattr(value, "tolist", lambda: value)()}
    except Exception as error:
        outcome = {"ok": False, "error": type(error).__name__, "message": str(error)}
    outcome["uses"] = standin.end_call()
    outcome["printed"] = out.getvalue()
    return outcome


report["expected"] = student.sigmoid(x @ w).tolist()
for name in ("numpy", "torch", "prints", "imports", "swallows", "probes"):
    report[name] = call(getattr(student, "forward_" + name), x, w)
report["imported"] = student.IMPORTED
t, module, net = student.TENSOR, student.Net, student.net
operations = {
    "attribute": lambda: t.backward,
    "assign attribute": lambda: setattr(t, "grad", None),
    "call": lambda: net(t),
    "construct": lambda: module(2, 3),
    "class call": lambda: student.nn.Linear,
    "add": lambda: t + 1,
    "reflected": lambda: 1 * t,
    "matmul": lambda: x @ t,
    "neg": lambda: -t,
    "less": lambda: t < 0.01,
    "eq": lambda: t == t,
    "index": lambda: t[0],
    "set item": lambda: t.__setitem__(0, 1),
    "iterate": lambda: list(t),
    "len": lambda: len(t),
    "bool": lambda: bool(t),
    "float": lambda: float(t),
    "int": lambda: int(t),
    "use as index": lambda: [1, 2][t],
    "with": lambda: t.__enter__(),
    "numpy": lambda: student.np.asarray(t),
    "numpy dtype": lambda: student.np.zeros(2, dtype=student.DTYPE),
    "module attribute": lambda: student.torch.manual_seed(0),
    "class attribute": lambda: student.DTYPE.is_floating_point,
    "repr": lambda: repr(t),
    "str": lambda: str(student.device),
    "format": lambda: format(t, ".4f"),
    "class repr": lambda: repr(student.DTYPE),
}
report["operations"] = {name: call(operation) for name, operation in operations.items()}
report["many"] = call(lambda: [str(c) for c in student.CLASSES])
report["after"] = [repr(student.forward_torch(x, w)), len(t), standin.end_call()]
standin.install("another-rule", "Another message.")
report["reinstalled"] = call(student.forward_torch, x, w)
finish()
"""


def run(tmp_path, driver: str, student: str = "") -> dict:
    """Run the driver in a fresh interpreter without the real torch; its JSON report."""
    (tmp_path / "driver.py").write_text(textwrap.dedent(driver))
    (tmp_path / "student.py").write_text(textwrap.dedent(student))
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            str(tmp_path / "driver.py"),
            str(STANDIN),
            str(tmp_path / "student.py"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    return run(tmp_path_factory.mktemp("standin"), DRIVER_HEAD + DRIVER_MAIN, STUDENT)


def test_the_file_loads_with_every_form_of_torch_at_its_top_level(report):
    facts = report["facts"]
    assert facts["isinstance ndarray"] is False
    assert facts["class cached"] is True
    assert (facts["qualname"], facts["module"]) == ("torch.nn.Module", "torch")
    assert facts["net"] == [2, 3]  # a subclass's own constructor, with its own arguments
    assert facts["net is a Module"] is True
    assert facts["decorated"] == [6, "evaluate", 2, "scripted"]  # still the student's functions
    assert facts["version"] == "0+standin"
    assert facts["device"].startswith("<torch stand-in: ")
    assert facts["formatted"][0] == facts["str"] and facts["str"].startswith("<torch stand-in: ")
    assert facts["formatted"][1].startswith("<torch stand-in: ")
    assert facts["epochs"] == 3  # `if loss < 0.01: break` never breaks
    assert "loop over parameters ran" not in facts and "loop over a loader ran" not in facts
    assert facts["with gives the value"] is True
    g, n, d, first, rest = facts["g n d first rest"]
    assert all(s.startswith("<torch stand-in: ") for s in (g, n, d, first)) and rest == []
    assert facts["bool len float int list"] == [False, 0, 0.0, 0, []]
    assert facts["index"] == 0
    assert facts["compare"] is True
    assert facts["eq ne hash"] == [True, False, False, True]
    assert all("stand-in" in text for text in facts["arithmetic"])
    assert facts["attribute set"] is True
    assert facts["np.array"] == [0.0, [], [0.0, 0.0]]
    assert facts["pi"] == [0.0, True]


def test_the_modules_behave_like_packages_to_the_import_system_and_inspect(report):
    facts = report["facts"]
    assert facts["dunders"] == [False, False, "torch", [], "torch.nn", True]
    assert facts["dir"] is True
    assert facts["inspect"] == "student"
    assert facts["pickle"] == 1
    assert facts["find_spec"] == "torch.nn"
    assert facts["deepcopy"] == [2, 3]
    assert facts["modules"] == ["torchvision.transforms", "triton.language", "torch.nn.functional"]
    assert facts["repr forms"] == [
        "<torch stand-in: torch.nn.Module>",
        "<torch stand-in: torch.float64>",
        "<torch stand-in: torch.nn.Linear(...)>",
    ]


def test_a_numpy_only_call_runs_and_records_nothing(report):
    assert report["numpy"] == {
        "ok": True,
        "value": report["expected"],
        "uses": [],
        "printed": "",
    }


def test_a_call_using_torch_raises_naming_the_rule_and_the_use(report):
    outcome = report["torch"]
    assert outcome["ok"] is False and outcome["error"] == "TorchUnavailable"
    assert outcome["message"].startswith(f"{PREFIX}torch.tensor;")
    assert outcome["message"].endswith("; PyTorch is not available in these calls)")
    assert outcome["uses"] == ["torch.tensor"]


def test_printing_a_stand_in_inside_a_call_is_recorded_but_allowed(report):
    outcome = report["prints"]
    assert outcome["ok"] is True and outcome["value"] == report["expected"]
    assert outcome["printed"].startswith("running on <torch stand-in: ")
    assert outcome["uses"] == ["a tensor's str()"]


def test_an_import_inside_a_call_is_not_a_use(report):
    assert report["imports"] == {
        "ok": True,
        "value": report["expected"],
        "uses": [],
        "printed": "",
    }
    assert report["imported"] == [True]


def test_a_use_caught_by_the_student_is_still_recorded(report):
    outcome = report["swallows"]
    assert outcome["ok"] is True and outcome["value"] == report["expected"]
    assert outcome["uses"] == ["torch.zeros"]


def test_a_library_looking_a_name_up_inside_a_call_is_not_a_use(report):
    assert report["probes"]["ok"] is True and report["probes"]["uses"] == []


@pytest.mark.parametrize(
    "operation, used",
    [
        ("attribute", "a tensor's .backward"),
        ("assign attribute", "a tensor's .grad (assigned)"),
        ("call", "a Net called as a function"),
        ("construct", "Net (a torch.nn.Module)"),
        ("class call", "torch.nn.Linear"),
        ("add", "a tensor's +"),
        ("reflected", "a tensor's *"),
        ("matmul", "a tensor's conversion to a NumPy array"),  # NumPy's @ asks for an array
        ("neg", "a tensor's unary -"),
        ("less", "a tensor's <"),
        ("eq", "a tensor's =="),
        ("index", "a tensor's [...]"),
        ("set item", "a tensor's [...] (assigned)"),
        ("iterate", "a tensor's iteration"),
        ("len", "a tensor's len()"),
        ("bool", "a tensor's bool()"),
        ("float", "a tensor's float()"),
        ("int", "a tensor's int()"),
        ("use as index", "a tensor's use as an index"),
        ("with", "a tensor's with"),
        ("numpy", "a tensor's conversion to a NumPy array"),
        ("numpy dtype", "torch.float64.dtype"),
        ("module attribute", "torch.manual_seed"),
        ("class attribute", "torch.float64.is_floating_point"),
    ],
)
def test_every_use_inside_a_call_raises(report, operation, used):
    outcome = report["operations"][operation]
    assert outcome["ok"] is False and outcome["error"] == "TorchUnavailable", outcome
    assert outcome["message"].startswith(f"{PREFIX}{used};")
    assert outcome["uses"] == [used]


@pytest.mark.parametrize(
    "operation, used",
    [
        ("repr", "a tensor's repr()"),
        ("str", "a tensor's str()"),
        ("format", "a tensor's format()"),
        ("class repr", "torch.float64's repr()"),
    ],
)
def test_printing_inside_a_call_does_not_raise(report, operation, used):
    outcome = report["operations"][operation]
    assert outcome["ok"] is True and outcome["value"].startswith("<torch stand-in: ")
    assert outcome["uses"] == [used]


def test_a_call_records_at_most_twelve_uses_of_at_most_a_hundred_characters(report):
    uses = report["many"]["uses"]
    assert report["many"]["ok"] is True
    assert uses == [f"torch.name{i}'s str()" for i in range(12)]
    assert all(len(use) <= 100 for use in uses)


def test_outside_a_call_nothing_raises_and_nothing_is_recorded(report):
    shown, length, uses = report["after"]
    assert shown.startswith("<torch stand-in: ") and length == 0 and uses == []


def test_installing_again_changes_the_rule(report):
    assert report["reinstalled"]["message"].startswith("another-rule: Another message. (")


def test_nothing_of_the_real_torch_reaches_the_process(report):
    modules = report["torch_modules"]
    assert {"torch", "torch.nn", "torch.nn.functional", "torch.autograd"} <= set(modules)
    assert {"torchvision.transforms", "triton.language", "torch.utils.data"} <= set(modules)
    assert all(modules.values()), modules  # every one a stand-in
    assert report["files opened"] > 0 and report["numpy mapped"] is True  # the checks see
    spec = importlib.util.find_spec("torch")  # where the venv's torch is, without importing it
    real = os.path.realpath(spec.submodule_search_locations[0]) if spec else None
    for path in report["opened"] + report["maps"]:
        assert "libtorch" not in path
        assert real is None or not os.path.realpath(path).startswith(real + os.sep), path


def test_a_long_name_is_cut_to_a_hundred_characters(tmp_path):
    driver = DRIVER_HEAD + textwrap.dedent("""
        import torch
        long = getattr(torch, "x" * 300)
        standin.begin_call()
        try:
            long.attribute
        except standin.TorchUnavailable as error:
            report["message"] = str(error)
        report["uses"] = standin.end_call()
        finish()
    """)
    result = run(tmp_path, driver)
    assert [len(use) for use in result["uses"]] == [100]
    assert result["message"].startswith(PREFIX + "torch." + "x" * 94 + ";")


@pytest.mark.parametrize("first", ["a module named torch", "the real torch"])
def test_install_refuses_where_torch_is_already_imported(tmp_path, first):
    if first == "the real torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed here")
    setup = (
        "sys.modules['torch'] = __import__('types').ModuleType('torch')"
        if first == "a module named torch"
        else "import torch"
    )
    driver = f"""
import importlib.util, json, sys
{setup}
spec = importlib.util.spec_from_file_location("_grader_standin", sys.argv[1])
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)
try:
    standin.install("rule", "message")
    outcome = "installed"
except RuntimeError as error:
    outcome = str(error)
print("RESULT " + json.dumps([outcome, sys.meta_path[0].__class__.__name__]))
"""
    outcome, finder = run(tmp_path, driver)
    assert "already imported" in outcome and "PyTorch is absent" in outcome
    assert finder != "StandinFinder"


def test_a_top_level_loop_that_waits_on_torch_ends_and_the_next_statement_runs(tmp_path):
    """`while not converged:` where `converged` is a stand-in would never end while the file
    loads: past a bound on the truths asked, that statement fails and the rest of the file runs."""
    student = tmp_path / "waits_on_torch.py"
    student.write_text(
        "import torch\n"
        "loss = torch.tensor(1.0)\n"
        "converged = loss < 1e-6\n"
        "while not converged:\n"
        "    loss = loss * 0.5\n"
        "    converged = loss < 1e-6\n"
        "def np_backward(x):\n"
        "    return x\n"
    )
    script = (
        "import ast, importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('standin', {str(STANDIN)!r})\n"
        "standin = importlib.util.module_from_spec(spec); spec.loader.exec_module(standin)\n"
        "standin.install('no-torch-in-numpy-part', 'Part A is NumPy only.')\n"
        f"source = open({str(student)!r}).read()\n"
        "namespace, failed = {}, []\n"
        "for statement in ast.parse(source).body:\n"
        "    try:\n"
        "        exec(compile(ast.Module([statement], []), 'f', 'exec'), namespace)\n"
        "    except standin.TorchUnavailable as error:\n"
        "        failed.append(str(error))\n"
        "print(json.dumps({'failed': failed, 'defined': 'np_backward' in namespace}))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["defined"] and len(found["failed"]) == 1, found
    assert "while it loaded" in found["failed"][0]

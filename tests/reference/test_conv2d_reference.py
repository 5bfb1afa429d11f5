"""Is the convolution homework's reference right, and does its catalogue tell each mistake apart?

The NumPy reference is held to torch.nn.functional.conv2d and autograd in
float64 and to central differences; the tolerances to its float32 runs and to
every catalogued mistake; the cases to their published recipe and the secret;
the example submissions (run in a process of their own) to their docstrings.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from grader.core.expected import expected_values
from grader.core.spec import load_spec
from reference.conv2d import REFERENCE, convolution
from reference.conv2d.cases import SHAPE_KEYS, Shapes
from reference.conv2d.runs import torch_quantities
from reference.conv2d.variations import Variation, predict, quantities
from tests.conftest import TEST_SECRET

SPEC = load_spec(REFERENCE.source / "assignment.toml")
SECRET = TEST_SECRET.encode()
EXAMPLES = REFERENCE.examples


def _random_layer(rng, n, c_in, c_out, h, w, kh, kw, stride, padding) -> dict:
    x = rng.uniform(-1, 1, (n, c_in, h, w))
    weight = rng.uniform(-1, 1, (c_out, c_in, kh, kw))
    bias = rng.uniform(-1, 1, (c_out,))
    out = (
        convolution.output_size(h, kh, stride, padding),
        convolution.output_size(w, kw, stride, padding),
    )
    return {"x": x, "weight": weight, "bias": bias, "dy": rng.uniform(-1, 1, (n, c_out, *out))}


LAYERS = [
    # n, c_in, c_out, h, w, kh, kw, stride, padding
    (1, 1, 1, 3, 3, 3, 3, 1, 0),
    (2, 3, 2, 6, 7, 3, 2, 1, 0),
    (2, 3, 2, 6, 7, 3, 2, 2, 0),
    (2, 3, 2, 6, 7, 3, 2, 2, 1),
    (3, 2, 4, 5, 9, 2, 4, 3, 2),
    (1, 4, 1, 8, 5, 1, 1, 2, 0),
    (2, 1, 3, 4, 4, 4, 4, 1, 3),
    (2, 2, 2, 9, 4, 3, 3, 4, 1),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: "x".join(map(str, layer)))
def test_the_reference_is_torch_conv2d_and_its_autograd(layer):
    """Does the NumPy reference give PyTorch's y, dx, dweight and dbias in float64, for every shape, stride and padding?"""
    stride, padding = layer[-2:]
    values = _random_layer(np.random.default_rng(sum(layer)), *layer)
    args = {"stride": stride, "padding": padding}
    for entry in ("conv2d_forward", "conv2d_backward"):
        ours = quantities(Variation(), entry, args, values)
        theirs = torch_quantities(entry, args, values, "float64")
        assert ours.keys() == theirs.keys()
        for name in ours:
            assert ours[name].shape == theirs[name].shape, name
            np.testing.assert_allclose(
                ours[name], theirs[name], rtol=1e-12, atol=1e-12, err_msg=name
            )


def test_the_backward_pass_is_the_derivative_of_the_forward_pass():
    """Do dx, dweight and dbias equal central differences of L = sum(dy * y), with stride and padding?"""
    values = _random_layer(np.random.default_rng(7), 2, 2, 3, 5, 6, 3, 2, 2, 1)
    stride, padding = 2, 1
    x, weight, bias, dy = (values[k] for k in ("x", "weight", "bias", "dy"))

    def loss(x, weight, bias):
        return float(np.sum(dy * convolution.forward(x, weight, bias, stride, padding)))

    dx, dweight, dbias = convolution.backward(x, weight, dy, stride, padding)
    step = 1e-6
    for position, (array, gradient) in enumerate(((x, dx), (weight, dweight), (bias, dbias))):
        numerical = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            moved = [[x, weight, bias], [x, weight, bias]]
            for sign, arguments in zip((1, -1), moved):
                changed = array.copy()
                changed[index] += sign * step
                arguments[position] = changed
            numerical[index] = (loss(*moved[0]) - loss(*moved[1])) / (2 * step)
        np.testing.assert_allclose(gradient, numerical, rtol=1e-6, atol=1e-8)


@pytest.fixture(scope="module")
def every_expected():
    """The answer key of every check on the given and hidden cases, computed once for this module."""
    return expected_values(SPEC, REFERENCE.draw_cases(SPEC, SECRET))


def test_every_check_yields_what_torch_gives_on_every_case(every_expected):
    """Is reference_runs' float64 value PyTorch's on every check and case, and a check's quantity of its own shape?"""
    book = REFERENCE.draw_cases(SPEC, SECRET)
    for check in SPEC.checks:
        for case in book.for_check(check):
            values = {name: np.asarray(v) for name, v in case.inputs.items()}
            theirs = torch_quantities(check.entry, check.args, values, "float64")[check.quantity]
            ours = REFERENCE.reference_runs(check, case)[0][check.quantity]
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(
                ours, theirs, rtol=1e-12, atol=1e-12, err_msg=f"{check.id} {case.id}"
            )


def test_every_float32_run_is_compared_whole_and_passes(every_expected):
    """Is every element graded, and is a float32 run (NumPy's, and PyTorch's for Part B) given every point?"""
    book = REFERENCE.draw_cases(SPEC, SECRET)
    assert len(every_expected) == sum(1 + check.hidden_cases for check in SPEC.checks)
    for expected in every_expected:
        check = SPEC.check(expected.check_id)
        assert expected.comparable.all(), (check.id, expected.case.id)
        case = next(c for c in book.for_check(check) if c.id == expected.case.id)
        for run in REFERENCE.reference_runs(check, case)[1:]:
            observed = np.asarray(run[check.quantity], dtype=np.float64).reshape(-1)
            assert check.tolerance.accepts(observed, expected.value).all(), (check.id, case.id)


def _differs(check, predicted, exact) -> bool:
    """Would a submission returning `predicted` fail the check (a wrong shape, or an element outside the tolerance)?"""
    predicted, exact = np.asarray(predicted, dtype=np.float64), np.asarray(exact, dtype=np.float64)
    return (
        predicted.shape != exact.shape
        or not check.tolerance.accepts(predicted.reshape(-1), exact.reshape(-1)).all()
    )


# What each catalogued mistake gets wrong on the given case: the quantities of the checks it applies to.
CHANGES = {
    "kernel-flipped": {"y", "dx", "dweight"},
    "padding-one-side": {"y", "dx", "dweight"},
    "stride-ignored-in-backward": {"dx", "dweight"},
    "bias-gradient-not-summed": {"dbias"},
    "input-channels-not-summed": {"y", "dx", "dweight"},
    "output-size-off-by-one": {"y", "dx", "dweight", "dbias"},
    "weight-gradient-one-sample": {"dweight"},
    "dx-kernel-not-flipped": {"dx"},
    "upstream-gradient-ignored": {"dx", "dweight", "dbias"},
}


@pytest.mark.parametrize("entry", REFERENCE.catalog, ids=lambda entry: entry.id)
def test_every_catalogued_mistake_fails_where_it_should_and_only_there(entry):
    """Does every variation of a mistake fail the checks of the quantities it gets wrong on the public case, and pass the others?"""
    book = REFERENCE.draw_cases(SPEC, None)
    assert len(REFERENCE.catalog) >= 6 and entry.id in CHANGES
    applicable = [check for check in SPEC.checks if entry.applies_to(check)]
    assert applicable
    for variation in entry.variations:
        wrong = set()
        for check in applicable:
            case = book.for_check(check)[0]
            exact = REFERENCE.reference_runs(check, case)[0][check.quantity]
            if _differs(check, predict(variation, check, case, book)[check.quantity], exact):
                wrong.add(check.quantity)
        assert wrong == CHANGES[entry.id], variation


def test_every_prediction_is_computed_on_every_shape():
    """Does every variation yield every quantity of the check's entry point, on hidden cases of many shapes and on
    a kernel as large as its input (where an output a row short has no rows), without failing?"""
    books = [
        REFERENCE.draw_cases(SPEC, secret)
        for secret in (SECRET, b"one", b"two", b"three", b"four", b"five")
    ]
    smallest = replace(
        books[0].given,
        batch=1,
        in_channels=1,
        out_channels=1,
        height=3,
        width=2,
        kernel_height=3,
        kernel_width=2,
    )
    books.append(replace(books[0], given=smallest))
    for book in books:
        for check in SPEC.checks:
            for case in book.for_check(check):
                yields = SPEC.contract.entry_points[check.entry].quantities
                for entry in REFERENCE.catalog:
                    for variation in entry.variations:
                        predicted = predict(variation, check, case, book)
                        assert set(predicted) == set(yields) and all(
                            np.isfinite(v).all() for v in predicted.values()
                        )


@pytest.mark.parametrize(
    "entry", [e for e in REFERENCE.catalog if e.when], ids=lambda entry: entry.id
)
def test_a_mistake_kept_to_some_options_is_the_reference_with_the_others(entry):
    """Is a mistake that only shows with some strides or paddings invisible with the rest (so its `when` is needed)?"""
    book = REFERENCE.draw_cases(SPEC, SECRET)
    outside = [
        check for check in SPEC.checks if check.part in entry.parts and not entry.applies_to(check)
    ]
    assert outside
    for check in outside:
        for case in book.for_check(check):
            exact = REFERENCE.reference_runs(check, case)[0]
            for variation in entry.variations:
                for name, value in predict(variation, check, case, book).items():
                    assert not _differs(check, value, exact[name]), (check.id, case.id, name)


def test_the_given_case_follows_its_published_recipe():
    """Can a student rebuild the given case from the seed and shapes of [given_case], and is it the same on every draw?"""
    given = SPEC.tables["given_case"]
    s = Shapes(**{key: given[key] for key in SHAPE_KEYS})
    for check in SPEC.checks:
        case = REFERENCE.draw_cases(SPEC, None).for_check(check)[0]
        assert (case.id, case.hidden) == ("given", False)
        rng = np.random.default_rng(given["seed"])
        shapes = {
            "x": (s.batch, s.in_channels, s.height, s.width),
            "weight": (s.out_channels, s.in_channels, s.kernel_height, s.kernel_width),
            "bias": (s.out_channels,),
            "dy": (s.batch, s.out_channels, *s.output(check.args["stride"], check.args["padding"])),
        }
        recipe = {
            name: rng.uniform(given["low"], given["high"], shape) for name, shape in shapes.items()
        }  # in this order
        for name, value in recipe.items():
            np.testing.assert_array_equal(np.asarray(case.inputs[name]), value)
        assert (
            case == REFERENCE.draw_cases(SPEC, SECRET).for_check(check)[0]
            and case.key == REFERENCE.draw_cases(SPEC, None).for_check(check)[0].key
        )


def test_hidden_cases_depend_on_the_secret_and_only_on_it():
    """Are hidden cases absent without a secret, the same with the same secret, other shapes and values with another?"""
    check = SPEC.check("np-backward-strided-padded-dx")
    assert [c.id for c in REFERENCE.draw_cases(SPEC, None).for_check(check)] == ["given"]
    first, again = (REFERENCE.draw_cases(SPEC, SECRET).for_check(check) for _ in range(2))
    other = REFERENCE.draw_cases(SPEC, b"another secret").for_check(check)
    assert [c.id for c in first] == ["given"] + [
        f"hidden-{i}" for i in range(1, check.hidden_cases + 1)
    ]
    assert all(c.hidden for c in first[1:])
    assert [c.key for c in first] == [c.key for c in again]
    assert {c.key for c in first[1:]}.isdisjoint(c.key for c in other[1:])
    ranges = SPEC.tables["hidden_case_ranges"]
    for case in first[1:]:
        x, weight, dy = (np.asarray(case.inputs[name]) for name in ("x", "weight", "dy"))
        n, c_in, h, w = x.shape
        c_out, _, kh, kw = weight.shape
        for key, size in zip(SHAPE_KEYS, (n, c_in, c_out, h, w, kh, kw)):
            assert ranges[key][0] <= size <= ranges[key][1], key
        assert dy.shape == (
            n,
            c_out,
            convolution.output_size(h, kh, 2, 1),
            convolution.output_size(w, kw, 2, 1),
        )
    assert (
        len({np.asarray(c.inputs["x"]).shape for c in first[1:] + other[1:]}) > 1
    )  # several shapes


def test_a_case_book_refuses_a_kernel_that_leaves_no_output():
    """Is a given case whose kernel is larger than the padded input refused, naming the table?"""
    book = REFERENCE.draw_cases(SPEC, None)
    tiny = replace(book, given=replace(book.given, height=2))
    with pytest.raises(ValueError, match="given_case"):
        tiny.for_check(SPEC.check("np-forward"))


def _functions(source: str) -> dict:
    return {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def test_the_starters_declare_every_entry_point_as_the_contract_does():
    """Do the starter script and notebook define each entry point with the contract's parameters and defaults, unimplemented?"""
    script, notebook = REFERENCE.starter
    cells = json.loads(notebook.read_text())["cells"]
    sources = [
        script.read_text(),
        "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"),
    ]
    for source in sources:
        functions = _functions(source)
        for name, entry in SPEC.contract.entry_points.items():
            node = functions[name]
            assert [a.arg for a in node.args.args] == list(entry.arguments)
            defaults = [ast.literal_eval(d) for d in node.args.defaults]
            assert defaults == [p.default for p in entry.options]
            assert ast.get_docstring(node) and "NotImplementedError" in ast.unparse(node.body[-1])


# The example submissions, run on the given case of every check in a process of their own.
_RUNNER = r"""
import importlib.util, json, runpy, sys
request = json.load(sys.stdin)
runpy.run_path(request["warm_up"])["warm_up"]()  # first, as the warm worker runs it before it forks
left_behind = sorted(m for m in sys.modules if m.split(".")[0] in ("grader", "reference"))
import numpy as np, torch
def plain(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return np.asarray(value, dtype=np.float64).tolist()
answers = {"warm_up_left_behind": left_behind}
for path in request["files"]:
    try:
        spec = importlib.util.spec_from_file_location("submission", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as error:
        answers[path] = {"load_error": type(error).__name__}
        continue
    answers[path] = {}
    for call in request["calls"]:
        make = torch.tensor if call["framework"] == "torch" else np.array
        args = [make(call["inputs"][name], dtype=torch.float64 if make is torch.tensor else np.float64) for name in call["inputs"]]
        answers[path][call["id"]] = plain(getattr(module, call["entry"])(*args, **call["options"]))
print(json.dumps(answers))
"""


def _notebook_as_script(path: Path, folder: Path) -> Path:
    cells = json.loads(path.read_text())["cells"]
    script = folder / (path.stem + ".py")
    script.write_text("\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))
    return script


@pytest.fixture(scope="module")
def example_answers(tmp_path_factory):
    """{example file name: {check id: what its entry point returned on the given case}} (or {"load_error": ...}),
    in one process that first runs the assignment's warm-up, as the warm worker does."""
    book = REFERENCE.draw_cases(SPEC, None)
    calls = []
    for check in SPEC.checks:
        case = book.for_check(check)[0]
        entry = SPEC.contract.entry_points[check.entry]
        calls.append(
            {
                "id": check.id,
                "entry": check.entry,
                "framework": entry.framework,
                "inputs": {name: case.inputs[name] for name in entry.inputs},
                "options": check.args,
            }
        )
    folder = tmp_path_factory.mktemp("notebooks")
    files = {
        p.name: (_notebook_as_script(p, folder) if p.suffix == ".ipynb" else p)
        for p in sorted(EXAMPLES.iterdir())
    }
    request = json.dumps(
        {
            "warm_up": str(REFERENCE.warm_up),
            "files": [str(p) for p in files.values()],
            "calls": calls,
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER], input=request, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    return {
        "warm_up_left_behind": answers["warm_up_left_behind"],
        **{name: answers[str(path)] for name, path in files.items()},
    }


def test_the_warm_up_imports_only_numpy_and_torch_and_runs(example_answers):
    """Does warm_up() run in a fresh process (the examples' own), leaving no module of the grader or the reference behind?"""
    assert example_answers["warm_up_left_behind"] == []


def _docstring(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "".join(json.loads(path.read_text())["cells"][0]["source"])
    try:
        return ast.get_docstring(ast.parse(path.read_text())) or ""
    except SyntaxError:
        return path.read_text().split('"""')[1]


@dataclass(frozen=True)
class Stated:
    """What an example's docstring says it gets."""

    loads: bool
    failing: frozenset  # the ids of the checks whose numbers are wrong
    diagnosis: str | None  # the catalogue entry naming them
    withheld: bool  # right numbers, but a rule withholds some checks' points


_CHECK_ID = r"\b(?:np|torch)-[a-z0-9-]+[a-z0-9]"


def stated_verdict(path: Path) -> Stated:
    """The docstring's "Expected verdict: ... Expected diagnosis: <id | none>." read into checks:
    "every check passes", "every Part A check fails except <ids>", or "<...> fail (<ids>); the others pass"."""
    text = " ".join(_docstring(path).split())
    found = re.search(r"Expected verdict: (.*?)Expected diagnosis: (\S+?)\.?(?: |$)", text)
    if not found:
        raise ValueError(f"{path.name}: the docstring states no expected verdict and diagnosis")
    verdict, diagnosis = found.groups()
    diagnosis = None if diagnosis == "none" else diagnosis
    named = set(re.findall(_CHECK_ID, verdict))
    if "fails to load" in verdict:
        return Stated(False, frozenset(c.id for c in SPEC.checks), None, False)
    if "every check passes" in verdict or "give no points" in verdict:
        return Stated(True, frozenset(), diagnosis, "give no points" in verdict)
    if "every Part A check fails" in verdict:
        return Stated(
            True,
            frozenset(c.id for c in SPEC.checks if c.part == "numpy") - named,
            diagnosis,
            False,
        )
    failing = set(re.findall(_CHECK_ID, verdict.split(";")[0]))  # "... fail (ids); the others pass"
    if not failing:
        raise ValueError(f"{path.name}: the expected verdict names no failing check")
    return Stated(True, frozenset(failing), diagnosis, False)


def _returned(check, answer):
    entry = SPEC.contract.entry_points[check.entry]
    member = SPEC.contract.quantities[check.quantity].member
    return answer if len(entry.returns) == 1 else answer[entry.returns.index(member)]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir()))
def test_every_example_gets_the_verdict_and_diagnosis_its_docstring_states(name, example_answers):
    """Does each example fail exactly the checks its docstring names on the given case, and does its
    catalogued mistake reproduce every one of those answers?"""
    stated, answers = stated_verdict(EXAMPLES / name), example_answers[name]
    assert ("load_error" not in answers) == stated.loads
    if not stated.loads:
        return
    book = REFERENCE.draw_cases(SPEC, None)
    failed, catalogued = (
        set(),
        next((e for e in REFERENCE.catalog if e.id == stated.diagnosis), None),
    )
    assert (catalogued is None) == (stated.diagnosis is None)
    for check in SPEC.checks:
        case = book.for_check(check)[0]
        exact = REFERENCE.reference_runs(check, case)[0][check.quantity]
        observed = _returned(check, answers[check.id])
        if _differs(check, observed, exact):
            failed.add(check.id)
            assert catalogued is not None and catalogued.applies_to(check), check.id
            assert any(
                not _differs(check, observed, predict(v, check, case, book)[check.quantity])
                for v in catalogued.variations
            ), check.id
    assert failed == stated.failing

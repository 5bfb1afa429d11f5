"""Recognising the 2-2-2 network in a hand-in that ignores the template.

`recognise(run, spec)` reads a free-form run's records (grader.engine.freeform.FreeformRun)
file by file: it finds the file's own setup (x, y, the initial weights in any layout,
the step size from the first update, the number of epochs), computes the reference at
that setup, and looks for each quantity of a check (forward outputs, loss, gradients,
weights after the first update and at the end) among the numbers the file's functions
returned, its leaves' .grad after a backward pass and the lines it printed.  A
quantity seen with other numbers is run through the catalogue at the same setup.
An element whose right value equals an input (a zero gradient of zero weights, a
weight copied unchanged) proves nothing and is not counted.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from grader.engine.freeform import FreeformRun, Observation
from reference.backprop.contract import ENTRY_POINTS
from reference.backprop.misconceptions import CATALOG
from reference.backprop.variations import CORRECT, TEXTBOOK_ORDER, quantities

ORDERS = {
    "course": np.arange(8),
    "textbook": TEXTBOOK_ORDER,
}  # also a weight matrix stored [out, in]
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
HIDDEN, OUTPUT = slice(0, 4), slice(4, 8)
# The most updates a training run of the homework makes (the contract's bound on `epochs`): a count
# read from a file beyond it (a script looping far longer, or a forged record) is not re-run here,
# where the grader's own time is every student's.
MAX_EPOCHS = next(
    p.schema["maximum"] for p in ENTRY_POINTS["np_train"].options if p.name == "epochs"
)
CURVE_NAME = re.compile(
    r"loss|error|cost|history", re.IGNORECASE
)  # a global list the script recorded its losses in


class Numbers:
    """A group of numbers seen together, with how precisely each is known (None: in full)."""

    def __init__(self, values, source: str, decimals=None, order: int = 0):
        self.values = np.asarray(values, dtype=float).reshape(-1)
        self.decimals = decimals  # per element, printed decimals; None when full precision
        self.source, self.order = source, order

    def slack(self, index) -> float:
        return 0.0 if self.decimals is None else 0.5 * 10.0 ** -self.decimals[index] + 1e-12


def flat(tree) -> list[float]:
    if tree is None:
        return []
    if isinstance(tree, (int, float)):
        return [float(tree)]
    if "array" in tree:
        return [float(v) for v in tree["array"]]
    if "seq" in tree:
        return [v for item in tree["seq"] for v in flat(item)]
    return []


def printed_numbers(text: str) -> tuple[list[float], list[int]]:
    values, decimals = [], []
    for match in NUMBER.finditer(text):
        token = match.group(0)
        mantissa, _, exponent = token.lower().partition("e")
        if "." not in mantissa and not exponent:
            continue  # an integer printed is a counter (an epoch), not a value of the network
        places = len(mantissa.split(".")[1]) if "." in mantissa else 0
        values.append(float(token))
        decimals.append(places - (int(exponent) if exponent else 0))
    return values, decimals


# ------------------------------------------------------------------ the file's own setup


def _named(arguments: dict, names) -> list[float] | None:
    found = [flat(arguments.get(n)) for n in names]
    return [v[0] for v in found] if all(len(v) == 1 for v in found) else None


def _weights_in(arguments: dict):
    """(weights in the course's order candidates, how) from one call's arguments or globals."""
    scalars = _named(arguments, [f"w{i}" for i in range(1, 9)])
    if scalars is not None:
        return [("course", np.array(scalars))], "the scalars w1..w8"
    for name, value in arguments.items():
        numbers = flat(value)
        if len(numbers) == 8 and name.lower().startswith(("w", "weight", "param", "theta")):
            return [(order, np.array(numbers)) for order in ORDERS], name
    matrices = sorted(
        (n for n, v in arguments.items() if len(flat(v)) == 4 and n.lower().startswith(("w", "v")))
    )
    if len(matrices) == 2:
        numbers = flat(arguments[matrices[0]]) + flat(arguments[matrices[1]])
        return [
            (order, np.array(numbers)) for order in ORDERS
        ], f"the matrices {matrices[0]}, {matrices[1]}"
    return None, ""


def _leaf_weights(backward: dict):
    """The initial weights and their gradients from the first backward pass's leaves."""
    leaves = sorted(
        (leaf for leaf in backward["leaves"] if flat(leaf["value"])),
        key=lambda leaf: _natural(leaf["name"]),
    )
    values = [v for leaf in leaves for v in flat(leaf["value"])]
    grads = [
        v for leaf in leaves for v in (flat(leaf["grad"]) or [np.nan] * len(flat(leaf["value"])))
    ]
    if len(values) != 8:
        return None, None
    orders = (
        ["course"] if all(len(flat(leaf["value"])) in (1, 8) for leaf in leaves) else list(ORDERS)
    )
    return [(order, np.array(values)) for order in orders], np.array(grads)


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _inputs(sources: list[dict], given) -> tuple[np.ndarray, np.ndarray, str]:
    x, y, how = np.array(given[0]), np.array(given[1]), "the given case's x and y"
    for arguments in sources:
        xs = _named(arguments, ("x1", "x2")) or (
            flat(arguments.get("x")) if len(flat(arguments.get("x"))) == 2 else None
        )
        ys = None
        for names in (("y1", "y2"), ("t1", "t2"), ("target1", "target2")):
            ys = ys or _named(arguments, names)
        for name in ("y", "target", "targets", "t"):
            ys = ys or (flat(arguments.get(name)) if len(flat(arguments.get(name))) == 2 else None)
        if xs is not None and ys is not None:
            return np.array(xs), np.array(ys), "the file's own x and y"
    return x, y, how


def _step_size(w0: np.ndarray, w1: np.ndarray | None, g: np.ndarray) -> float | None:
    if w1 is None:
        return None
    moved = np.abs(g) > 1e-9
    if not moved.any():
        return None
    rates = (w0 - w1)[moved] / g[moved]
    rate = float(np.median(rates))
    return float(f"{rate:.3g}") if rate > 0 else None


# ------------------------------------------------------------------ matching


def _found(expected: np.ndarray, group: Numbers, tolerance, order) -> np.ndarray | None:
    """The observed values for `expected` in `group`: positionally when the sizes agree (in
    `order`), else as an ordered subsequence; None when they are not all there."""
    values = group.values
    if len(values) == 8 and order is not None:  # a full set of eight, in the layout being tried
        values = values[order]
    if len(values) == len(expected):
        allowed = tolerance.allowed(expected) + np.array(
            [group.slack(i) for i in range(len(values))]
        )
        return values if np.all(np.abs(values - expected) <= allowed) else None
    picked, start = [], 0
    for target, allowed in zip(expected, tolerance.allowed(expected)):
        for index in range(start, len(values)):
            if abs(values[index] - target) <= allowed + group.slack(index):
                picked.append(values[index])
                start = index + 1
                break
        else:
            return None
    return np.array(picked)


def _search(expected, groups, tolerance, order, inputs):
    """The first group holding `expected`, if any element of it is a computed value (not an input)."""
    informative = [not np.any(np.isclose(v, inputs, rtol=0, atol=1e-12)) for v in expected]
    if not any(informative):
        return None
    for group in groups:
        seen = _found(np.asarray(expected, dtype=float), group, tolerance, order)
        if seen is not None and not all(
            np.any(np.isclose(v, inputs, rtol=0, atol=1e-12)) for v in seen
        ):
            return group, seen
    return None


def _predictions(part: str, kind: str, args: dict, x, y, w, quantity: str):
    for entry in CATALOG:
        if part not in entry.parts:
            continue
        for variation in entry.variations:
            try:
                value = quantities(variation, f"np_{kind}", args, x, y, w, (x, y, w))[quantity]
            except Exception:  # noqa: BLE001 - a variation that does not apply here predicts nothing
                continue
            yield entry.id, np.asarray(value, dtype=float)


def _check_for(spec, part: str, quantity: str, setup: dict):
    """The spec's check of this quantity in this part closest to the file's setup (its act and loss)."""
    candidates = [
        c
        for c in spec.checks
        if c.part == part
        and c.quantity == quantity
        and c.options.get("weights", "given") == "given"
    ]
    for c in candidates:
        if (
            c.args.get("act", "sigmoid").replace("torch.", "") == setup["act"]
            and c.args.get("loss", "mse") == setup["loss"]
        ):
            if quantity not in ("final_weights", "loss_curve") or (
                c.args.get("lr") == setup["lr"] and c.args.get("epochs") == setup["epochs"]
            ):
                return c
    return None


def _observe(
    spec,
    part,
    setup,
    label,
    quantity,
    kind,
    args,
    element,
    groups,
    inputs,
    order_name,
    catalogue: bool = True,
):
    order = ORDERS[order_name]
    x, y, w = setup["x"], setup["y"], setup["w"]
    check = _check_for(
        spec, part, quantity, {**setup, "lr": args.get("lr"), "epochs": args.get("epochs")}
    )
    tolerance = check.tolerance if check is not None else spec.checks[0].tolerance
    shown = {k: (list(map(float, v)) if isinstance(v, np.ndarray) else v) for k, v in setup.items()}
    common = {"check_id": check.id if check else "", "quantity": label, "setup": shown}
    right = np.asarray(quantities(CORRECT, f"np_{kind}", args, x, y, w)[quantity], dtype=float)
    hit = _search(right[element], groups, tolerance, order, inputs)
    if hit is not None:
        group, seen = hit
        precision = "full" if group.decimals is None else f"{min(group.decimals)} decimals printed"
        return Observation(
            **common,
            status="right",
            observed=tuple(seen),
            expected=tuple(right[element]),
            precision=precision,
            source=group.source,
        )
    named, first = (
        [],
        None,
    )  # every mistake that reproduces the numbers seen (two may agree on some elements)
    for mistake, predicted in (
        _predictions(part, kind, args, x, y, w, quantity) if catalogue else ()
    ):
        if mistake in named or (
            predicted.shape == right.shape
            and np.allclose(predicted[element], right[element], rtol=1e-6, atol=1e-12)
        ):
            continue  # the mistake does not show in these elements
        hit = _search(predicted[element], groups, tolerance, order, inputs)
        if hit is not None:
            named.append(mistake)
            first = first or hit
    if first is not None:
        group, seen = first
        precision = "full" if group.decimals is None else f"{min(group.decimals)} decimals printed"
        return Observation(
            **common,
            status="wrong",
            observed=tuple(seen),
            expected=tuple(right[element]),
            precision=precision,
            source=group.source,
            diagnoses=tuple(named),
        )
    return Observation(
        **common,
        status="not-found",
        expected=tuple(right[element]),
        note=f"no {label} of this network were found",
    )


# ------------------------------------------------------------------ one file


def _groups_of(records) -> list[Numbers]:
    groups = []
    for r in records:
        if r["kind"] == "call":
            if flat(r["returned"]):
                groups.append(
                    Numbers(
                        flat(r["returned"]),
                        f"returned by {r['function']} (call {r['call']})",
                        order=r["n"],
                    )
                )
        elif r["kind"] == "backward":
            pass  # read by value, in _recognise_file
        elif r["kind"] == "printed":
            values, decimals = printed_numbers(r["text"])
            if values:
                groups.append(
                    Numbers(
                        values,
                        f"printed line {r['line']}: {r['text'][:80]}",
                        decimals,
                        order=10**9 + r["line"],
                    )
                )
    return groups


def _recognise_file(records, spec, given) -> list[Observation]:
    calls = [r for r in records if r["kind"] == "call"]
    backwards = [r for r in records if r["kind"] == "backward"]
    final = next((r["values"] for r in records if r["kind"] == "globals"), {})
    part = "torch" if backwards else "numpy"
    groups = _groups_of(records)
    # the initial weights: a call's arguments first, then the first backward pass's leaves
    candidates, how, after = None, "", None
    weighted = [c for c in calls if _weights_in(c["arguments"])[0] is not None]
    leaf_grads = None
    if weighted:
        candidates, how = _weights_in(weighted[0]["arguments"])
        same = [c for c in weighted if c["function"] == weighted[0]["function"]]
        later = [_weights_in(c["arguments"])[0][0][1] for c in same[1:]]
        after = next(
            (
                v
                for v in later
                if len(v) == len(candidates[0][1])
                and not np.allclose(v, candidates[0][1], rtol=0, atol=1e-15)
            ),
            None,
        )
    elif backwards:
        candidates, leaf_grads = _leaf_weights(backwards[0])
        how = "the leaves of the first backward pass"
        if len(backwards) > 1 and _leaf_weights(backwards[1])[0] is not None:
            after = _leaf_weights(backwards[1])[0][0][1]
    if candidates is None:
        weights, _ = _weights_in(final)
        if weights is None:
            return [
                Observation(
                    "",
                    "the network's weights",
                    "not-found",
                    note="no weights of this network were found in this file",
                )
            ]
        candidates, how = (
            [(order, np.array(given[2])[ORDERS[order]]) for order in ORDERS],
            "the given case's (assumed: the file's weights are only seen at its end)",
        )
        after = None
    if after is not None:  # the weights the second pass started from: those after the first update
        source = (
            "the leaves of the second backward pass"
            if not weighted
            else f"the weights passed to {weighted[0]['function']} (call 2)"
        )
        groups.append(Numbers(after, source))
    x, y, inputs_how = _inputs([c["arguments"] for c in calls[:20]] + [final], given)
    if leaf_grads is not None:
        groups.insert(
            0,
            Numbers(
                leaf_grads,
                "the leaves' .grad after the first backward pass",
                order=backwards[0]["n"],
            ),
        )
        loss = flat(backwards[0].get("root"))
        if loss:
            groups.insert(
                0,
                Numbers(
                    loss, "the tensor the first backward pass started from", order=backwards[0]["n"]
                ),
            )
    epochs = max(
        [b["pass"] for b in backwards]
        + [c["call"] for c in weighted if c["function"] == weighted[0]["function"]]
        if weighted or backwards
        else [1]
    )
    best = None
    for order_name, values in candidates:
        w0 = (
            values[np.argsort(ORDERS[order_name])] if order_name != "course" else values
        )  # into the course's numbering
        for act in ("sigmoid", "relu"):
            for loss in (
                "mse",
            ):  # the course's loss; a sum of squares is the catalogue's no-half-in-loss
                g = quantities(CORRECT, "np_backward", {"act": act, "loss": loss}, x, y, w0)[
                    "gradients"
                ]
                w_after = (
                    None
                    if after is None
                    else (
                        after[np.argsort(ORDERS[order_name])] if order_name != "course" else after
                    )
                )
                lr = _step_size(w0, w_after, g)
                setup = {
                    "x": x,
                    "y": y,
                    "w": w0,
                    "act": act,
                    "loss": loss,
                    "lr": lr,
                    "epochs": epochs,
                }
                observations = _observations(spec, part, setup, groups, order_name)
                score = sum(o.status == "right" for o in observations) + 0.5 * sum(
                    o.status == "wrong" for o in observations
                )
                if best is None or score > best[0]:
                    best = (score, observations, setup, order_name, w_after is not None)
    notes = Observation(
        "",
        "the file's setup",
        "right" if best[0] else "not-found",
        note=f"weights from {how}; {inputs_how}",
    )
    _, observations, setup, order_name, updated = (
        best  # the end of training, at the setup the first update fits best
    )
    return [
        notes,
        *observations,
        *_observations_at_end(spec, part, setup, order_name, final if updated else {}),
    ]


def _observations(spec, part, setup, groups, order_name) -> list[Observation]:
    """The quantities of one forward and backward pass and of the first update, at `setup`."""
    inputs = _known(setup)
    act, loss = setup["act"], setup["loss"]
    found = [
        _observe(
            spec,
            part,
            setup,
            "hidden outputs h",
            "h",
            "forward",
            {"act": act},
            slice(None),
            groups,
            inputs,
            order_name,
        ),
        _observe(
            spec,
            part,
            setup,
            "forward outputs o",
            "o",
            "forward",
            {"act": act},
            slice(None),
            groups,
            inputs,
            order_name,
        ),
        _observe(
            spec,
            part,
            setup,
            "loss",
            "loss",
            "train",
            {"act": act, "loss": loss, "lr": 0.0, "epochs": 1},
            slice(None),
            groups,
            inputs,
            order_name,
        ),
        _observe(
            spec,
            part,
            setup,
            "hidden-layer gradients dE/dw1..w4",
            "gradients",
            "backward",
            {"act": act, "loss": loss},
            HIDDEN,
            groups,
            inputs,
            order_name,
        ),
        _observe(
            spec,
            part,
            setup,
            "output-layer gradients dE/dw5..w8",
            "gradients",
            "backward",
            {"act": act, "loss": loss},
            OUTPUT,
            groups,
            inputs,
            order_name,
        ),
    ]
    found[3], found[4] = _in_the_slot(found[3], found[4], groups, order_name, HIDDEN, OUTPUT)
    found[4], found[3] = _in_the_slot(found[4], found[3], groups, order_name, OUTPUT, HIDDEN)
    if setup["lr"]:
        one = {"act": act, "loss": loss, "lr": setup["lr"], "epochs": 1}
        found.append(
            _observe(
                spec,
                part,
                setup,
                "weights after the first update",
                "final_weights",
                "train",
                one,
                slice(None),
                groups,
                inputs,
                order_name,
            )
        )
    return found


def _in_the_slot(
    missing: Observation, beside: Observation, groups, order_name, where: slice, other: slice
) -> tuple[Observation, Observation]:
    """Gradients not found anywhere, where the rest of their set was found right in a group of
    all eight (returned together, or printed on one line): the values in their places there are
    theirs, and wrong, never "not found"."""
    if missing.status != "not-found" or beside.status != "right":
        return missing, beside
    group = next(
        (g for g in groups if g.source == beside.source and len(g.values) == 8),
        None,
    )
    if group is None:
        return missing, beside
    values = group.values[ORDERS[order_name]] if order_name in ORDERS else group.values
    if not np.allclose(values[other], beside.observed, rtol=0, atol=1e-12):
        return missing, beside  # the right ones were not read from these places
    precision = "full" if group.decimals is None else f"{min(group.decimals)} decimals printed"
    wrong = replace(
        missing,
        status="wrong",
        observed=tuple(float(v) for v in values[where]),
        precision=precision,
        source=group.source,
        note=f"in their places beside the right {beside.quantity}, and not the chain rule's values",
    )
    return wrong, beside


def _known(setup) -> np.ndarray:
    """The numbers the file was given: a value equal to one of them proves nothing."""
    return np.concatenate(
        [setup["x"], setup["y"], setup["w"], [setup["lr"]] if setup["lr"] else []]
    )


def _observations_at_end(spec, part, setup, order_name, final) -> list[Observation]:
    """The weights in the globals at the end, and a list of losses it recorded, against training at the
    file's own step size.  The number of epochs is read from such a list's length, or counted from the
    calls of the function the weights went to (one per epoch, or two with a loss computed beside the
    update); the catalogue runs at the first count tried, the others are tried for the right answer only."""
    inputs = _known(setup)
    act, loss = setup["act"], setup["loss"]
    found = []
    ends, _ = _weights_in(final) if final else (None, "")
    curves = [
        (name, flat(value))
        for name, value in (final or {}).items()
        if CURVE_NAME.search(name) and len(flat(value)) >= 2
    ]
    if setup["lr"] and setup["epochs"] and setup["epochs"] > 1 and ends:
        at_end = [Numbers(ends[0][1], "the weights in the globals at the end")]
        counted = setup["epochs"]
        counts = [
            e
            for e in dict.fromkeys(
                [
                    *(len(values) for _, values in curves[:1]),
                    counted,
                    counted // 2,
                    counted - 1,
                    counted // 2 - 1,
                    counted // 3,
                ]
            )
            if 1 < e <= MAX_EPOCHS
        ]

        def at(epochs: int, catalogue: bool) -> Observation:
            end = {"act": act, "loss": loss, "lr": setup["lr"], "epochs": epochs}
            label = f"weights at the end (after {epochs} updates)"
            return _observe(
                spec,
                part,
                {**setup, "epochs": epochs},
                label,
                "final_weights",
                "train",
                end,
                slice(None),
                at_end,
                inputs,
                order_name,
                catalogue,
            )

        if counts:
            right = next((o for o in (at(e, False) for e in counts) if o.status == "right"), None)
            found.append(right or at(counts[0], True))
        else:
            found.append(_beyond_bound("weights at the end", counted))
    if setup["lr"] and curves and len(curves[0][1]) > MAX_EPOCHS:
        found.append(_beyond_bound(f"the list {curves[0][0]} at the end", len(curves[0][1])))
    elif setup["lr"] and curves:  # a list of the losses it recorded, one per epoch
        name, values = curves[0]
        run = {"act": act, "loss": loss, "lr": setup["lr"], "epochs": len(values)}
        recorded = [Numbers(values, f"the list {name} at the end")]
        found.append(
            _observe(
                spec,
                part,
                setup,
                f"loss curve ({len(values)} epochs)",
                "loss_curve",
                "train",
                run,
                slice(None),
                recorded,
                inputs,
                order_name,
            )
        )
    return found


def _beyond_bound(label: str, count: int) -> Observation:
    return Observation(
        "",
        label,
        "not-found",
        note=f"{count} updates counted, beyond the homework's {MAX_EPOCHS}: not compared",
    )


def recognise(run: FreeformRun, spec) -> tuple[Observation, ...]:
    """Every file's observations, in the order the files ran."""
    given = tuple(spec.tables["given_case"][k] for k in ("x", "y", "w"))
    observations, current = [], None
    for record in run.records:
        if record["kind"] == "script":
            current = (record["script"], [])
        elif current is not None:
            current[1].append(record)
            if record["kind"] == "ended":
                observations += [
                    _in_file(o, current[0]) for o in _recognise_file(current[1], spec, given)
                ]
                current = None
    if current is not None:  # a file cut at its time limit is observed up to there
        observations += [_in_file(o, current[0]) for o in _recognise_file(current[1], spec, given)]
    return tuple(observations)


def _in_file(observation: Observation, script: str) -> Observation:
    from dataclasses import replace

    return replace(
        observation, source=f"{script}: {observation.source}" if observation.source else script
    )

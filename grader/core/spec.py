"""Load and validate an assignment's spec (`reference/<name>/assignment.toml`).

The spec names its assignment (`[assignment] name`), whose reference code
(grader/core/assignment.py) declares the entry points, their options, the
quantities and the spec's own tables of the homework (its cases).  Structure is
checked with a JSON Schema built from those, meaning (parts, tolerance names,
duplicate ids, rules) by hand; every error names the file and the key, and
nothing is returned from a half-read spec.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import jsonschema

from grader.core.assignment import (
    DEFAULT_ASSIGNMENT,
    SPEC_FILE,
    AssignmentError,
    Reference,
    folder_of,
    load_reference,
)
from grader.core.contract import REQUIRED, Contract, EntryPoint, Quantity
from grader.core.tolerance import Tolerance

DEFAULT_SPEC = folder_of(DEFAULT_ASSIGNMENT) / SPEC_FILE
# What a rule forbids or asks of a call, each recorded by the submission's process while it runs:
# kind -> (which entry points of its part it may cover, default outcome).  "derivatives": those
# yielding a derivative quantity; "training": those too, and those that train (`EntryPoint.trains`).
RULE_KINDS = {
    "no-autograd": ("any", "withhold"),  # torch's autograd engine (or forward-mode AD) must not run
    "no-torch": (
        "any",
        "flag",
    ),  # no torch computation at all (making or printing a tensor is not one)
    "no-numerical-differentiation": (
        "derivatives",
        "flag",
    ),  # no function evaluated min_evaluations times
    # the returned derivatives came out of a backward pass through the call's own computation, and a
    # training call's updates used one
    "gradients-from-autograd": ("training", "withhold"),
}
RULE_OUTCOMES = ("withhold", "flag")
VISIBILITIES = ("visible", "hidden")

_positive = {"type": "number", "exclusiveMinimum": 0}
_BASE_SCHEMA = {
    "type": "object",
    "required": ["assignment", "limits", "tolerance", "part", "experiments", "check"],
    "additionalProperties": False,
    "properties": {
        "assignment": {
            "type": "object",
            "required": ["name", "title", "hidden_cases", "secret_env", "float32_margin"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "title": {"type": "string"},
                "hidden_cases": {"type": "integer", "minimum": 0, "maximum": 50},
                "secret_env": {"type": "string", "minLength": 1},
                "float32_margin": {"type": "number", "minimum": 1},
            },
        },
        "limits": {
            "type": "object",
            "required": [
                "load_seconds",
                "call_seconds",
                "submission_seconds",
                "memory_mib",
                "output_kib",
            ],
            "additionalProperties": False,
            "properties": {
                "load_seconds": _positive,
                "call_seconds": _positive,
                "submission_seconds": _positive,
                "memory_mib": {"type": "integer", "minimum": 256},
                "output_kib": {"type": "integer", "minimum": 1},
            },
        },
        "gradescope": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "hidden_visibility": {"enum": ["hidden", "after_due_date", "after_published"]},
                "hidden_feedback": {
                    "type": "object",
                    "required": ["submissions", "hours"],
                    "additionalProperties": False,
                    "properties": {
                        "submissions": {"type": "integer", "minimum": 1},
                        "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 8760},
                    },
                },
            },
        },
        "tolerance": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["rtol", "atol"],
                "additionalProperties": False,
                "properties": {
                    "rtol": {"type": "number", "minimum": 0, "maximum": 0.5},
                    "atol": {"type": "number", "minimum": 0, "maximum": 0.5},
                },
            },
        },
        "check": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "experiment",
                    "part",
                    "entry",
                    "quantity",
                    "args",
                    "points",
                    "message",
                ],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]*$"},
                    "experiment": {"type": "integer", "minimum": 1, "maximum": 99},
                    "part": {"type": "string"},
                    "entry": {"type": "string"},
                    "quantity": {"type": "string"},
                    "args": {"type": "object"},
                    "hidden_cases": {"type": "integer", "minimum": 0, "maximum": 50},
                    "tolerance": {"type": "string"},
                    "points": {"type": "number", "minimum": 0},
                    "visibility": {"enum": list(VISIBILITIES)},
                    "message": {"type": "string"},
                    "rules": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                },
            },
        },
        "rule": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "kind", "part", "message"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]*$"},
                    "kind": {"enum": list(RULE_KINDS)},
                    "part": {"type": "string"},
                    "entries": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                    "outcome": {"enum": list(RULE_OUTCOMES)},
                    "message": {"type": "string", "minLength": 1},
                    "min_evaluations": {"type": "integer", "minimum": 2, "maximum": 10000},
                },
            },
        },
        "freeform": {  # hand-ins without entry points, graded from what their scripts did
            "type": "object",
            "additionalProperties": False,
            "properties": {"credit": {"type": "number", "minimum": 0, "maximum": 1}},
        },
        "diagnosis": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "consistent_backward_credit": {"type": "number", "minimum": 0, "maximum": 1},
                "finite_difference_step": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.1},
                "consistency_tolerance": {"type": "string"},
            },
        },
        "part": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "title", "label"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                    "title": {"type": "string", "minLength": 1},
                    "label": {"type": "string", "minLength": 1},
                    "torch": {"type": "boolean"},
                },
            },
        },
        "experiments": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[1-9][0-9]?$"},
            "additionalProperties": {"type": "string", "minLength": 1},
        },
        "question": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "points"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "points": {"type": "number", "minimum": 0},
                    "rubric": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1, "maxLength": 500},
                        "maxItems": 30,
                    },
                },
            },
        },
    },
}


def _schema(reference: Reference) -> dict:
    """The spec's schema: the engine's tables, the assignment's own, the entry points and quantities it declares."""
    schema = copy.deepcopy(_BASE_SCHEMA)
    contract = reference.contract
    check = schema["properties"]["check"]["items"]["properties"]
    check["entry"] = {"enum": list(contract.entry_points)}
    check["quantity"] = {"enum": list(contract.quantities)}
    check.update({key: value_schema for key, (value_schema, _) in reference.check_keys.items()})
    schema["properties"]["rule"]["items"]["properties"]["entries"]["items"] = {
        "enum": list(contract.entry_points)
    }
    schema["properties"].update(reference.spec_tables)
    schema["required"] = [*schema["required"], *reference.spec_tables]
    return schema


class SpecError(ValueError):
    """The spec file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Limits:
    load_seconds: float
    call_seconds: float
    submission_seconds: float
    memory_mib: int
    output_kib: int


@dataclass(frozen=True)
class Rule:
    """What a part asks of how its calls compute, checked from what each call did while it ran."""

    id: str
    kind: str  # one of RULE_KINDS
    part: str
    entries: tuple[str, ...]  # the entry points whose calls it covers (a check may say otherwise)
    outcome: str  # withhold: the checks whose calls broke it get no points; flag: points stay, the instructor sees it
    message: str  # what the student reads
    min_evaluations: int = (
        16  # no-numerical-differentiation: this many calls of one function in one call
    )


@dataclass(frozen=True)
class Check:
    id: str
    experiment: int
    part: str
    entry: str
    quantity: str
    args: dict = field(hash=False)  # every option of the entry point, the defaults filled in
    hidden_cases: int
    tolerance: Tolerance
    points: float
    visibility: str
    message: str
    rules: tuple[str, ...] = ()  # ids of the rules its calls are held to
    options: dict = field(
        default_factory=dict, hash=False
    )  # the assignment's own keys of a check (Reference.check_keys)
    signature: EntryPoint | None = field(
        default=None, compare=False, repr=False
    )  # the contract's `entry`
    measure: Quantity | None = field(
        default=None, compare=False, repr=False
    )  # the contract's `quantity`


@dataclass(frozen=True)
class DiagnosisSettings:
    """How a failing check is diagnosed (grader/engine/diagnose.py); the spec's [diagnosis] table."""

    consistent_backward_credit: float = (
        0.0  # share of a failing backward check's points for a backward
    )
    # pass consistent with the submission's own, wrong, forward pass
    finite_difference_step: float = (
        1e-3  # eps of the central differences of the student's forward pass
    )
    consistency: Tolerance = Tolerance(
        "consistency", rtol=1e-3, atol=5e-5
    )  # backward against those differences


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float
    rubric: tuple[str, ...] = ()  # what the person marking looks for, one line each


@dataclass(frozen=True)
class Part:
    id: str
    title: str  # what the reports call it
    label: str  # its column heading
    # false: the part's calls run in a process that has no PyTorch (a stand-in answers
    # `import torch` while the files load, and any use of it in a call raises)
    torch: bool = True


@dataclass(frozen=True)
class Spec:
    name: str  # the assignment: reference/<name>/
    title: str
    source: Path
    secret_env: str
    float32_margin: float
    limits: Limits
    hidden_visibility: str
    reference: Reference = field(hash=False, compare=False, repr=False)  # the assignment's code
    # [gradescope] hidden_feedback: at most this many submissions in a window of so many hours
    # see their hidden cases' verdicts at once; later ones see them when grades are published
    hidden_feedback: tuple[int, float] | None = None
    tables: dict = field(
        default_factory=dict, hash=False
    )  # the assignment's own tables (Reference.spec_tables)
    checks: tuple[Check, ...] = ()
    questions: tuple[Question, ...] = ()
    diagnosis: DiagnosisSettings = DiagnosisSettings()
    freeform_credit: float = (
        0.0  # [freeform] credit: share of a check's points a free-form observation earns
    )
    rules: tuple[Rule, ...] = ()
    parts: tuple[Part, ...] = ()  # in the order the reports show them
    experiments: dict = field(default_factory=dict, hash=False)  # number -> title

    @property
    def contract(self) -> Contract:
        return self.reference.contract

    @property
    def is_own(self) -> bool:
        """Whether this is the assignment's own spec, not a copy an instructor or a test changed."""
        return self.source.resolve() == (Path(self.reference.source) / SPEC_FILE).resolve()

    def part(self, part_id: str) -> Part:
        return next(
            (part for part in self.parts if part.id == part_id), Part(part_id, part_id, part_id)
        )

    def experiment_title(self, number: int) -> str:
        return self.experiments.get(number, f"Experiment {number}")

    def without_torch(self, part_id: str) -> tuple[str, str] | None:
        """For a part whose calls run without PyTorch: the rule a use of torch in them breaks
        (its id and message: the part's `no-torch` rule, or the part's own words); else None."""
        if self.part(part_id).torch:
            return None
        rule = next((r for r in self.rules if r.part == part_id and r.kind == "no-torch"), None)
        if rule is not None:
            return rule.id, rule.message
        title = self.part(part_id).title
        return "", f"{title} is computed without PyTorch; its calls run where torch is not loaded."

    def rules_of(self, check: Check) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.id in check.rules)

    @property
    def max_hidden_cases(self) -> int:
        return max((check.hidden_cases for check in self.checks), default=0)

    def check(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def spec_path(assignment: str | None = None, spec: Path | str | None = None) -> Path:
    """The spec to load: `spec` where given, else reference/<assignment>/assignment.toml."""
    if spec is not None:
        return Path(spec)
    folder = folder_of(assignment or DEFAULT_ASSIGNMENT)
    if not (folder / SPEC_FILE).is_file():
        raise AssignmentError(
            f"{folder / SPEC_FILE}: no assignment {assignment!r} here (its spec is missing)"
        )
    return folder / SPEC_FILE


def load_spec(path: Path | str = DEFAULT_SPEC) -> Spec:
    """The spec at `path`, with the reference code of the assignment it names."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecError(f"{path}: cannot read the spec: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: not valid TOML: {error}") from None
    name = (
        raw.get("assignment", {}).get("name") if isinstance(raw.get("assignment"), dict) else None
    )
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise SpecError(
            f"{path}: assignment.name: the spec must name its assignment (a folder of reference/)"
        )
    try:
        reference = load_reference(name)
    except AssignmentError as error:
        raise SpecError(f"{path}: assignment.name: {error}") from None
    errors = sorted(
        jsonschema.Draft202012Validator(_schema(reference)).iter_errors(raw),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        raise SpecError(f"{path}: {_key_path(first)}: {first.message}")
    return _build(raw, path, reference)


def _build(raw: dict, path: Path, reference: Reference) -> Spec:
    def fail(key: str, problem: str) -> SpecError:
        return SpecError(f"{path}: {key}: {problem}")

    contract = reference.contract
    tolerances = {
        name: Tolerance(name, t["rtol"], t["atol"]) for name, t in raw["tolerance"].items()
    }
    parts = tuple(
        Part(item["id"], item["title"], item["label"], item.get("torch", True))
        for item in raw["part"]
    )
    if len({part.id for part in parts}) != len(parts):
        raise fail("part", "two parts share an id")
    for name, entry in contract.entry_points.items():
        if entry.part not in {part.id for part in parts}:
            raise fail(
                "part",
                f"the assignment's entry point {name} is of part {entry.part!r}, which no [[part]] declares",
            )
    rules = _build_rules(raw.get("rule", []), fail, contract)
    default_hidden = raw["assignment"]["hidden_cases"]
    checks, seen = [], set()
    for index, item in enumerate(raw["check"]):
        key = f"check[{index}]"
        if item["id"] in seen:
            raise fail(f"{key}.id", f"{item['id']!r} is used by an earlier check")
        seen.add(item["id"])
        entry = contract.entry_points[item["entry"]]
        part, quantities = entry.part, entry.quantities
        if part != item["part"]:
            raise fail(
                f"{key}.part", f"{item['entry']} belongs to part {part!r}, not {item['part']!r}"
            )
        if item["quantity"] not in quantities:
            raise fail(
                f"{key}.quantity",
                f"{item['entry']} yields {', '.join(quantities)}, not {item['quantity']!r}",
            )
        args = _check_args(item, key, entry, fail)
        tolerance_name = item.get("tolerance", contract.quantities[item["quantity"]].tolerance)
        if tolerance_name not in tolerances:
            raise fail(f"{key}.tolerance", f"no [tolerance.{tolerance_name}] is declared")
        checks.append(
            Check(
                id=item["id"],
                experiment=item["experiment"],
                part=part,
                entry=item["entry"],
                quantity=item["quantity"],
                args=args,
                hidden_cases=item.get("hidden_cases", default_hidden),
                tolerance=tolerances[tolerance_name],
                points=item["points"],
                visibility=item.get("visibility", "visible"),
                message=item["message"],
                rules=_rules_of_check(item, key, rules, fail, contract),
                options={
                    name: item.get(name, default)
                    for name, (_, default) in reference.check_keys.items()
                },
                signature=entry,
                measure=contract.quantities[item["quantity"]],
            )
        )
    experiments = {int(number): title for number, title in raw["experiments"].items()}
    for index, check in enumerate(checks):
        if check.part not in {part.id for part in parts}:
            raise fail(f"check[{index}].part", f"part {check.part!r} is not declared in [[part]]")
        if check.experiment not in experiments:
            raise fail(
                f"check[{index}].experiment",
                f"experiment {check.experiment} has no title in [experiments]",
            )
    questions = tuple(
        Question(q["id"], q["title"], q["points"], tuple(q.get("rubric", ())))
        for q in raw.get("question", [])
    )
    question_ids = [q.id for q in questions]
    if len(set(question_ids)) != len(question_ids):
        raise fail("question", "two questions share an id")
    diagnosis = raw.get("diagnosis", {})
    consistency = DiagnosisSettings.consistency
    if "consistency_tolerance" in diagnosis or "consistency" in tolerances:
        name = diagnosis.get("consistency_tolerance", "consistency")
        if name not in tolerances:
            raise fail("diagnosis.consistency_tolerance", f"no [tolerance.{name}] is declared")
        consistency = tolerances[name]
    settings = DiagnosisSettings(
        consistent_backward_credit=diagnosis.get(
            "consistent_backward_credit", DiagnosisSettings.consistent_backward_credit
        ),
        finite_difference_step=diagnosis.get(
            "finite_difference_step", DiagnosisSettings.finite_difference_step
        ),
        consistency=consistency,
    )
    return Spec(
        name=raw["assignment"]["name"],
        title=raw["assignment"]["title"],
        source=path,
        secret_env=raw["assignment"]["secret_env"],
        float32_margin=raw["assignment"]["float32_margin"],
        limits=Limits(**raw["limits"]),
        hidden_visibility=raw.get("gradescope", {}).get("hidden_visibility", "after_published"),
        hidden_feedback=(
            (limit["submissions"], float(limit["hours"]))
            if (limit := raw.get("gradescope", {}).get("hidden_feedback"))
            else None
        ),
        reference=reference,
        tables={name: raw[name] for name in reference.spec_tables},
        checks=tuple(checks),
        questions=questions,
        diagnosis=settings,
        freeform_credit=float(raw.get("freeform", {}).get("credit", 0.0)),
        rules=tuple(rules.values()),
        parts=parts,
        experiments=experiments,
    )


def _check_args(item: dict, key: str, entry, fail) -> dict:
    """The check's options, each valid for its entry point, the defaults filled in."""
    args = dict(item["args"])
    options = {p.name: p for p in entry.options}
    for name, value in args.items():
        if name not in options:
            raise fail(f"{key}.args.{name}", f"{item['entry']} takes no argument {name!r}")
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(options[name].schema).iter_errors(value)
        )
        if error is not None:
            raise fail(
                f"{key}.args.{name}",
                f"{error.message} (the values {item['entry']} of part {entry.part!r} accepts)",
            )
    for name, parameter in options.items():
        if name not in args:
            if parameter.default is REQUIRED:
                raise fail(f"{key}.args.{name}", f"{item['entry']} needs {name!r}")
            args[name] = parameter.default
    return args


def _rule_applies(rule: Rule, entry: str, contract: Contract) -> bool:
    covers = RULE_KINDS[rule.kind][0]
    declared = contract.entry_points[entry]
    derivative = any(contract.quantities[q].derivative for q in declared.quantities)
    return declared.part == rule.part and (
        covers == "any" or derivative or (covers == "training" and declared.trains)
    )


def _build_rules(items: list, fail, contract: Contract) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for index, item in enumerate(items):
        key = f"rule[{index}]"
        if item["id"] in rules:
            raise fail(f"{key}.id", f"{item['id']!r} is used by an earlier rule")
        if "min_evaluations" in item and item["kind"] != "no-numerical-differentiation":
            raise fail(
                f"{key}.min_evaluations",
                "only a no-numerical-differentiation rule counts evaluations",
            )
        if item["part"] not in {e.part for e in contract.entry_points.values()}:
            raise fail(
                f"{key}.part", f"no entry point of the assignment is of part {item['part']!r}"
            )
        default_entries = tuple(
            e for e in contract.entry_points if contract.entry_points[e].part == item["part"]
        )
        rule = Rule(
            id=item["id"],
            kind=item["kind"],
            part=item["part"],
            entries=tuple(item.get("entries", default_entries)),
            outcome=item.get("outcome", RULE_KINDS[item["kind"]][1]),
            message=item["message"],
            min_evaluations=item.get("min_evaluations", Rule.min_evaluations),
        )
        for entry in item.get("entries", ()):
            if not _rule_applies(rule, entry, contract):
                raise fail(
                    f"{key}.entries",
                    f"a {rule.kind} rule of part {rule.part!r} cannot cover {entry}",
                )
        rules[rule.id] = replace(
            rule, entries=tuple(e for e in rule.entries if _rule_applies(rule, e, contract))
        )
    return rules


def _rules_of_check(
    item: dict, key: str, rules: dict[str, Rule], fail, contract: Contract
) -> tuple[str, ...]:
    """The check's own `rules` list, else every rule that covers its entry point."""
    if "rules" not in item:
        return tuple(rule.id for rule in rules.values() if item["entry"] in rule.entries)
    for name in item["rules"]:
        if name not in rules:
            raise fail(f"{key}.rules", f"no [[rule]] has the id {name!r}")
        if not _rule_applies(rules[name], item["entry"], contract):
            raise fail(
                f"{key}.rules",
                f"rule {name!r} ({rules[name].kind}, part {rules[name].part!r}) cannot cover {item['entry']}",
            )
    return tuple(item["rules"])

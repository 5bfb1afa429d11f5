"""The contract a submission fulfils, as an assignment declares it to the engine.

An assignment's reference code (reference/<name>/) gives a `Contract`: its entry
points, each with its part, the framework its arrays arrive in, its parameters
in positional order, what it returns; and the quantities a check may compare,
each read out of one member of what an entry point returns.  The engine builds
every call, reads every answer and words every message from these tables alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REQUIRED = object()  # an option without a default: every check of the entry point gives it
FRAMEWORKS = ("numpy", "torch")  # what the submission's process makes an input into
DTYPES = ("float64", "float32", "int64", "bool")  # an input's element type (default float64)


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # input: a value of the case, sent as an array of the entry point's framework;
    # option: a plain value the check gives in its `args` (a step size, a name, a stride)
    schema: dict = field(
        default_factory=dict, hash=False
    )  # option: JSON Schema of the value a check may give
    default: object = REQUIRED  # option: the value where a check leaves it out
    dtype: str = "float64"  # input: the element type it arrives as (one of DTYPES)


def option(name: str, schema: dict, default: object = REQUIRED) -> Parameter:
    return Parameter(name, "option", schema, default)


def inputs(*names: str, dtypes: dict | None = None) -> tuple[Parameter, ...]:
    """Case inputs in positional order; `dtypes` gives an element type other than float64, by
    name (integer labels: {"labels": "int64"}, a mask: {"mask": "bool"})."""
    return tuple(
        Parameter(name, "input", dtype=(dtypes or {}).get(name, "float64")) for name in names
    )


@dataclass(frozen=True)
class EntryPoint:
    part: str
    framework: str  # one of FRAMEWORKS
    parameters: tuple[Parameter, ...]  # positional order
    returns: tuple[
        str, ...
    ]  # one name: a single value; several: the members of the tuple it returns
    quantities: tuple[str, ...]  # what the spec may compare of it
    trains: bool = False  # its values come from updates by derivatives (a training loop): a rule
    # on where derivatives come from (gradients-from-autograd) covers its calls too

    @property
    def arguments(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.kind == "input")

    @property
    def input_dtypes(self) -> tuple[tuple[str, str], ...]:
        """(name, element type) of the inputs that are not float64."""
        return tuple(
            (p.name, p.dtype) for p in self.parameters if p.kind == "input" and p.dtype != "float64"
        )

    @property
    def options(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.kind == "option")

    def derivatives(self, quantities: dict) -> tuple[tuple[int, str], ...]:
        """(position in what it returns, member) of each member a derivative quantity is read
        from; position -1 when it returns a single value."""
        members = dict.fromkeys(
            quantities[q].member for q in self.quantities if quantities[q].derivative
        )
        single = len(self.returns) == 1
        return tuple((-1 if single else self.returns.index(m), m) for m in members)

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.options)


@dataclass(frozen=True)
class Quantity:
    member: str  # which of the entry point's `returns` it is read from
    words: str  # how a message names it
    size: int | None = (
        None  # values it holds; None: the shape of the expected value (a curve's steps, an array)
    )
    first_only: bool = False  # only the member's first value (a curve's first step)
    elements: tuple[
        str, ...
    ] = ()  # names of its values; empty: member[i] (member[i,j] for an array)
    count_words: str = ""  # for a quantity of no fixed size: how many values it should hold
    tolerance: str = "values"  # the [tolerance.*] a check of it uses unless it names another
    curve: bool = False  # a trajectory over steps: once a float32 run parts from the reference, the
    # rest is not compared; drawn as a chart in the reports
    axis: str = "value"  # a curve's chart: what its y axis shows
    step: str = "step"  # a curve's chart: what its x axis counts (value i is at step i)
    derivative: bool = (
        False  # derivatives: the rules on how derivatives are computed apply to its calls
    )


@dataclass(frozen=True)
class Contract:
    entry_points: dict = field(hash=False)  # name -> EntryPoint
    quantities: dict = field(hash=False)  # name -> Quantity

    def problems(self) -> list[tuple[str, str]]:
        """(key, problem) for every inconsistency: a quantity no entry point's return holds, an unknown framework."""
        found = []
        for name, entry in self.entry_points.items():
            if entry.framework not in FRAMEWORKS:
                found.append(
                    (
                        f"entry_points.{name}.framework",
                        f"{entry.framework!r} is not one of {', '.join(FRAMEWORKS)}",
                    )
                )
            for parameter in entry.parameters:
                if parameter.dtype not in DTYPES:
                    found.append(
                        (
                            f"entry_points.{name}.parameters.{parameter.name}.dtype",
                            f"{parameter.dtype!r} is not one of {', '.join(DTYPES)}",
                        )
                    )
            names = [p.name for p in entry.parameters]
            if len(set(names)) != len(names):
                found.append((f"entry_points.{name}.parameters", "two parameters share a name"))
            for quantity in entry.quantities:
                if quantity not in self.quantities:
                    found.append(
                        (
                            f"entry_points.{name}.quantities",
                            f"{quantity!r} is not a declared quantity",
                        )
                    )
                elif self.quantities[quantity].member not in entry.returns:
                    member = self.quantities[quantity].member
                    found.append(
                        (
                            f"quantities.{quantity}.member",
                            f"{name} returns ({', '.join(entry.returns)}); no reader for {member!r} in it",
                        )
                    )
        return found

"""A catalogued mistake, as the engine matches it: named, explained, and reproducible.

An assignment's catalogue (reference/<name>/) is a tuple of these.  Each entry's
`variations` are the assignment's own descriptions of the mistake (the engine
never reads them): the assignment's `predict(variation, check, case, book)`
computes what a submission with that mistake returns, and a failing check is
matched against it (grader/engine/diagnose.py).  An entry with several variations (a
step size, a number of decimals) is reproduced by any one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Misconception:
    id: str
    title: str
    explanation: str  # one paragraph, for the student
    formula: str  # what is right instead
    parts: tuple[
        str, ...
    ]  # where the mistake can be made (autograd never gets a backward pass wrong)
    variations: tuple = ()
    when: dict = field(
        default_factory=dict, hash=False
    )  # the options it belongs to, e.g. {"stride": (2, 3)};
    # an option the check's entry point does not take does not restrict it
    right_on_given_only: bool = (
        False  # recognised from the verdicts too: right on the given case, wrong on hidden ones
    )

    def applies_to(self, check) -> bool:
        return check.part in self.parts and all(
            check.args[name] in allowed for name, allowed in self.when.items() if name in check.args
        )

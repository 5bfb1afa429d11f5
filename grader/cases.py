"""`grader.cases`, by the name an assignment's authors import it: grader/core/cases.py's names."""

from grader.core.cases import Case, CaseBook, draw_cases, load_secret, secret_rng_seed

__all__ = ["Case", "CaseBook", "draw_cases", "load_secret", "secret_rng_seed"]

"""`grader.catalog`, by the name the README gives an assignment's authors: grader/core/catalog.py's names."""

from grader.core.catalog import Misconception

__all__ = ["Misconception"]

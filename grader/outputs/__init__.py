"""What a grading run writes: the student's redacted view, the reports and pages, the
charts, and the failures grouped by cause.  It imports grader.core, grader.isolation
and grader.engine.
"""

# `check --out` writes it beside the report page: what the notebook's self-check shows inline
SELF_CHECK_FILE = "self-check.json"

"""What a grading run writes: the student's redacted view, the reports and pages, the
charts, and the failures grouped by cause.  It imports grader.core, grader.isolation
and grader.engine.
"""

"""Autograder for the 2-2-2 back-propagation homework.

`from grader import self_check; self_check("hw3.ipynb")` self-checks a saved notebook (or a
`.py` file, or a folder) from a student's own notebook or terminal; importing the package
loads nothing heavy (numpy, torch and the pipeline load in the check's own process)."""


def self_check(path=None, assignment=None, out=None):
    """See grader.selfcheck.self_check."""
    from grader.selfcheck import self_check as run

    return run(path, assignment=assignment, out=out)

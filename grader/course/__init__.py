"""A course's records across runs: the gradebook, the marking page and the marksheet of
written answers.  It imports the folders below it (core, isolation, engine, outputs),
never grader.gradescope, grader.cli or grader.selfcheck.
"""

"""The code that runs in the submission's process, or in the warm worker that forks it.

`child.py` loads the student's files and makes the calls, `confine.py` is the
sandbox it applies to itself before any student code runs, `watch.py` records
what a call did for the spec's rules, and `forkserver.py` is the warm worker.
This code imports nothing of the grader's own beyond this folder (in the
submission's process these files are loaded by path: the grader's package is
not on its path), and what it sends back is plain data that the grader checks
before it believes any of it.  The grader may import these modules; they never
import the grader.
"""

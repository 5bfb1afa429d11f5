"""Running as a Gradescope autograder: one submission per container.

`container` grades the submission of a `/autograder` tree and writes
`results/results.json`; `bundle` builds the `autograder.zip` an instructor
uploads; `image` builds that zip into a Docker image as Gradescope does, and runs
a submission in a fresh container of it.  `setup.sh`, `run_autograder` and `Dockerfile` in this folder are the
files Gradescope (or an instructor's own image) runs, and `gradescope_schema.json` the
format of results.json; this folder may import every other one of the grader.  README "Use with
Gradescope" says how.
"""

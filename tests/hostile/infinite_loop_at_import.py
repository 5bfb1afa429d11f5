"""Attempts to hang the grader: an endless loop while the file is imported.

Expected verdict: loading times out (the spec's load_seconds), every check is a
timeout, and the next submission starts on time.
"""

while True:
    pass

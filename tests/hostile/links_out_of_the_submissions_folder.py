"""Not graded as a file: the tests put, in the submissions folder, a symbolic link of
this name to the grader's secret file, and one named without `.py` to the
reference folder.  Followed, the first would be read as this student's source and
its text (the secret) shown in the report; the second would hand in the answer key.

Expected verdict: both links are skipped with a message ("a symbolic link: links
are not followed"), neither gets a folder of reports, and the secret's text is in
no output; the rest of the batch is graded.
"""

raise SystemExit("this file stands for a link; it is never graded itself")

"""Attempts to inject script and terminal markup into the reports: <script> and
<img onerror> in stdout, stderr and an exception message, and rich-style
[markup] that a terminal table could interpret.

Expected verdict: np_forward's checks are errors whose message keeps the text as
plain data; no report renders it as HTML or markup; the grader's exit code is 0.
"""

import sys

print("<script>alert('stdout')</script> [bold red]not markup[/bold red]")
sys.stderr.write("</pre><img src=x onerror=alert('stderr')>[link=https://example.com]x[/link]\n")


def np_forward(x, w, act="sigmoid"):
    raise ValueError("<script>alert('error')</script>[red]boom[/red]")

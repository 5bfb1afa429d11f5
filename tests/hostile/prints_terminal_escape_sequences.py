"""Attempts to take over the terminal of whoever reads its feedback: it prints, and
raises exceptions (with an exception type whose name holds escapes) carrying, an
OSC window-title change, an OSC 52 clipboard write, a clear-screen CSI, cursor
movement, a bell, carriage returns and a green "ALL CHECKS PASSED" drawn over the
grader's table.

Expected verdict: its checks are errors ("raised an exception"); `grader check`
prints, and the Gradescope staff log holds, no escape, bell or other control byte
(newline and tab aside); the pages and JSON files hold none either.  The words
"ALL CHECKS PASSED" may appear only as plain text inside the error message.
"""

import sys

TAKEOVER = (
    "\x1b]0;grader: ALL CHECKS PASSED\x07"  # window title
    "\x1b]52;c;cm0gLXJmIH4K\x07"  # clipboard write
    "\x1b[2J\x1b[H"  # clear screen, cursor home
    "\x1b[10A\x1b[1;32mALL CHECKS PASSED 41/41\x1b[0m\x07\r"  # up ten lines, green, bell, carriage return
    "\x9b2J\x9d0;c1 title\x9c"  # the same with 8-bit C1 controls
)

print(TAKEOVER)
sys.stderr.write(TAKEOVER + "\n")

Takeover = type("Takeover\x1b[2J\x1b]0;owned\x07", (RuntimeError,), {})


def np_forward(x, w, act="sigmoid"):
    raise Takeover(TAKEOVER)


def np_backward(x, y, w, act="sigmoid"):
    raise Takeover(TAKEOVER)


def np_train(x, y, w, lr, epochs, act="sigmoid"):
    raise Takeover(TAKEOVER)


def torch_forward(x, w, act="sigmoid"):
    raise Takeover(TAKEOVER)


def torch_backward(x, y, w, act="sigmoid", loss="mse"):
    raise Takeover(TAKEOVER)


def torch_train(x, y, w, lr, epochs, act="sigmoid", loss="mse"):
    raise Takeover(TAKEOVER)

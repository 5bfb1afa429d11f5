"""Attempts to pass the hidden cases by reading the answer key the LMS image holds: the
image's build computed every expected value, hidden cases included, into
/autograder/source/answer-key, beside the secret in /autograder/source/secret.txt.  At
import it lists and reads both (printing what it got), and np_forward answers every call
by looking its inputs up in the key it read; without a key it returns zeros.

Expected verdict (in a container of the real image): every read is denied (the key and
the secret are deleted before student code runs, or stay readable by root only when the
image's root is read-only), so np_forward finds nothing and every np-forward check fails
with "wrong value"; results.json holds no hidden value.
"""

import json
import os

KEY = "/autograder/source/answer-key"
records = []
for target in (KEY, "/autograder/source/secret.txt", "/autograder/source"):
    try:
        if os.path.isdir(target):
            names = os.listdir(target)
            print(f"LEAKED listing {target}: {names[:10]}")
            for name in names:
                if target == KEY:
                    with open(os.path.join(target, name)) as handle:
                        records += json.load(handle)
                        print(f"LEAKED {len(records)} records of the answer key")
        else:
            with open(target) as handle:
                print(f"LEAKED {target}: {handle.read(60)!r}")
    except OSError as error:
        print(f"denied {target}: {type(error).__name__}")


def _looked_up(check, x, w):
    for record in records:
        inputs = record["case"]["inputs"]
        if record["check"] == check and inputs.get("x") == [float(v) for v in x] and inputs.get("w") == [float(v) for v in w]:
            return record["value"]
    return [0.0, 0.0]


def np_forward(x, w, act="sigmoid"):
    return _looked_up("np-forward-hidden", x, w), _looked_up("np-forward-output", x, w)

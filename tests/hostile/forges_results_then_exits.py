"""Attempts to forge a perfect score: prints Gradescope-style results and
grader events to stdout, writes results.json / grading.json files wherever it
can, writes "passed" verdicts into every open file descriptor (the grader's
result channel among them), then leaves with os._exit(0).

Expected verdict: none of it counts: the channel carries values, not verdicts,
so the forged line is refused as "not a result" and the submission scores 0.
"""

import json
import os

forged = {"score": 100, "max_score": 100, "tests": [{"name": "all", "score": 100, "status": "passed"}]}
print(json.dumps(forged))
print(json.dumps({"event": "done"}))
for folder in (".", "..", "/tmp", os.path.expanduser("~")):
    for name in ("results.json", "grading.json"):
        try:
            with open(os.path.join(folder, name), "w") as handle:
                json.dump(forged, handle)
        except OSError:
            pass
for name in os.listdir("/proc/self/fd"):
    try:
        os.write(int(name), (json.dumps({"event": "verdict", "status": "passed", "score": 100}) + "\n").encode())
    except OSError:
        pass
os._exit(0)

"""What the recording of the rules costs (`make bench` runs it after the throughput).

The same synthetic class as bench/throughput.py (copies of the bundled submissions,
the shortcuts included) is graded twice with warm workers, public cases only and no
cache: with the course's spec, and with the same spec without its `[[rule]]` tables,
so that no call is recorded.  The difference of the medians per submission is the
cost of the recording; the calls the rules cover are where it goes.  Results are
added to bench/results.json under "rules_recording".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
from pathlib import Path

from throughput import REPO, build_class, grade_class  # bench/throughput.py

from grader.launchers import WarmLauncher
from reference.cases import draw_cases
from reference.spec import DEFAULT_SPEC, load_spec
from grader.pipeline import plan_grading

_RULE = re.compile(r"^\[\[rule\]\]\n(?:(?!\[|# -).*\n)*", re.MULTILINE)  # a [[rule]] table, up to the next table


def spec_without_rules(target: Path, source: Path = DEFAULT_SPEC) -> Path:
    target.write_text(_RULE.sub("", source.read_text(encoding="utf-8")), encoding="utf-8")
    if load_spec(target).rules:
        raise RuntimeError("the spec without rules still declares some")
    return target


def measure(folder: Path, spec_path: Path, jobs: int) -> dict:
    spec = load_spec(spec_path)
    plan = plan_grading(spec, draw_cases(spec, None))
    watched = {call.id for call in plan.calls if call.watch}
    launcher = WarmLauncher()
    try:
        records, seconds = grade_class(folder, plan, launcher, jobs)
    finally:
        launcher.close()
    normal = [r for r in records if not r["timeout_seconds"]]
    return {
        "watched_calls": len(watched),
        "seconds": round(seconds, 2),
        "median_wall_ms": round(1000 * statistics.median(r["wall"] for r in normal), 1),
        "median_compute_ms": round(1000 * statistics.median(r["compute"] for r in normal), 1),
        "compute_ms": {r["id"]: 1000 * r["compute"] for r in normal},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_RULES_SIZE", 40)))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as scratch:
        folder = Path(scratch, "class")
        folder.mkdir()
        build_class(folder, args.size)
        bare = measure(folder, spec_without_rules(Path(scratch, "no-rules.toml")), args.jobs)
        ruled = measure(folder, DEFAULT_SPEC, args.jobs)
    # per hand-in, the student's code timed inside its process: the recording runs there, and only there
    kinds: dict[str, list[float]] = {}
    for submission_id, ms in ruled.pop("compute_ms").items():
        if submission_id in bare["compute_ms"]:
            kinds.setdefault(submission_id.split("_", 2)[2], []).append(ms - bare["compute_ms"][submission_id])
    bare.pop("compute_ms")
    result = {
        "submissions": args.size,
        "recording_ms_by_hand_in": {kind: round(statistics.median(values), 1) for kind, values in sorted(kinds.items())},
        "with_rules": ruled,
        "without_rules": bare,
        "recording_ms_per_submission": round(ruled["median_wall_ms"] - bare["median_wall_ms"], 1),
        "recording_compute_ms_per_submission": round(ruled["median_compute_ms"] - bare["median_compute_ms"], 1),
    }
    print(json.dumps(result, indent=2))
    path = REPO / "bench" / "results.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored["rules_recording"] = result
    path.write_text(json.dumps(stored, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""What the recording of the rules costs (`make bench` runs it after the throughput).

The same synthetic class as bench/throughput.py (copies of the bundled submissions,
the shortcuts included) is graded with warm workers, public cases only and no cache:
with the course's spec, and with the same spec without its `[[rule]]` tables, so that
no call is recorded, alternately, a few times.  The recording runs inside the calls
the rules cover, so those calls' seconds, timed in the submission's process, are
compared (the fastest run of each: a busy machine only ever adds).  Results are added
to bench/results.json under "rules_recording".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
from pathlib import Path

from throughput import REPO, build_class, grade_timed  # bench/throughput.py

from grader.core.assignment import DEFAULT_ASSIGNMENT
from grader.core.cases import draw_cases
from grader.core.spec import load_spec, spec_path
from grader.engine.pipeline import plan_grading

_RULE = re.compile(
    r"^\[\[rule\]\]\n(?:(?!\[|# -).*\n)*", re.MULTILINE
)  # a [[rule]] table, up to the next table


def spec_without_rules(target: Path, source: Path) -> Path:
    target.write_text(_RULE.sub("", source.read_text(encoding="utf-8")), encoding="utf-8")
    if load_spec(target).rules:
        raise RuntimeError("the spec without rules still declares some")
    return target


def measure(folder: Path, spec_file: Path, jobs: int, watched: set[str]) -> dict:
    """Per hand-in: the seconds its calls that the rules cover took, timed inside its process."""
    spec = load_spec(spec_file)
    records, _ = grade_timed(folder, spec, plan_grading(spec, draw_cases(spec, None)), True, jobs)
    return {
        r["id"]: sum(t for call, t in r["calls"].items() if call in watched)
        for r in records
        if not r["timeout_seconds"]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_RULES_SIZE", 16)))
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs of each spec, alternated; the fastest counts (a busy machine only adds)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results.json",
        help="the results file the figures are added to (default: bench/results.json)",
    )
    args = parser.parse_args()
    own_spec = spec_path(args.assignment)
    spec = load_spec(own_spec)
    watched = {
        call.describe() for call in plan_grading(spec, draw_cases(spec, None)).calls if call.watch
    }
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as scratch:
        folder = Path(scratch, "class")
        folder.mkdir()
        build_class(folder, args.size, spec.reference.examples)
        bare_spec = spec_without_rules(Path(scratch, "no-rules.toml"), own_spec)
        best: dict[str, dict[str, float]] = {"with": {}, "without": {}}
        for _ in range(args.repeats):
            for name, path in (("without", bare_spec), ("with", own_spec)):
                for submission_id, seconds in measure(folder, path, args.jobs, watched).items():
                    best[name][submission_id] = min(seconds, best[name].get(submission_id, seconds))
    by_kind: dict[str, list[tuple[float, float]]] = {}
    for submission_id, seconds in best["with"].items():
        if submission_id in best["without"]:
            by_kind.setdefault(submission_id.split("_", 2)[2], []).append(
                (best["without"][submission_id], seconds)
            )
    rows = {
        kind: {
            "without_ms": round(1000 * min(a for a, _ in pairs), 1),
            "with_ms": round(1000 * min(b for _, b in pairs), 1),
        }
        for kind, pairs in sorted(by_kind.items())
    }
    correct = [
        row["with_ms"] - row["without_ms"]
        for kind, row in rows.items()
        if kind.startswith("correct_")
    ]
    result = {
        "submissions": args.size,
        "watched_calls": len(watched),
        "what": "seconds of the calls the rules cover, timed in the submission's process, fastest of the repeats",
        "by_hand_in": rows,
        "median_recording_ms_per_correct_submission": round(statistics.median(correct), 1)
        if correct
        else None,
    }
    print(json.dumps(result, indent=2))
    path = args.out
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[
        "rules_recording" if spec.name == DEFAULT_ASSIGNMENT else f"rules_recording_{spec.name}"
    ] = result
    path.write_text(json.dumps(stored, indent=2) + "\n")


if __name__ == "__main__":
    main()

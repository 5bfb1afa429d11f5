"""Latency a student feels on an LMS (`make container-test` runs it after the container tests).

Every submission pays a fresh container.  In each of several fresh containers of the
autograder image, at Gradescope's default limits (half a CPU, 768 MiB, no network), this
measures, in the same container and the same run:

- the floor: one interpreter start with numpy and torch imported (`python -c "import
  numpy, torch"`, timed from outside it, the median of one run before and one after the
  grading), plus the student's own code for all graded calls, as the submission's process
  measured it (loading its files and every call);
- the whole `run_autograder` on a correct hand-in, timed from outside it.

The ratio whole / floor is what the grader adds to what any grader must pay.  Results go to
bench/results.json under `container`, with the build's and the base image's times when this
run made them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.core.assignment import DEFAULT_ASSIGNMENT  # noqa: E402
from grader.core.spec import load_spec, spec_path  # noqa: E402
from grader.gradescope import container, image  # noqa: E402

VENV_PYTHON = "/opt/backprop-grader/venv/bin/python"  # setup.sh's default
LOST_POINTS_LOGS = (
    REPO / "bench" / "out" / "lost-points"
)  # staff logs of runs where a correct hand-in lost a point
# Runs inside the container: the floor's interpreter, run_autograder, the floor again.
INSIDE = f"""
import json, subprocess, time
def timed(command):
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    return time.perf_counter() - started, completed
before, _ = timed([{VENV_PYTHON!r}, "-c", "import numpy, torch"])
whole, graded = timed(["/autograder/run_autograder"])
after, _ = timed([{VENV_PYTHON!r}, "-c", "import numpy, torch"])
print(json.dumps({{"import_before": before, "whole": whole, "import_after": after, "log": graded.stdout}}))
"""


def timing_of(log: str) -> dict:
    timing = container.read_timing(log)
    if timing is None:
        raise SystemExit(f"run_autograder printed no timing line:\n{log[-3000:]}")
    return timing


def inside_run(tag: str, submission: Path) -> tuple[dict, dict, float]:
    """What INSIDE measured in a fresh container of `tag`, the results.json, the container's wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-container-") as folder:
        results = Path(folder) / "results"
        results.mkdir()
        run = image.run_submission(tag, submission, results, command=(VENV_PYTHON, "-c", INSIDE))
        if run.returncode != 0:
            raise SystemExit(
                f"the measuring container failed ({run.returncode}): {run.stderr[-2000:]}"
            )
        return (
            json.loads(run.stdout.strip().splitlines()[-1]),
            json.loads((results / "results.json").read_text()),
            run.seconds,
        )


def measure(tag: str, submission: Path, runs: int, baseline: str | None = None) -> dict:
    """`runs` containers of `tag`; with `baseline` (an image of an earlier grader, same venv), one of
    it after each, its whole run_autograder held to the floor measured beside it."""
    records = []
    for _ in range(runs):
        inside, verdict, seconds = inside_run(tag, submission)
        timing = timing_of(inside["log"])
        interpreter = statistics.median([inside["import_before"], inside["import_after"]])
        floor = interpreter + timing["student_seconds"]
        records.append(
            {
                "whole_seconds": round(inside["whole"], 3),
                "floor_seconds": round(floor, 3),
                "interpreter_with_numpy_torch_seconds": round(interpreter, 3),
                "student_seconds": timing["student_seconds"],
                "grader_cpu_seconds": timing["grader_cpu_seconds"],
                "ratio": round(inside["whole"] / floor, 3),
                "score": verdict["score"],
                "container_wall_seconds": round(seconds, 3),
            }
        )
        failed = [
            f"{t['name'][:40]}: {t['output'][:300]}"
            for t in verdict["tests"]
            if t["status"] != "passed"
        ]
        if (
            failed
        ):  # a correct hand-in must not fail: keep what the staff log said, whole, for its cause
            records[-1]["failed"] = failed
            records[-1]["log_tail"] = inside["log"][-3000:]
            LOST_POINTS_LOGS.mkdir(parents=True, exist_ok=True)
            kept = (
                LOST_POINTS_LOGS
                / f"bench-container-{time.strftime('%Y%m%d-%H%M%S')}-{len(records)}.log"
            )
            kept.write_text(inside["log"])
            records[-1]["log"] = str(kept)
        if baseline:
            earlier, earlier_verdict, _ = inside_run(baseline, submission)
            records[-1]["baseline_whole_seconds"] = round(earlier["whole"], 3)
            records[-1]["baseline_ratio"] = round(earlier["whole"] / floor, 3)
            records[-1]["baseline_score"] = earlier_verdict["score"]
        print(json.dumps(records[-1]))
    figures = {
        "runs": records,
        "whole_seconds": statistics.median(r["whole_seconds"] for r in records),
        "floor_seconds": statistics.median(r["floor_seconds"] for r in records),
        "ratio": statistics.median(r["ratio"] for r in records),
    }
    if baseline:
        figures["baseline"] = {
            "image": baseline,
            "whole_seconds": statistics.median(r["baseline_whole_seconds"] for r in records),
            "ratio": statistics.median(r["baseline_ratio"] for r in records),
            "speedup": round(
                statistics.median(
                    r["baseline_whole_seconds"] / r["whole_seconds"] for r in records
                ),
                3,
            ),
        }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tag", default="backprop-autograder:bench", help="the image (built now unless --no-build)"
    )
    parser.add_argument("--no-build", action="store_true", help="measure the image as it is")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    parser.add_argument(
        "--submission", type=Path, default=REPO / "submissions" / "backprop" / "correct_scalar.py"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument(
        "--baseline",
        help="an image of an earlier grader on the same venv, run after each container of --tag (README: how to make one)",
    )
    args = parser.parse_args()
    problem = image.engine_problem()
    if problem:
        print(f"bench/container.py: not measured: {problem}")
        return 0
    spec = load_spec(spec_path(args.assignment, None))
    built = {}
    if not args.no_build:
        with tempfile.TemporaryDirectory(prefix="bench-image-") as folder:
            secret = Path(folder) / "secret.txt"
            secret.write_text("a secret for the benchmark's hidden cases\n")
            started = time.monotonic()
            base = image.base_image()
            built["base_seconds"] = round(time.monotonic() - started, 1)
            started = time.monotonic()
            context = image.build_context(Path(folder), spec, secret_file=secret)
            built["context_seconds"] = round(time.monotonic() - started, 1)
            started = time.monotonic()
            image.build_image(context, args.tag, base)
            built["build_seconds"] = round(time.monotonic() - started, 1)
            built["base_image"] = base
    with tempfile.TemporaryDirectory(prefix="bench-submission-") as folder:
        submission = Path(folder) / "submission"
        submission.mkdir()
        shutil.copy(args.submission, submission)
        figures = measure(args.tag, submission, args.runs, args.baseline)
    figures = {
        "limits": " ".join(image.GRADESCOPE_LIMITS) + " --network=none",
        "submission": args.submission.name,
        **built,
        **figures,
        "target_ratio": 1.3,
    }
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["container"] = figures
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Throughput benchmark (`make bench`): grade a synthetic class with warm workers and
with one fresh interpreter per submission, in the same run, and compare.

The class is built from the bundled submissions: N copies, mixed .py / .ipynb /
folder / zip, some failing, one that never returns.  Public cases only (the
self-check's load).  Overhead per submission is its wall time minus the time the
student's own code ran (loading plus every call, measured inside the child).
Results go to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.discover import discover_submissions  # noqa: E402
from grader.launchers import FreshLauncher, WarmLauncher  # noqa: E402
from grader.load import load_submission  # noqa: E402
from grader.pipeline import execute_plan, plan_grading, score_execution  # noqa: E402
from grader.sandbox import probe_layers  # noqa: E402
from reference.cases import draw_cases  # noqa: E402
from reference.spec import load_spec  # noqa: E402


def build_class(folder: Path, size: int) -> None:
    """size submissions cycling through the bundled ones (one infinite loop at most)."""
    bundled = sorted(p for p in (REPO / "submissions").iterdir() if p.name != "infinite_loop.py")
    shutil.copy(REPO / "submissions" / "infinite_loop.py", folder / "student_000_infinite_loop.py")
    for index in range(1, size):
        source = bundled[index % len(bundled)]
        target = folder / f"student_{index:03d}_{source.name}"
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)


def grade_class(folder: Path, plan, launcher, jobs: int) -> list[dict]:
    sandbox = probe_layers()  # once per run, as the CLI does: every layer the machine allows

    def grade(submission):
        started = time.perf_counter()
        loaded = load_submission(submission)
        execution = execute_plan(loaded, plan, None, launcher, sandbox)
        score_execution(submission, plan, execution, loaded.problems)
        wall = time.perf_counter() - started
        compute = execution.load.seconds + sum(o.seconds for o in execution.outcomes.values() if o.status in ("ok", "error"))
        timed_out = any(o.status == "timeout" for o in execution.outcomes.values())
        return {"id": submission.id, "wall": wall, "compute": compute, "timed_out": timed_out}

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(grade, discover_submissions(folder).submissions))


def summarise(records: list[dict], seconds: float) -> dict:
    normal = [r for r in records if not r["timed_out"]]
    return {
        "submissions": len(records),
        "seconds": round(seconds, 2),
        "submissions_per_second": round(len(records) / seconds, 3),
        "median_overhead_ms": round(1000 * statistics.median(r["wall"] - r["compute"] for r in normal), 1),
        "median_compute_ms": round(1000 * statistics.median(r["compute"] for r in normal), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", 200)))
    parser.add_argument("--fresh-size", type=int, default=int(os.environ.get("BENCH_FRESH_SIZE", 20)), help="class size for the fresh-interpreter baseline")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    spec = load_spec()
    plan = plan_grading(spec, draw_cases(spec, None))
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        warm_class, fresh_class = Path(scratch, "warm"), Path(scratch, "fresh")
        warm_class.mkdir(), fresh_class.mkdir()
        build_class(warm_class, args.size)
        build_class(fresh_class, args.fresh_size)

        launcher = WarmLauncher()
        started = time.perf_counter()
        warm = summarise(grade_class(warm_class, plan, launcher, args.jobs), time.perf_counter() - started)
        launcher.close()
        parent_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        started = time.perf_counter()
        fresh = summarise(grade_class(fresh_class, plan, FreshLauncher(), args.jobs), time.perf_counter() - started)
        child_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    result = {
        "submissions": warm["submissions"],
        "submissions_per_second": warm["submissions_per_second"],
        "median_overhead_ms": warm["median_overhead_ms"],
        "speedup_vs_fresh_interpreter": round(warm["submissions_per_second"] / fresh["submissions_per_second"], 1),
        "jobs": args.jobs,
        "warm": warm,
        "fresh_interpreter": fresh,
        "peak_rss_mib": {"parent": round(parent_peak_mib), "child": round(child_peak_mib)},
    }
    path = REPO / "bench" / "results.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **result}, indent=2) + "\n")  # keeps `make bench-peers`' numbers
    rows = [
        ("submissions", warm["submissions"], fresh["submissions"]),
        ("submissions per second", warm["submissions_per_second"], fresh["submissions_per_second"]),
        ("median overhead per submission (ms)", warm["median_overhead_ms"], fresh["median_overhead_ms"]),
        ("median student compute (ms)", warm["median_compute_ms"], fresh["median_compute_ms"]),
    ]
    print(f"{'':40} {'warm workers':>14} {'fresh interpreter':>18}")
    for name, a, b in rows:
        print(f"{name:40} {a:>14} {b:>18}")
    print(f"speed-up: {result['speedup_vs_fresh_interpreter']}x; peak RSS parent {result['peak_rss_mib']['parent']} MiB, child {result['peak_rss_mib']['child']} MiB")


if __name__ == "__main__":
    main()

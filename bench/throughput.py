"""Throughput benchmark (`make bench`): grade a synthetic class with warm workers and
with one fresh interpreter per submission, in the same run, and compare.

The class is built from the assignment's example submissions: N copies, mixed .py / .ipynb /
folder / zip, some failing, one that never returns.  Both launchers grade the same
class (`--fresh-size` grades only its first submissions with fresh interpreters, for a
quicker run; the ratio is then per submission).  Public cases only (the self-check's
load).  No cache of runs: the class is copies, and every copy's code is run.  Overhead per submission is its wall time minus the time the student's own code
ran (loading plus every call, measured inside the child).

The student's compute bounds every ratio: a grader with no overhead at all would still
wait for it.  The table shows that bound (`speedup_ceiling`) beside the measured
speed-up, and which calls of the spec the compute goes to, so a course can see what
its spec costs.  `--spec` or `--skip-checks` measures another spec.  Results go to
bench/results.json (another spec's under `variants`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# --tree DIR grades with the grader of another checkout (a baseline revision), this script's
# own measuring and class: like with like.  Read before the grader is imported.
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve() if "--tree" in sys.argv[:-1] else REPO
sys.path.insert(0, str(TREE))

from specs import spec_with_checks  # noqa: E402 - bench/specs.py

from grader.core.assignment import DEFAULT_ASSIGNMENT  # noqa: E402
from grader.core.cases import draw_cases  # noqa: E402
from grader.core.spec import load_spec, spec_path  # noqa: E402
from grader.engine.discover import discover_submissions  # noqa: E402
from grader.engine.pipeline import grade_class, open_session, plan_grading  # noqa: E402
from grader.isolation.launchers import WarmLauncher  # noqa: E402


def build_class(folder: Path, size: int, examples: Path) -> None:
    """size submissions cycling through the assignment's examples (one that never returns at most)."""
    never = [p for p in sorted(examples.iterdir()) if p.stem == "infinite_loop"]
    bundled = sorted(p for p in examples.iterdir() if p not in never)
    for path in never[:1]:
        shutil.copy(path, folder / f"student_000_{path.name}")
    for index in range(len(never[:1]), size):
        source = bundled[index % len(bundled)]
        target = folder / f"student_{index:03d}_{source.name}"
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)


def grade_timed(
    folder: Path, spec, plan, warm: bool, jobs: int, limit: int | None = None
) -> tuple[list[dict], float]:
    """Grade the class (its first `limit` submissions) as the CLI does, every layer the machine
    allows; per-submission records and the wall time."""
    descriptions = {call.id: call.describe() for call in plan.calls}

    def record(submission, graded) -> dict:
        timing = graded.timing
        calls: dict[str, float] = {}
        for call_id, seconds in timing.calls.items():
            calls[descriptions[call_id]] = calls.get(descriptions[call_id], 0.0) + seconds
        compute = timing.load + sum(timing.calls.values())
        return {
            "id": submission.id,
            "wall": timing.wall,
            "compute": compute,
            "timeout_seconds": timing.timed_out,
            "calls": calls,
            "free_form": any(c.mode == "free-form" for c in graded.result.checks),
        }

    submissions = discover_submissions(folder).submissions[:limit]
    with open_session(spec, None, plan=plan, warm=warm) as session:
        if warm and not isinstance(session.launcher, WarmLauncher):
            raise SystemExit(f"no warm workers to measure: {session.launched}")
        started = time.perf_counter()
        graded = grade_class(session, submissions, jobs=jobs)
        seconds = time.perf_counter() - started
    return [record(s, g) for s, g in zip(submissions, graded)], seconds


def summarise(records: list[dict], seconds: float, jobs: int) -> dict:
    normal = [r for r in records if not r["timeout_seconds"]]
    # what no grader could beat: the student's compute (timed-out calls at their limit) spread over the jobs
    floor = sum(r["compute"] + r["timeout_seconds"] for r in records) / jobs
    return {
        "submissions": len(records),
        "seconds": round(seconds, 2),
        "submissions_per_second": round(len(records) / seconds, 3),
        "median_overhead_ms": round(
            1000 * statistics.median(r["wall"] - r["compute"] for r in normal), 1
        ),
        "median_compute_ms": round(1000 * statistics.median(r["compute"] for r in normal), 1),
        "seconds_with_zero_overhead": round(floor, 2),
    }


def median_overhead_ms(records: list[dict]) -> float | None:
    normal = [r for r in records if not r["timeout_seconds"]]
    if not normal:
        return None
    return round(1000 * statistics.median(r["wall"] - r["compute"] for r in normal), 1)


def by_kind(records: list[dict]) -> dict:
    """Template hand-ins and free-form ones apart: the two cost differently, and a class's mix
    of them must not move the figure."""
    kinds = {"template": False, "free_form": True}
    return {
        kind: {
            "submissions": sum(r.get("free_form", False) is free for r in records),
            "median_overhead_ms": median_overhead_ms(
                [r for r in records if r.get("free_form", False) is free]
            ),
        }
        for kind, free in kinds.items()
    }


def compute_by_call(records: list[dict]) -> list[dict]:
    """Each distinct call of the spec: median seconds per submission and its share of all compute."""
    normal = [r for r in records if not r["timeout_seconds"] and r["calls"]]
    total = sum(sum(r["calls"].values()) for r in normal) or 1.0
    names = sorted({name for r in normal for name in r["calls"]})
    rows = [
        {
            "call": name,
            "median_ms": round(
                1000 * statistics.median(r["calls"].get(name, 0.0) for r in normal), 1
            ),
            "share": round(sum(r["calls"].get(name, 0.0) for r in normal) / total, 3),
        }
        for name in names
    ]
    return sorted(rows, key=lambda row: -row["share"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", 200)))
    parser.add_argument(
        "--fresh-size",
        type=int,
        default=int(os.environ.get("BENCH_FRESH_SIZE", 0)) or None,
        help="grade only this many of the class with fresh interpreters (default: all of it)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--assignment",
        default=DEFAULT_ASSIGNMENT,
        help="the assignment whose examples make the class (default: %(default)s)",
    )
    parser.add_argument(
        "--spec", type=Path, help="a spec to grade with instead of the assignment's own"
    )
    parser.add_argument(
        "--skip-checks",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="leave out the checks whose id matches, e.g. '*-1000-*': what would the class cost without them?",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results.json",
        help="the results file the figures are added to (default: bench/results.json)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also grade the class with the grader of REV, alternating with this one in the same "
        "run, and print both with their ratio ('auto': the commit before the change, that is "
        "HEAD if the tree has uncommitted changes, else HEAD~1)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --baseline")
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # read at import: TREE
    parser.add_argument("--class-folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--records-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.records_out:  # one round of --baseline: the warm run's records only
        spec = load_spec(spec_path(args.assignment))
        plan = plan_grading(spec, draw_cases(spec, None))
        records, seconds = grade_timed(args.class_folder, spec, plan, True, args.jobs)
        args.records_out.write_text(json.dumps({"records": records, "seconds": seconds}))
        return
    own_spec = spec_path(args.assignment)
    args.spec = args.spec or own_spec
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        graded_by = args.spec
        if args.skip_checks:
            graded_by = spec_with_checks(
                lambda check_id: not any(fnmatch(check_id, p) for p in args.skip_checks),
                Path(scratch, "spec.toml"),
                args.spec,
            )
        spec = load_spec(graded_by)
        plan = plan_grading(spec, draw_cases(spec, None))
        folder = Path(scratch, "class")
        folder.mkdir()
        build_class(folder, args.size, spec.reference.examples)

        warm_records, warm_seconds = grade_timed(folder, spec, plan, True, args.jobs)
        parent_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        fresh_records, fresh_seconds = grade_timed(
            folder, spec, plan, False, args.jobs, args.fresh_size
        )
        child_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    warm = summarise(warm_records, warm_seconds, args.jobs)
    fresh = summarise(fresh_records, fresh_seconds, args.jobs)
    speedup = warm["submissions_per_second"] / fresh["submissions_per_second"]
    # the student's compute as the warm run measured it: a fresh interpreter's first torch calls also pay its lazy start-up
    ceiling = (
        fresh["seconds"]
        * (warm["submissions"] / fresh["submissions"])
        / warm["seconds_with_zero_overhead"]
    )
    result = {
        "submissions": warm["submissions"],
        "submissions_per_second": warm["submissions_per_second"],
        "median_overhead_ms": warm["median_overhead_ms"],
        "speedup_vs_fresh_interpreter": round(speedup, 1),
        "speedup_ceiling": round(
            ceiling, 1
        ),  # the speed-up of a grader with no overhead at all, same class
        "spec": {
            "file": os.path.relpath(args.spec, REPO),
            "skipped_checks": args.skip_checks,
            "checks": len(spec.checks),
        },
        "jobs": args.jobs,
        "warm": warm,
        "fresh_interpreter": fresh,
        "student_compute_by_call": compute_by_call(warm_records),
        "peak_rss_mib": {"parent": round(parent_peak_mib), "child": round(child_peak_mib)},
    }
    result["by_kind"] = by_kind(warm_records)
    if args.baseline:
        result["like_for_like"] = like_for_like(args, spec.reference.examples)
    path = args.out
    stored = (
        json.loads(path.read_text()) if path.exists() else {}
    )  # keeps `make bench-peers`' numbers
    if (
        args.skip_checks or args.spec != own_spec or spec.name != DEFAULT_ASSIGNMENT
    ):  # filed beside the course's figures, not over them
        stored.setdefault("variants", {})[
            " ".join(["skip", *args.skip_checks]) if args.skip_checks else result["spec"]["file"]
        ] = result
    else:
        stored.update(result)
    path.write_text(json.dumps(stored, indent=2) + "\n")
    rows = [
        ("submissions", warm["submissions"], fresh["submissions"]),
        ("seconds", warm["seconds"], fresh["seconds"]),
        ("submissions per second", warm["submissions_per_second"], fresh["submissions_per_second"]),
        (
            "median overhead per submission (ms)",
            warm["median_overhead_ms"],
            fresh["median_overhead_ms"],
        ),
        ("median student compute (ms)", warm["median_compute_ms"], fresh["median_compute_ms"]),
        (
            "seconds with zero overhead",
            warm["seconds_with_zero_overhead"],
            fresh["seconds_with_zero_overhead"],
        ),
    ]
    print(f"{'':40} {'warm workers':>14} {'fresh interpreter':>18}")
    for name, a, b in rows:
        print(f"{name:40} {a:>14} {b:>18}")
    print(
        f"speed-up: {result['speedup_vs_fresh_interpreter']}x; a grader with no overhead at all: {result['speedup_ceiling']}x"
    )
    print(
        f"peak RSS parent {result['peak_rss_mib']['parent']} MiB, child {result['peak_rss_mib']['child']} MiB"
    )
    if args.baseline:
        same = result["like_for_like"]
        print(
            f"\nbeside {same['baseline']} in the same run ({same['rounds']} rounds, alternating):"
        )
        for kind, row in same["kinds"].items():
            print(
                f"  {kind:10} median overhead {row['current_ms']} ms against {row['baseline_ms']} ms"
                f" (ratio {row['ratio']}; {row['submissions']} hand-ins a round)"
            )
    print("\nwhere the student's compute goes (warm run, submissions that returned):")
    for row in result["student_compute_by_call"][:8]:
        print(f"  {row['share']:>6.1%}  {row['median_ms']:>8} ms  {row['call']}")


def default_baseline() -> str:
    """The commit before the change being measured: HEAD while the tree has uncommitted changes
    (they are the change), else HEAD's parent."""
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return "HEAD" if dirty else "HEAD~1"


def like_for_like(args, examples: Path) -> dict:
    """This grader and the one of --baseline on one class, round by round in alternating order,
    each round a fresh process of this script (warm workers, every layer); medians over all
    rounds, template and free-form hand-ins apart."""
    rev = default_baseline() if args.baseline == "auto" else args.baseline
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    records: dict[str, list] = {"current": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as scratch:
        base = Path(scratch, "baseline")
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), commit],
            check=True,
        )
        try:
            folder = Path(scratch, "class")
            folder.mkdir()
            build_class(folder, args.size, examples)
            for round_number in range(args.rounds):
                order = (
                    ("current", "baseline") if round_number % 2 == 0 else ("baseline", "current")
                )
                for which in order:
                    out = Path(scratch, f"{which}-{round_number}.json")
                    command = [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--records-out",
                        str(out),
                    ]
                    command += ["--class-folder", str(folder), "--assignment", args.assignment]
                    command += ["--jobs", str(args.jobs)]
                    if which == "baseline":
                        command += ["--tree", str(base)]
                    subprocess.run(command, check=True, cwd=REPO)
                    records[which] += json.loads(out.read_text())["records"]
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False
            )
    kinds = {}
    current, baseline = by_kind(records["current"]), by_kind(records["baseline"])
    for kind in current:
        now, then = current[kind]["median_overhead_ms"], baseline[kind]["median_overhead_ms"]
        kinds[kind] = {
            "current_ms": now,
            "baseline_ms": then,
            "ratio": round(now / then, 2) if now and then else None,
            "submissions": current[kind]["submissions"] // max(1, args.rounds),
        }
    return {"baseline": commit, "rounds": args.rounds, "kinds": kinds}


if __name__ == "__main__":
    main()

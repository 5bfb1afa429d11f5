"""What the sandbox costs per submission: the same submission graded with every
layer this machine allows, with none, and with each layer alone, in one run.

    .venv/bin/python bench/sandbox_cost.py [--repeat 30] [--fresh 5]

The submission is a correct one making a single call, so the time measured is
almost all start-up, confinement, clean-up and the straggler sweep.  Runs are
interleaved (all, none, each layer, all, none, ...) so a busy machine slows
every configuration alike.  Warm workers (the default launcher) are measured
`--repeat` times; fresh interpreters `--fresh` times (their two seconds of
`import torch` dwarf the layers).  Results go to bench/out/sandbox_cost.json.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.core.cases import draw_cases  # noqa: E402
from grader.core.spec import load_spec  # noqa: E402
from grader.engine.discover import submission_at  # noqa: E402
from grader.engine.execute import execute_submission  # noqa: E402
from grader.engine.load import load_submission  # noqa: E402
from grader.engine.pipeline import plan_grading  # noqa: E402
from grader.isolation.launchers import FreshLauncher, WarmLauncher  # noqa: E402
from grader.isolation.sandbox import Sandbox, probe_layers  # noqa: E402

SUBMISSION = REPO / "submissions" / "backprop" / "correct_vectorised_float32.py"


def configurations() -> dict[str, Sandbox]:
    every = probe_layers()
    optional = [layer for layer in every.layers if layer != "process-group"]
    found = {"all layers": every, "none": Sandbox(("process-group",))}
    for layer in optional:
        found[f"{layer} alone"] = Sandbox(("process-group", layer))
    return found


def measure(launcher, sandboxes: dict[str, Sandbox], repeat: int) -> dict[str, list[float]]:
    spec = load_spec()
    plan = plan_grading(spec, draw_cases(spec, None))
    call = next(c for c in plan.calls if c.entry == "np_forward")
    loaded = load_submission(submission_at(SUBMISSION))
    timings: dict[str, list[float]] = {name: [] for name in sandboxes}
    for sandbox in sandboxes.values():  # one unmeasured round: caches, the fork server's first fork
        execute_submission(loaded, [call], spec.limits, None, launcher, sandbox)
    for _ in range(repeat):
        for name, sandbox in sandboxes.items():
            started = time.perf_counter()
            execution = execute_submission(loaded, [call], spec.limits, None, launcher, sandbox)
            timings[name].append(time.perf_counter() - started)
            if execution.outcomes[call.id].status != "ok":
                raise SystemExit(
                    f"{name}: the call did not succeed ({execution.outcomes[call.id]})"
                )
    return timings


def summary(timings: dict[str, list[float]]) -> dict[str, dict]:
    none = statistics.median(timings["none"])
    return {
        name: {
            "median_ms": round(1000 * statistics.median(values), 1),
            "p90_ms": round(1000 * sorted(values)[int(0.9 * (len(values) - 1))], 1),
            "added_ms": round(1000 * (statistics.median(values) - none), 1),
            "runs": len(values),
        }
        for name, values in timings.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=30, help="measured runs per configuration with warm workers"
    )
    parser.add_argument(
        "--fresh",
        type=int,
        default=5,
        help="measured runs per configuration with fresh interpreters (0: skip)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "out" / "sandbox_cost.json",
        help="where the results go (default: bench/out/sandbox_cost.json)",
    )
    args = parser.parse_args()
    sandboxes = configurations()
    print(sandboxes["all layers"].describe())
    results = {}
    launcher = WarmLauncher(
        load_spec().reference.warm_up
    )  # the default assignment's warm-up, as grade runs it
    try:
        results["warm"] = summary(measure(launcher, sandboxes, args.repeat))
    finally:
        launcher.close()
    if args.fresh:
        both = {name: sandboxes[name] for name in ("all layers", "none")}
        results["fresh"] = summary(measure(FreshLauncher(), both, args.fresh))
    for launcher_name, rows in results.items():
        print(f"\n{launcher_name} launcher: wall time per submission (one call)")
        print(f"  {'configuration':24} {'median ms':>10} {'p90 ms':>8} {'added ms':>9}")
        for name, row in rows.items():
            print(f"  {name:24} {row['median_ms']:>10} {row['p90_ms']:>8} {row['added_ms']:>9}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"layers": list(sandboxes["all layers"].layers), **results}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()

"""mlp-tui benchmarks: one table of figures against their targets.

    python benchmarks/run.py           # full sizes; exits 1 when a target is missed
    python benchmarks/run.py --quick   # tiny sizes: checks that every figure runs, not targets

Every timing is interleaved with its baseline (ABAB...) over several repetitions and reported as
a median, because the machine is shared and noisy. Exits 2 when a figure could not be measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Result  # noqa: E402

FIGURES = (
    "engine overhead",
    "TUI overhead",
    "redraw cost vs history",
    "key latency",
    "memory",
    "start-up: --help",
    "start-up: first header in a pty",
    "start-up: first frame",
    "stack: width 5 x 32 seeds",
)


# Groups that only wait on subprocesses: --quick runs them alongside the others.
SUBPROCESS_GROUPS = ("memory", "startup")
OPT_IN_GROUPS = ("ray", "process", "grid")  # run only when named in --only: they start processes


@dataclass(frozen=True)
class Scale:
    """Sizes and repetitions of every figure."""

    epochs: int  # per run, for the throughput figures
    reps: int  # interleaved repetitions of the throughput figures
    warmup: int  # epochs of an untimed first run (0: none)
    history_sizes: tuple[int, ...]  # epochs per series for the redraw figure
    answer_sizes: tuple[int, ...]  # epochs per run for the cursor/band/capacity figure
    redraws: int
    presses: int
    memory_epochs: int
    memory_reps: int
    startup_reps: int
    quick: bool = False
    ray_epochs: int = 20_000
    stack_epochs: int = 2_000
    grid_epochs: int = 10_000


FULL = Scale(4_000, 5, 50, (10**3, 10**5, 10**6), (10**3, 10**5), 40, 50, 10**6, 3, 5)
QUICK = Scale(20, 1, 2, (10, 100, 1000), (10, 1000), 3, 1, 10**4, 1, 1, quick=True, ray_epochs=50,
              stack_epochs=20, grid_epochs=20)


def benches(scale: Scale) -> list[tuple[str, Callable[[], list[Result]]]]:
    """(group name, measure) in the order they run; imports stay lazy so --help is instant."""
    import bench_history as h
    import bench_startup as st
    import bench_training as tr

    return [
        ("engine", lambda: [tr.engine_overhead(scale.epochs, scale.reps, scale.warmup)]),
        ("tui", lambda: [tr.tui_overhead(scale.epochs, scale.reps, scale.warmup)]),
        ("redraw", lambda: [h.redraw_cost(scale.history_sizes, scale.redraws),
                            h.answer_redraw_cost(scale.answer_sizes, scale.redraws)]),
        ("latency", lambda: [tr.key_latency(scale.presses)]),
        ("memory", lambda: [h.memory(scale.memory_epochs, scale.memory_reps)]),
        ("startup", lambda: st.startup(scale.startup_reps, concurrent=scale.quick)),
        ("ray", lambda: __import__("bench_ray").ray_overhead(scale.ray_epochs)),
        ("process", lambda: __import__("bench_process").process_figures(
            scale.ray_epochs, max(1, scale.reps // 2), scale.presses)),
        ("stack", lambda: [__import__("bench_stack").stack_ratio(
            5, 32, scale.stack_epochs, max(1, scale.reps // 2))]),
        ("grid", lambda: __import__("bench_grid").grid_figures(scale.grid_epochs)),
    ]


def environment() -> str:
    """One line naming what was measured: the commit (and whether the tree is dirty), Python,
    torch and the cores."""
    import platform
    import subprocess

    import torch

    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        rev = "?"
    return (
        f"mlp-tui {rev or '?'} · Python {platform.python_version()} · torch {torch.__version__} "
        f"· {os.cpu_count()} cores"
    )


def table(results: list[Result], quick: bool, only_measured: bool = False) -> str:
    """The final table (a figure that could not be measured shows as ERROR), then one line of
    detail per figure."""
    by_name = {r.figure: r for r in results}
    rows = [("figure", "measured", "target", "result")]
    for name in (*FIGURES, *(r.figure for r in results if r.figure not in FIGURES)):
        r = by_name.get(name)
        if r is None and only_measured:
            continue
        if r is None:
            rows.append((name, "-", "-", "ERROR"))
        else:
            rows.append((name, r.fmt(r.measured), r.target_text, "PASS" if r.passed else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if quick:
        lines.append("(--quick: tiny sizes, targets not enforced)")
    lines.append("")
    lines += [f"{r.figure}: {r.detail}" for r in results]
    return "\n".join(lines)


def measure_group(group: str, measure: Callable[[], list[Result]]) -> list[Result] | None:
    """Run one group; None (and the traceback on stderr) if it failed."""
    t0 = time.perf_counter()
    try:
        results = measure()
    except Exception:
        print(f"[{group}] ERROR\n{traceback.format_exc()}", file=sys.stderr)
        return None
    print(f"[{group}] measured in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return results


def measure_all(groups: list[tuple[str, Callable[[], list[Result]]]], quick: bool):
    """Results of every group, in order, and how many failed. In --quick mode the groups that
    only wait on subprocesses (SUBPROCESS_GROUPS) run meanwhile in a background thread."""
    with ThreadPoolExecutor(1) as pool:
        background = {
            g: pool.submit(measure_group, g, m)
            for g, m in groups
            if quick and g in SUBPROCESS_GROUPS
        }
        outcomes = [
            background[g].result() if g in background else measure_group(g, m) for g, m in groups
        ]
    results = [r for out in outcomes if out is not None for r in out]
    return results, sum(out is None for out in outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; only checks it runs")
    parser.add_argument(
        "--only",
        default="",
        help="comma list of groups: engine,tui,redraw,latency,memory,startup,stack; "
        "ray, process and grid run only when named",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    only = {g for g in args.only.split(",") if g}
    env, load = environment(), os.getloadavg()[0]
    groups = [
        (g, m) for g, m in benches(scale) if g in only or (not only and g not in OPT_IN_GROUPS)
    ]
    results, errors = measure_all(groups, args.quick)
    now = environment()
    print(env if now == env else f"{env}\n(changed during the run: {now})")
    print(f"load average (1 min) {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(table(results, args.quick, only_measured=bool(only)))
    if errors:
        return 2
    return 0 if args.quick or all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

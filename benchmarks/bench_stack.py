"""`--stack`: K seeds of one width trained as one stacked model against the same runs unstacked,
both on the thread backend (the engine's Experiment, every epoch recorded), timed in alternation.

    python benchmarks/run.py --only stack      # the figure: width 5 x 32 seeds x 2,000 epochs
    python benchmarks/bench_stack.py [--width 100] [--seeds 32] [--epochs 2000]
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training import engine_run  # noqa: E402
from harness import Result, interleave  # noqa: E402

from mlp_tui.core.config import ExperimentConfig, validate  # noqa: E402


def stack_ratio(width: int, seeds: int, epochs: int, reps: int, target: float = 10.0) -> Result:
    def cfg(stack: bool) -> ExperimentConfig:
        return validate(ExperimentConfig(widths=(width,), repeats=seeds, epochs=epochs, speed=0,
                                         stack=stack))

    engine_run(cfg(True).with_changes(epochs=20))  # first-call costs (lazy imports)
    s = interleave({"unstacked": functools.partial(engine_run, cfg(False)),
                    "stacked": functools.partial(engine_run, cfg(True))}, reps)
    return Result(
        f"stack: width {width} x {seeds} seeds",
        s.ratio("unstacked", "stacked"),
        target,
        "x",
        higher_is_better=True,
        detail=f"unstacked_time/stacked_time, {epochs} epochs, thread backend; "
        + s.describe("unstacked", "stacked"),
    )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=5)
    p.add_argument("--seeds", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    r = stack_ratio(a.width, a.seeds, a.epochs, a.reps)
    print(f"{r.figure}: {r.fmt(r.measured)} ({r.detail}); load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

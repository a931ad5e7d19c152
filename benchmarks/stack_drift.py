"""How far stacked seeds drift from the same seeds trained separately, per horizon, under several
kernel paths of this one machine (the numbers behind docs/portability.md and the stack tests).

    python benchmarks/stack_drift.py                       # every variant, widths 5/100/1000
    python benchmarks/stack_drift.py --variants default --widths 5 --seeds 32 --epochs 1000

A variant is a set of environment variables that makes torch and MKL take other kernels on the
same CPU: one OpenMP thread, MKL limited to AVX2 (the path MKL takes on AMD CPUs), ATen's AVX2 or
scalar kernels. Each runs in a fresh process. Printed per width and horizon: the worst and the
median of |stacked - separate| over every seed and epoch up to that horizon, and the median over
seeds of the final-loss difference.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys

VARIANTS = {
    "default": {},
    "omp1": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "mkl-avx2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "aten-avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "scalar": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}
HORIZONS = (10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000)


class _Never:
    interrupt = False


def _losses(width: int, seeds: list[int], epochs: int, threads: int) -> tuple[list, list]:
    """(separate, stacked): per seed, the train loss of every epoch."""
    from mlp_tui.core.config import ExperimentConfig, validate
    from mlp_tui.engine.data import load_dataset
    from mlp_tui.engine.stack_step import StackedTrainer
    from mlp_tui.engine.step import Trainer, configure_threads

    configure_threads(threads)
    cfg = validate(ExperimentConfig(widths=(width,), epochs=epochs, threads=threads))
    data = load_dataset(cfg, "cpu")
    separate = []
    for seed in seeds:
        trainer, losses = Trainer(cfg, data, width, seed), []
        while len(losses) < epochs:
            trainer.compute(min(trainer.rows, epochs - len(losses)), math.inf, _Never())
            losses += trainer.take()[0][0]["train_loss"]
        separate.append(losses)
    stack = StackedTrainer(cfg, data, width, seeds)
    rows = [stack.epoch()[0].tolist() for _ in range(epochs)]
    stacked = [[row[k] for row in rows] for k in range(len(seeds))]
    return separate, stacked


def measure(widths: list[int], seeds: int, epochs: int, threads: int) -> dict:
    out = {}
    for width in widths:
        separate, stacked = _losses(width, list(range(seeds)), epochs, threads)
        per = {}
        for h in (h for h in HORIZONS if h <= epochs):
            diffs = [
                abs(a - b)
                for s, t in zip(separate, stacked)
                for a, b in zip(s[:h], t[:h])
                if math.isfinite(a) and math.isfinite(b)
            ]
            rel = [
                abs(a - b) / max(abs(a), abs(b), 1e-30)
                for s, t in zip(separate, stacked)
                for a, b in zip(s[:h], t[:h])
                if math.isfinite(a) and math.isfinite(b)
            ]
            peak = [
                abs(a - b) / max(abs(v) for v in s[: j + 1])
                for s, t in zip(separate, stacked)
                for j, (a, b) in enumerate(zip(s[:h], t[:h]))
                if math.isfinite(a) and math.isfinite(b)
            ]
            finals = [abs(s[h - 1] - t[h - 1]) for s, t in zip(separate, stacked)]
            gap = abs(statistics.median(s[h - 1] for s in separate)
                      - statistics.median(t[h - 1] for t in stacked))
            per[h] = (max(diffs), max(rel), max(peak), statistics.median(finals), gap)
        out[width] = per
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--widths", default="5,100,1000")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (as --threads)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    if args.child:
        print(json.dumps(measure(widths, args.seeds, args.epochs, args.threads)))
        return
    print(f"{'variant':<10} {'width':>5} {'epochs':>6} {'worst':>9} {'worst rel':>9} "
          f"{'vs peak':>9} {'final med':>9} {'med gap':>9}")
    for name in args.variants.split(","):
        env = {**os.environ, **VARIANTS[name]}
        cmd = [sys.executable, __file__, "--child", "--widths", args.widths,
               "--seeds", str(args.seeds), "--epochs", str(args.epochs),
               "--threads", str(args.threads)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        for width, per in json.loads(done.stdout).items():
            for h, (worst, rel, peak, final, gap) in per.items():
                print(f"{name:<10} {width:>5} {h:>6} {worst:9.2e} {rel:9.2e} {peak:9.2e} "
                      f"{final:9.2e} {gap:9.2e}")


if __name__ == "__main__":
    main()

"""`--stack` building block: K seeds of width 5 trained as one stacked model (engine/stack.py)
against the same runs on the thread backend (one Run thread each, the engine's Experiment).

    python benchmarks/bench_stack.py [--seeds 32] [--epochs 2000] [--width 5]

Prints both times, the ratio (target >= 10x) and the load average. The stacked side records
every epoch's per-seed loss and accuracy into buffers and reads them back, as a run must.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def stacked(width: int, seeds: int, epochs: int) -> float:
    import torch

    from mlp_tui.config import ExperimentConfig, validate
    from mlp_tui.engine.data import load_dataset
    from mlp_tui.engine.stack import StackedTrainer
    from mlp_tui.engine.step import configure_threads

    cfg = validate(ExperimentConfig(widths=(width,), epochs=epochs, repeats=seeds, speed=0))
    configure_threads(cfg.threads)
    data = load_dataset(cfg, "cpu")
    t0 = time.perf_counter()
    trainer = StackedTrainer(cfg, data, width, list(range(seeds)))
    loss = torch.empty(epochs, seeds)
    correct = torch.empty(epochs, seeds)
    for e in range(epochs):
        per_seed, out = trainer.epoch()
        loss[e].copy_(per_seed)
        correct[e].copy_((out.argmax(2) == data.y_train).sum(1))
    loss.tolist(), correct.tolist()
    return time.perf_counter() - t0


def threads(width: int, seeds: int, epochs: int) -> float:
    from mlp_tui.config import ExperimentConfig, validate
    from mlp_tui.engine.experiment import Experiment

    exp = Experiment(validate(ExperimentConfig(widths=(width,), epochs=epochs, repeats=seeds,
                                               speed=0)))
    t0 = time.perf_counter()
    exp.start()
    exp.wait()
    took = time.perf_counter() - t0
    exp.stop(5.0)
    return took


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=5)
    p.add_argument("--seeds", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2000)
    a = p.parse_args()
    stacked(a.width, a.seeds, 20)  # warm-up: lazy imports and first-call costs
    t_stack = stacked(a.width, a.seeds, a.epochs)
    t_threads = threads(a.width, a.seeds, a.epochs)
    load = os.getloadavg()
    print(f"width {a.width} x {a.seeds} seeds x {a.epochs} epochs: stacked {t_stack:.2f} s, "
          f"thread backend {t_threads:.2f} s, ratio {t_threads / t_stack:.1f}x "
          f"(target >= 10x); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""#34's costs: a sharpness reading per width (cold and warm-started), the gradient-norm hook per
epoch, and `--sharpness 1` / `--sharpness 10` against no readings on the default experiment.

    python benchmarks/bench_sharpness.py           # the figures in docs/benchmarks.md
    python benchmarks/bench_sharpness.py --quick   # tiny sizes: checks that it runs

Every timing is interleaved with its baseline in the same invocation (ABAB...), medians printed.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from harness import interleave  # noqa: E402

from mlp_tui.core.config import ExperimentConfig  # noqa: E402
from mlp_tui.engine.curvature import model_loss, sharpness  # noqa: E402
from mlp_tui.engine.data import load_dataset  # noqa: E402
from mlp_tui.engine.step import Trainer, build  # noqa: E402

WIDTHS = (5, 100, 1000)


class _Never:
    interrupt = False


def reading_cost(reps: int) -> None:
    """Milliseconds per reading at init, from a random start and warm-started."""
    cfg = ExperimentConfig()
    data = load_dataset(cfg)
    for width in WIDTHS:
        model, _ = build(cfg, data, width, 0)
        params = list(model.parameters())
        loss_of = model_loss(model, data.objective.loss, data.x_train, data.y_train)
        first = sharpness(loss_of, params)
        cold, warm = [], []
        for _ in range(reps):
            t = time.perf_counter()
            sharpness(loss_of, params)
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            sharpness(loss_of, params, first.vector)
            warm.append(time.perf_counter() - t)
        print(f"reading  width {width:>4}: {sum(p.numel() for p in params):>5} params, "
              f"{statistics.median(cold) * 1e3:6.1f} ms cold ({first.products} HVPs), "
              f"{statistics.median(warm) * 1e3:6.1f} ms warm")


def _epochs(trainer: Trainer, epochs: int) -> float:
    t = time.perf_counter()
    done = 0
    while done < epochs:
        trainer.compute(min(trainer.rows, epochs - done), math.inf, _Never())
        done += trainer.buffered
        trainer.take()
    return time.perf_counter() - t


def norm_cost(epochs: int, reps: int) -> None:
    """The gradient- and weight-norm hook per epoch: the kernel with it against the kernel with
    the hook a no-op (same process, interleaved)."""
    cfg = ExperimentConfig()
    data = load_dataset(cfg)
    for width in WIDTHS:
        def run(hooked: bool, width: int = width) -> float:
            trainer = Trainer(cfg, data, width, 0)
            if not hooked:
                trainer._norms = lambda j: None  # noqa: SLF001 (the baseline: no hook)
            return _epochs(trainer, epochs)

        s = interleave({"hook": lambda: run(True), "none": lambda: run(False)}, reps)
        hook, none = (statistics.median(s.times[k]) for k in ("hook", "none"))
        print(f"grad norm width {width:>4}: {(hook - none) / epochs * 1e6:+6.1f} us/epoch "
              f"({none / epochs * 1e6:.0f} us/epoch without; ratio {hook / none:.3f})")


def setting_cost(epochs: int, reps: int) -> None:
    """The default experiment (widths 5, 100, 1000, unthrottled) through the Python API, with
    --sharpness 0, 10 and 1."""
    import mlp_tui

    def run(every: int) -> float:
        t = time.perf_counter()
        mlp_tui.train(epochs=epochs, sharpness=every, progress=False)
        return time.perf_counter() - t

    s = interleave({n: (lambda n=n: run(n)) for n in (0, 10, 1)}, reps)
    base = statistics.median(s.times[0])
    for n in (10, 1):
        m = statistics.median(s.times[n])
        print(f"--sharpness {n:>2}: {m:.2f} s vs {base:.2f} s without ({epochs} epochs): "
              f"ratio {m / base:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    quick = ap.parse_args().quick
    torch.set_num_threads(1)
    reading_cost(1 if quick else 5)
    norm_cost(20 if quick else 1000, 1 if quick else 5)
    setting_cost(10 if quick else 300, 1 if quick else 3)


if __name__ == "__main__":
    main()

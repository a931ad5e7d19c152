"""A grid of 256 runs in the TUI: 16 widths (1..16) x 4 depths x 4 seeds, `--stack` on the
process backend (two workers), every run to `epochs`. Measured: how long each UI tick takes
(its budget is the tick interval, app.TICK_S) and how much the app's process grows (RSS) from its
first frame to the end, every epoch of every run held in memory.
"""

from __future__ import annotations

import asyncio
import time

from bench_training import APP_SIZE, TimedRunner
from harness import Result, percentile

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.session.process import ProcessSession
from mlp_tui.tui.app import TICK_S, MlpTuiApp


def rss_mb(pid: str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def grid_config(epochs: int) -> ExperimentConfig:
    return validate(ExperimentConfig(
        widths=tuple(range(1, 17)), depth=(1, 2, 3, 4), repeats=4, epochs=epochs, speed=0,
        stack=True,
    ))


async def _grid(cfg: ExperimentConfig) -> tuple[list[float], float, float, float, int]:
    session = ProcessSession(cfg, workers=2)
    runner = TimedRunner(session)
    app = MlpTuiApp(runner)
    ticks: list[float] = []
    tick = app.tick

    def timed_tick() -> None:
        t0 = time.perf_counter()
        tick()
        ticks.append(time.perf_counter() - t0)

    app.tick = timed_tick  # type: ignore[method-assign]
    try:
        async with app.run_test(size=APP_SIZE):
            while not ticks:
                await asyncio.sleep(0.05)
            before = rss_mb()
            while not session.ended:
                await asyncio.sleep(0.2)
            took = time.perf_counter() - runner.started_at
            await asyncio.sleep(3 * TICK_S)  # the last frames
            after = rss_mb()
            rows = sum(len(r.history) for r in session.runs)
    finally:
        runner.finish()
    return ticks, before, after, took, rows


def grid_figures(epochs: int) -> list[Result]:
    cfg = grid_config(epochs)
    ticks, before, after, took, rows = asyncio.run(_grid(cfg))
    if rows != cfg.n_runs * epochs:
        raise RuntimeError(f"{rows} epochs recorded, {cfg.n_runs * epochs} expected")
    ms = [t * 1000 for t in ticks]
    shape = f"{cfg.n_runs} runs x {epochs} epochs (16 widths x 4 depths x 4 seeds, --stack, " \
        f"2 workers) in {took:.0f} s"
    return [
        Result("grid: UI tick p95", percentile(ms, 95), TICK_S * 1000, "ms",
               detail=f"{shape}; {len(ms)} ticks, p50/p95/max {percentile(ms, 50):.1f}/"
               f"{percentile(ms, 95):.1f}/{max(ms):.1f} ms (budget: the tick interval)"),
        Result("grid: RSS growth", after - before, 200.0, "MB",
               detail=f"{shape}; the app's process {before:.0f} MB at its first frame, "
               f"{after:.0f} MB at the end"),
    ]

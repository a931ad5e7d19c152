"""Training throughput: the engine against a bare PyTorch loop, the TUI against the engine, and
the latency of the pause key while training runs unthrottled."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from harness import Result, interleave, percentile
from textual import events

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.engine.experiment import Experiment
from mlp_tui.engine.run import Run
from mlp_tui.runner import Runner
from mlp_tui.session.live import LiveSession
from mlp_tui.tui.app import MlpTuiApp

APP_SIZE = (160, 45)
POLL_S = 0.001  # how often the latency probe looks at the app
SETTLE_S = 0.25  # a pause has taken effect once nothing changed for this long
FASTEST_EPOCH_S = 5e-5  # a quarter of the fastest epoch measured here (width 5, alone)


def workload(epochs: int) -> ExperimentConfig:
    """The package's default config, unthrottled, for `epochs` epochs."""
    return ExperimentConfig(epochs=epochs, speed=0)


@functools.lru_cache(maxsize=1)
def iris() -> tuple[torch.Tensor, torch.Tensor]:
    """Raw iris features as float32 and labels, as the notebook trains on them."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return (
        torch.tensor(bunch.data, dtype=torch.float32),
        torch.tensor(bunch.target, dtype=torch.long),
    )


def bare_loop(cfg: ExperimentConfig) -> float:
    """Seconds for the plain loop over every width, one after another, under the engine's
    intra-op thread count."""
    from torch import nn

    x, y = iris()
    torch.set_num_threads(cfg.threads)
    t0 = time.perf_counter()
    for width in cfg.widths:
        torch.manual_seed(cfg.seed)
        model = nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 3))
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
        for _ in range(cfg.epochs):
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
    return time.perf_counter() - t0


def poll_interval(runs: Sequence[Run], epochs: int) -> float:
    """How long to sleep before looking again whether the runs are done: long while much is
    left (a waiter that wakes often takes the GIL from the workers: polling every 2 ms cost the
    engine 5-10%), down to 1 ms near the end so that the end is seen within about a millisecond.
    No run trains faster than FASTEST_EPOCH_S an epoch."""
    left = epochs * len(runs) - sum(len(r.history) for r in runs)
    return min(0.05, max(0.001, left * FASTEST_EPOCH_S))


def engine_run(cfg: ExperimentConfig) -> float:
    """Seconds from Experiment.start() until every run has finished (headless, no reader)."""
    exp = Experiment(cfg)
    t0 = time.perf_counter()
    exp.start()
    try:
        while not exp.done:
            time.sleep(poll_interval(exp.runs, cfg.epochs))
        return time.perf_counter() - t0
    finally:
        exp.stop()


class TimedRunner(Runner):
    """The app's runner, stamping the moment it starts the session (in the app's on_mount)."""

    started_at = 0.0

    def start(self) -> None:
        self.started_at = time.perf_counter()
        super().start()


async def _tui_run(cfg: ExperimentConfig, make=LiveSession) -> float:
    runner = TimedRunner(make(cfg))
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=APP_SIZE):
            while not runner.session.ended:
                await asyncio.sleep(poll_interval(runner.session.runs, cfg.epochs))
            return time.perf_counter() - runner.started_at
    finally:
        runner.finish()


def tui_run(cfg: ExperimentConfig, make=LiveSession) -> float:
    """Seconds from the session's start (in the app's on_mount) until every run finished, with
    the app rendering at 160x45 under run_test (`make` builds the session: a backend)."""
    return asyncio.run(_tui_run(cfg, make))


def _throughput_ratio(
    figure: str, target: float, epochs: int, reps: int, base: str, other: str, runs: dict
) -> Result:
    """base_time/other_time for the same work, timed in alternation (ABAB...)."""
    cfg = workload(epochs)
    s = interleave({name: functools.partial(runs[name], cfg) for name in (base, other)}, reps)
    return Result(
        figure,
        s.ratio(base, other),
        target,
        "x",
        higher_is_better=True,
        detail=f"{base}_time/{other}_time, {epochs} epochs x widths {cfg.widths}; "
        + s.describe(base, other),
    )


# Figures behind the engine's design, measured on the 2-core development machine (iris, one
# intra-op thread unless said; the engine code only points here and to docs/benchmarks.md):
# - optim.PlainSGD: `torch.optim.SGD.step`'s per-step Python cost 58, 69 and 114 us of every
#   epoch at widths 5, 100 and 1000, a third of width 5's epoch.
# - step.Trainer's read-back buffers: keeping even a scalar tensor of each epoch cost width 1000
#   a fifth of its speed.
# - cadence.SLICE_S, this figure at 4,000 epochs, medians of 5: 1.10 at 5 ms slices, 1.14 at 20 ms,
#   1.17 at 50 ms (before the engine split).
# - baton.Baton: three runs at once, each with torch's default two intra-op threads, went 1.7x
#   slower than one after another; with one thread each, three runs trained at 0.75x the bare
#   loop's speed without the baton and 0.85x with it (before the lean SGD step, same day).
def engine_overhead(epochs: int, reps: int, warmup: int = 50) -> Result:
    if warmup:  # first-call costs of torch (the optimizer's lazy imports) and of the engine
        bare_loop(workload(warmup))
        engine_run(workload(warmup))
    runs = {"bare": bare_loop, "engine": engine_run}
    return _throughput_ratio("engine overhead", 0.95, epochs, reps, "bare", "engine", runs)


# app.PLOT_SHARE bounds the plot's share of the UI thread because every millisecond the UI thread
# computes is one the workers wait for the GIL: this figure is what that share costs them.
# gc.freeze() after mount: before it, the collector's full passes stalled the UI thread for 0.1
# to 0.3 s (felt in this figure and in the key latency's tail).
def tui_overhead(epochs: int, reps: int, warmup: int = 50) -> Result:
    if warmup:  # Textual's lazy imports and first-call costs
        tui_run(workload(warmup))
    runs = {"headless": engine_run, "tui": tui_run}
    return _throughput_ratio("TUI overhead", 0.85, epochs, reps, "headless", "tui", runs)


# --- key latency -----------------------------------------------------------------------------


def header_shown(app: MlpTuiApp) -> str:
    """The header as last rendered to the screen (its cached strips), else its content."""
    cache = getattr(app.header, "_render_cache", None)
    if cache is not None and cache.lines:
        return "".join(seg.text for strip in cache.lines for seg in strip)
    return str(app.header.content)


def lengths(session: LiveSession) -> tuple[int, ...]:
    return tuple(len(r.history) for r in session.runs)


@dataclass
class Press:
    """Latencies of one pause and the resume that follows it, in seconds."""

    stopped: float  # until no run recorded another epoch
    shown: float  # until the header showed PAUSED
    resume: float

    @property
    def pause(self) -> float:
        return max(self.stopped, self.shown)


class PressProbe:
    """Presses p in a running app and watches for the effect, polling every POLL_S seconds.
    Also records how late each poll wakes up: the event loop's own lag under load."""

    def __init__(self, app: MlpTuiApp, session: LiveSession) -> None:
        self.app = app
        self.session = session
        self.lags: list[float] = []

    async def poll(self) -> float:
        t = time.perf_counter()
        await asyncio.sleep(POLL_S)
        now = time.perf_counter()
        self.lags.append(now - t - POLL_S)
        return now

    def send_p(self) -> float:
        t0 = time.perf_counter()
        self.app._driver.send_message(events.Key("p", "p"))
        return t0

    async def pause(self, timeout: float = 5.0) -> tuple[float, float]:
        """Press p; seconds until the histories stopped growing, and until the header showed
        PAUSED."""
        t0 = self.send_p()
        seen, changed_at, shown_at = lengths(self.session), t0, None
        while True:
            now = await self.poll()
            current = lengths(self.session)
            if current != seen:
                seen, changed_at = current, now
            if shown_at is None and "PAUSED" in header_shown(self.app):
                shown_at = now
            if shown_at is not None and now - max(changed_at, shown_at) >= SETTLE_S:
                return changed_at - t0, shown_at - t0
            if now - t0 > timeout:
                raise TimeoutError("the pause did not take effect")

    async def resume(self, timeout: float = 5.0) -> float:
        """Press p again; seconds until every run recorded a new epoch and the header shows
        RUNNING."""
        before = lengths(self.session)
        t0 = self.send_p()
        grown_at = shown_at = None
        while grown_at is None or shown_at is None:
            now = await self.poll()
            if grown_at is None and all(a > b for a, b in zip(lengths(self.session), before)):
                grown_at = now
            if shown_at is None and "RUNNING" in header_shown(self.app):
                shown_at = now
            if now - t0 > timeout:
                raise TimeoutError("the resume did not take effect")
        return max(grown_at, shown_at) - t0


async def _presses(n: int, seed: int = 0, make=LiveSession) -> tuple[list[Press], list[float]]:
    """n pause/resume pairs at random phases; returns them and the poll lags."""
    session = make(workload(10_000_000))  # never finishes while we press
    runner = Runner(session)
    app = MlpTuiApp(runner)
    rng = random.Random(seed)
    out: list[Press] = []
    try:
        async with app.run_test(size=APP_SIZE):
            probe = PressProbe(app, session)
            while min(lengths(session)) == 0:
                await asyncio.sleep(0.01)
            for _ in range(n):
                await asyncio.sleep(rng.uniform(0.1, 0.3))  # a random phase of the tick
                stopped, shown = await probe.pause()
                out.append(Press(stopped, shown, await probe.resume()))
    finally:
        runner.finish()
    return out, probe.lags


def key_latency(
    presses: int, make=LiveSession, figure: str = "key latency", target: float = 100.0
) -> Result:
    results, lags = asyncio.run(_presses(presses, make=make))
    pauses = [p.pause * 1000 for p in results]
    stopped = [p.stopped * 1000 for p in results]
    shown = [p.shown * 1000 for p in results]
    resumes = [p.resume * 1000 for p in results]
    return Result(
        figure,
        percentile(pauses, 95),
        target,
        "ms",
        detail=f"pause p95 over {presses} presses (median {percentile(pauses, 50):.1f} ms, "
        f"max {max(pauses):.1f} ms; epochs stopped p50/p95/max {percentile(stopped, 50):.1f}/"
        f"{percentile(stopped, 95):.1f}/{max(stopped):.1f} ms, PAUSED shown "
        f"{percentile(shown, 50):.1f}/{percentile(shown, 95):.1f}/{max(shown):.1f} ms); "
        f"resume p50/p95/max {percentile(resumes, 50):.1f}/"
        f"{percentile(resumes, 95):.1f}/{max(resumes):.1f} ms; event-loop lag per "
        f"{POLL_S * 1000:g} ms poll p50/p95 {percentile(lags, 50) * 1000:.1f}/"
        f"{percentile(lags, 95) * 1000:.1f} ms",
    )

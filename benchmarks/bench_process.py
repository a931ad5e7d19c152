"""`--backend process` against the bare loop and against itself with the TUI on top.

The bare loop trains widths 5, 100, 1000 one after another in this process (one intra-op
thread); the process backend trains each in a worker process (one per core, the rest queued), so
on two cores it can come near 1.9x (width 1000 alone takes about half of the bare loop's time).
mlp-tui's time counts from the session's start, worker start-up included. The TUI figure and the
key latency are the thread backend's figures with the process backend under the app.
"""

from __future__ import annotations

import functools
import time

from bench_training import _throughput_ratio, bare_loop, key_latency, tui_run
from harness import Result

from mlp_tui.session.process import ProcessSession

POLL_S = 0.005


def headless_run(cfg) -> float:
    session = ProcessSession(cfg)
    try:
        t0 = time.perf_counter()
        session.start()
        while not session.ended:
            time.sleep(POLL_S)
        elapsed = time.perf_counter() - t0
        bad = [r.label for r in session.runs if len(r.history) != cfg.epochs]
    finally:
        session.stop()
    if bad:
        raise RuntimeError(f"runs did not finish: {bad}")
    return elapsed


def process_figures(epochs: int, reps: int, presses: int) -> list[Result]:
    runs = {"bare": bare_loop, "process": headless_run}
    speed = _throughput_ratio("process: bare/mlp-tui", 1.7, epochs, reps, "bare", "process", runs)
    tui = {"headless": headless_run, "tui": functools.partial(tui_run, make=ProcessSession)}
    ui = _throughput_ratio("process: TUI overhead", 0.95, epochs, reps, "headless", "tui", tui)
    # A worker per run: the probe waits for every run to move (a queued one never would here).
    def per_run(cfg):
        return ProcessSession(cfg, workers=len(cfg.widths))

    keys = key_latency(presses, make=per_run, figure="process: key latency", target=50.0)
    return [speed, ui, keys]

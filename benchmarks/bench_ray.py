"""The Ray backend against the bare loop: widths 5, 100, 1000 unthrottled on a local Ray.

Opt-in (`python benchmarks/run.py --only ray`): it starts a Ray cluster. The bare loop trains the
widths one after another in this process; the Ray session trains each in an actor (one CPU each,
the rest queued), so on two cores it may beat the bare loop. Cluster start (ray.init) and actor
start (placement until the actor's first batch: its process imports torch and builds the run)
are reported apart from the ratio, which counts from the session's start to the last epoch.
"""

from __future__ import annotations

import math
import statistics
import time

from bench_training import bare_loop, workload
from harness import Result

from mlp_tui.session.ray_session import RaySession

POLL_S = 0.005


def ray_overhead(epochs: int, address: str = "auto") -> list[Result]:
    cfg = workload(epochs)
    bare_s = bare_loop(cfg)
    t0 = time.perf_counter()
    session = RaySession(cfg, address)
    cluster_s = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        session.start()
        while not session.ended:
            time.sleep(POLL_S)
        train_s = time.perf_counter() - t1
        starts = [r.started_at - r.placed_at for r in session.runs if r.started_at and r.placed_at]
        bad = [r.label for r in session.runs if len(r.history) != epochs]
    finally:
        session.stop()
    if bad:
        raise RuntimeError(f"runs did not finish: {bad}")
    where = "local Ray started here" if session.cluster.started else f"Ray at {address}"
    detail = (
        f"bare loop {bare_s:.2f} s (widths {cfg.widths} one after another), mlp-tui on Ray "
        f"{train_s:.2f} s from start to the last epoch ({where}, "
        f"{epochs} epochs per width)"
    )
    return [
        Result("ray: bare/mlp-tui", bare_s / train_s, 1.5, "x", True, detail),
        Result(
            "ray: cluster start", cluster_s, math.inf, "s", False, "ray.init (connect or start)"
        ),
        Result(
            "ray: actor start",
            statistics.median(starts),
            math.inf,
            "s",
            False,
            "median, placement to first batch: " + ", ".join(f"{s:.2f}" for s in starts),
        ),
    ]

"""Long histories: the cost of one plot redraw as runs grow, and the memory they hold."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from harness import Result, fake_grid, fake_session, interleave, run_probe

from mlp_tui.tui.widgets.loss_plot import LossPlot
from mlp_tui.view import Monitor

PLOT_SIZE = (99, 42)  # the plot widget's size in a 160x45 terminal (table beside it)
MAX_POINTS = max(40, PLOT_SIZE[0])  # what MlpTuiApp.tick asks plot_spec for at that size


def caught_up_monitor(epochs: int) -> Monitor:
    """A Monitor over 3 synthetic runs of `epochs` epochs, already caught up (tracks built)."""
    monitor = Monitor(fake_session(epochs))
    # A linear axis at every size: the synthetic loss spans a ratio of 100 at 10^6 epochs, where
    # the automatic scale would pick log, a dearer build, and the figure would compare two kinds
    # of plot instead of two history lengths.
    monitor.settings.log = False
    monitor.tick()
    return monitor


def redraw(monitor: Monitor, plot: LossPlot) -> float:
    """Seconds for one redraw: tick, plot spec and the plotext build at the app's plot size."""
    t0 = time.perf_counter()
    monitor.tick()
    plot.spec = monitor.plot_spec(MAX_POINTS, rows=PLOT_SIZE[1])
    plot._build(*PLOT_SIZE)
    return time.perf_counter() - t0


# tui/figure.py uses plotext 6 directly: textual-plotext pins plotext < 6, whose build
# was 8x slower.
def redraw_cost(sizes: Sequence[int], reps: int) -> Result:
    """Time at the largest size over time at the smallest, redraws interleaved across sizes."""
    plot = LossPlot()
    monitors = {n: caught_up_monitor(n) for n in sizes}
    for m in monitors.values():  # warm-up: plotext's first build
        redraw(m, plot)
    names = {n: f"{n:.0e}".replace("+0", "") for n in sizes}
    s = interleave({names[n]: (lambda m=m: redraw(m, plot)) for n, m in monitors.items()}, reps)
    small, large = names[min(sizes)], names[max(sizes)]
    return Result(
        "redraw cost vs history",
        s.ratio(large, small),
        1.2,
        "x",
        detail=f"time at {large} / time at {small} epochs x 3 series, {reps} redraws each; "
        + "; ".join(f"{names[n]} median {s.median(names[n]) * 1000:.2f} ms" for n in sizes),
    )


# The views of "the answer at a glance" over 16 runs (4 widths x 4 seeds, with validation):
# train+val pairs with the epoch cursor, the seed band with the cursor, the capacity view.
ANSWER_VIEWS = {
    "pairs+cursor": {"metric": "loss", "band": "seeds"},
    "band+cursor": {"metric": "loss"},
    "capacity": {"capacity": True},
}


def answer_monitor(epochs: int, view: dict) -> Monitor:
    monitor = Monitor(fake_grid(epochs, (5, 100, 1000, 4000), 4))
    for k, v in view.items():
        setattr(monitor.settings, k, v)
    monitor.settings.log = False
    monitor.settings.cursor = epochs // 2
    monitor.tick()
    return monitor


def answer_redraw_cost(sizes: Sequence[int], reps: int) -> Result:
    """Each view's redraw at the largest history over the smallest; the worst view counts."""
    plot = LossPlot()
    lo, hi = min(sizes), max(sizes)
    ratios, details = [], []
    for name, view in ANSWER_VIEWS.items():
        monitors = {n: answer_monitor(n, view) for n in (lo, hi)}
        for m in monitors.values():
            redraw(m, plot)
        s = interleave({str(n): (lambda m=m: redraw(m, plot)) for n, m in monitors.items()}, reps)
        ratios.append(s.ratio(str(hi), str(lo)))
        details.append(f"{name} {ratios[-1]:.2f}x ({s.median(str(hi)) * 1000:.1f} ms)")
    return Result(
        "redraw cost, cursor/band/capacity",
        max(ratios),
        1.2,
        "x",
        detail=f"16 runs with validation, {hi:.0e} / {lo:.0e} epochs, worst view; "
        + "; ".join(details),
    )


def memory(epochs: int, reps: int) -> Result:
    """RSS growth for 3 runs of `epochs` epochs plus the Monitor's tracks, each in a fresh
    interpreter (median of `reps`)."""
    probes = [run_probe("memory_probe.py", str(epochs))[1] for _ in range(reps)]
    growths = [p["rss_growth_mb"] for p in probes]
    last = probes[-1]
    return Result(
        "memory",
        statistics.median(growths),
        50.0,
        "MB",
        detail=f"VmRSS growth, 3 runs x {epochs} epochs + SeriesTrack, median of {reps} "
        f"[{', '.join(f'{g:.1f}' for g in growths)}]; history arrays "
        f"{last['history_mb']:.1f} MB, after histories only {last['rss_histories_mb']:.1f} MB, "
        f"peak (VmHWM) growth {last['hwm_growth_mb']:.1f} MB",
    )

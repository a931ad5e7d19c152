"""Sharpness against the edge of stability, in words and lines every face shows.

Full-batch gradient descent at learning rate lr is stable only while the sharpness (the top
eigenvalue of the training loss's Hessian) stays below 2/lr (Cohen et al. 2021); a run whose
sharpness at init is above it is thrown out and lands somewhere flatter, its loss spiking first
(Lewkowycz et al. 2020, the catapult). With momentum β the edge is (2 + 2β)/lr; Adam has none
in these terms (its steps are preconditioned), so no edge is drawn for it.
"""

from __future__ import annotations

import math

from mlp_tui.core.contract import RunView
from mlp_tui.core.history import History
from mlp_tui.core.text import printable
from mlp_tui.view.plotspec import Level, PlotSpec

SHARPNESS = "sharpness"  # the epoch field (core/task.py, INSTRUMENTS)
SPIKE = "above 2/lr: expect a spike"
EDGE_COLOR = 245  # the edges' lines: a grey apart from every run's hue
NO_READINGS = "no sharpness readings: run with --sharpness N (a reading every N epochs)"


def edge(meta: dict[str, object]) -> float | None:
    """The sharpness past which a run's steps are unstable: (2 + 2·momentum)/lr for SGD; None
    for Adam, or where the run's lr is not known."""
    lr = meta.get("lr")
    if not isinstance(lr, (int, float)) or lr <= 0 or meta.get("optimizer") == "adam":
        return None
    momentum = meta.get("momentum") or 0.0
    return (2 + 2 * float(momentum)) / float(lr)  # type: ignore[arg-type]


def edge_label(meta: dict[str, object]) -> str:
    """`2/lr = 20` (or `(2+2β)/lr = 38` with momentum)."""
    value = edge(meta)
    if value is None:
        return ""
    name = "2/lr" if not meta.get("momentum") else "(2+2β)/lr"
    return f"{name} = {value:.3g}"


def edges(metas: list[dict[str, object]]) -> list[Level]:
    """One labelled line per distinct edge among the runs (a grid of learning rates: one per
    lr), highest first."""
    found: dict[float, Level] = {}
    for meta in metas:
        value = edge(meta)
        if value is not None:
            found.setdefault(round(value, 9), Level(value, edge_label(meta), EDGE_COLOR))
    return sorted(found.values(), key=lambda lv: -lv.y)


def sharpness_view(spec: PlotSpec, metas: list[dict[str, object]]) -> PlotSpec:
    """The sharpness plot: each run's readings on a log axis, each edge drawn and labelled."""
    spec.levels = edges(metas)
    spec.log_view = True
    spec.message = NO_READINGS
    return spec


def latest(history: History) -> float | None:
    """The latest sharpness reading (readings are every N epochs: the rows between are empty)."""
    n = len(history)
    k = 16
    while True:
        tail = history.tail(SHARPNESS, min(k, n))
        found = next((v for v in reversed(tail) if math.isfinite(v)), None)
        if found is not None or k >= n:
            return found
        k *= 16


def at_init(history: History) -> float | None:
    """The reading at epoch 1: the initial weights'."""
    if not len(history):
        return None
    value = history.read(0, 1).values.get(SHARPNESS, [None])[0]
    return value if value is not None and math.isfinite(value) else None


def note(runs: list[RunView]) -> str:
    """The table's cell: the latest sharpness (the seeds' mean) against the edge, `λ 102 > 20`;
    "" with no reading."""
    values = [v for v in (latest(r.history) for r in runs) if v is not None]
    limit = edge(runs[0].meta)
    if not values:
        return ""
    value = sum(values) / len(values)
    if limit is None:
        return f"λ {value:.3g}"
    return f"λ {value:.3g} {'>' if value > limit else '<'} {limit:.3g}"


def forecast(run: RunView) -> str:
    """A run that will catapult, told from its reading at init: `w=1000: sharpness 1.02e+03
    at init, above 2/lr: expect a spike (2/lr = 20)`; "" before the reading, below the edge,
    or with no edge."""
    value, limit = at_init(run.history), edge(run.meta)
    if value is None or limit is None or value <= limit:
        return ""
    return (f"{printable(run.label)}: sharpness {value:.4g} at init, {SPIKE} "
            f"({edge_label(run.meta)})")

"""The table's rows: one per width, repeats pooled, and the words the header uses.

A group row shows one statistic of its seeds in every cell (report.stats.GROUP_STAT: the mean,
± the sample std): the latest loss, the best loss, its epoch and the trend alike, so no cell
mixes one seed's value with the others' mean."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from mlp_tui.core.contract import RunView
from mlp_tui.core.schema import Health, Status
from mlp_tui.core.text import middle
from mlp_tui.report.stats import sample_std
from mlp_tui.view.sharpness import note as sharp_note

# Eight clearly different hues (blue, orange, green, red, purple, yellow, pink, tan): one per
# curve group; past eight the hues repeat with another marker (tui.figure.marker_for).
NAME_MAX = 24  # a run's name (a log's folder) is shortened in the middle past this, on screen
PALETTE = (39, 208, 76, 160, 135, 220, 211, 137)

# A run is overfitting when its validation loss has not improved for OVERFIT_PATIENCE epochs
# after its best and the mean of its last OVERFIT_RECENT epochs sits OVERFIT_RISE above the best.
OVERFIT_PATIENCE = 20
OVERFIT_RECENT = 10
OVERFIT_RISE = 0.02


def run_color(i: int) -> int:
    """Stable 256-colour index for the i-th curve group; the table repeats it as a swatch."""
    return PALETTE[i % len(PALETTE)]


@dataclass(frozen=True)
class RowState:
    """What one row shows; the app computes it from the engine, the table only renders it."""

    key: str
    color: int
    index: int  # the width's place: its colour and monochrome marker
    width: int
    status: Status
    health: Health
    epoch: int
    total: int | None  # planned epochs; None when unknown (a TensorBoard log)
    loss: float | None
    loss_std: float | None
    best: float | None  # best of the task's validation monitor (val loss; val R²), else of the
    # train loss
    best_epoch: int | None
    trend: tuple[float, ...]
    eps: float | None
    seed: str
    score: float | None = None  # the task's headline metric beside the loss (accuracy, R²)
    val_loss: float | None = None
    val_score: float | None = None
    hidden: bool = False
    val_loss_std: float | None = None
    overfit: str = ""  # "since epoch N" (or "k/K seeds") once validation loss turned up
    name: str = ""  # shown for the width: a grid's configuration (`w=5 d=2`), a log's folder
    waiting_s: float | None = None  # status WAITING: seconds since the last epoch arrived
    computed: bool = True  # some run of the row has an epoch: its health is known
    best_std: float | None = None  # over seeds, like loss_std
    sharp: str = ""  # the latest sharpness against the run's 2/lr (`λ 102 > 20`), once read


def pooled(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and standard deviation of the finite values (std None for a single run)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return (values[0] if values else None), None
    if len(values) == 1:
        return vals[0], None
    return statistics.fmean(vals), sample_std(vals)


def overfit_since(run: RunView) -> int | None:
    """The best-validation epoch of a run whose validation monitor (the task's: loss, R²) has
    worsened since, for a sustained window (see OVERFIT_*); None while it is still improving,
    or has no validation set."""
    history = run.history
    task = history.task
    name = f"val_{task.monitor}"
    best, at = history.best(name)
    n = len(history)
    if best is None or at is None or n - at < OVERFIT_PATIENCE:
        return None
    recent = [v for v in history.tail(name, OVERFIT_RECENT) if math.isfinite(v)]
    if len(recent) < OVERFIT_RECENT:
        return None
    margin = OVERFIT_RISE * abs(best)
    mean = statistics.fmean(recent)
    worse = mean < best - margin if name in task.higher_better else mean > best + margin
    return at if worse else None


def overfit_note(runs: list[RunView]) -> str:
    since = [overfit_since(r) for r in runs]
    hits = [s for s in since if s is not None]
    if not hits:
        return ""
    if len(hits) == len(runs):
        return f"since epoch {min(hits)}"
    return f"{len(hits)}/{len(runs)} seeds"


def run_key(r: RunView) -> tuple:
    waiting = r.waiting_s
    return (id(r.history), len(r.history), r.status, r.health, r.epochs_per_s, r.seed,
            None if waiting is None else int(waiting))


def make_row(
    i: int, width: int, runs: list[RunView], hidden: bool, has_val: bool, name: str = "",
    color: int | None = None,
) -> RowState:
    """One group's row; `name` (a grid's configuration) also keys it, and `color` is the place
    of its width when several groups share a width."""
    task = runs[0].history.task
    lasts = [r.history.last() for r in runs]
    score = task.score

    def last(name: str) -> tuple[float | None, float | None]:
        return pooled([rec.get(name) if rec else None for rec in lasts])

    loss, std = last("train_loss")
    acc, _ = last(f"train_{score}")
    vloss, vstd = last("val_loss")
    vacc, _ = last(f"val_{score}")
    # Each seed's best (by the task's monitor: the lowest validation loss, the highest R²),
    # pooled like every other cell: the mean of the seeds' bests, at the mean of their epochs.
    metric = f"val_{task.monitor}" if has_val else "train_loss"
    bests = [b for b in (r.history.best(metric) for r in runs) if b[1] is not None]
    best, best_std = pooled([b[0] for b in bests]) if bests else (None, None)
    at, _ = pooled([float(b[1]) for b in bests]) if bests else (None, None)
    rates = [r.epochs_per_s for r in runs if r.epochs_per_s is not None]
    waits = [w for w in (r.waiting_s for r in runs) if w is not None]
    seeds = [r.seed for r in runs if r.seed is not None]
    return RowState(
        key=name or str(width),
        color=run_color(i if color is None else color),
        index=i if color is None else color,
        width=width,
        status=group_status([r.status for r in runs]),
        health=group_health([r.health for r in runs]),
        epoch=min(len(r.history) for r in runs),
        total=None if any(r.total is None for r in runs) else max(r.total for r in runs),
        loss=loss,
        loss_std=std,
        best=best,
        best_epoch=None if at is None else round(at),
        best_std=best_std,
        trend=mean_trend(runs),
        eps=sum(rates) / len(rates) if rates else None,
        seed=_seeds(seeds),
        score=acc,
        val_loss=vloss,
        val_score=vacc,
        hidden=hidden,
        val_loss_std=vstd,
        overfit=overfit_note(runs) if has_val else "",
        name=middle(name, NAME_MAX) if name and name == runs[0].name else name,  # a folder
        waiting_s=min(waits) if waits else None,
        computed=any(len(r.history) for r in runs),
        sharp=sharp_note(runs),
    )


TREND_EPOCHS = 10  # the trend cell's epochs


def mean_trend(runs: list[RunView]) -> tuple[float, ...]:
    """The last TREND_EPOCHS train losses, averaged over seeds epoch for epoch (aligned at each
    seed's latest epoch); one run's own for a single run."""
    tails = [t for t in (r.history.tail("train_loss", TREND_EPOCHS) for r in runs) if t]
    if not tails:
        return ()
    k = min(map(len, tails))
    cols = zip(*(t[len(t) - k:] for t in tails))
    return tuple(statistics.fmean(c) for c in cols)


def _seeds(seeds: list[int]) -> str:
    if not seeds:
        return "-"  # no seed known (a TensorBoard log)
    return str(seeds[0]) if len(seeds) == 1 else f"{min(seeds)}..{max(seeds)}"


# The most telling status (health) of a group of repeats comes first.
_STATUS_ORDER = (
    Status.FAILED,
    Status.DIVERGED,
    Status.RUNNING,
    Status.WAITING,
    Status.PAUSED,
    Status.QUEUED,
    Status.STOPPED,
    Status.EARLY_STOPPED,
    Status.FINISHED,
)
_HEALTH_ORDER = (Health.DIVERGING, Health.CHANCE, Health.BASELINE, Health.STALLED, Health.OK)


def group_status(statuses: list[Status]) -> Status:
    return min(statuses, key=_STATUS_ORDER.index)


def group_health(healths: list[Health]) -> Health:
    return min(healths, key=_HEALTH_ORDER.index)


ALL_ENDED = "all runs ended"


def run_counts(statuses: list[Status]) -> str:
    """`8 running · 2 paused · 6 queued · 4 ended`: how many runs are in each state (states
    with none left out)."""
    ended = sum(s.ended for s in statuses)
    parts = [(sum(s is st for s in statuses), st.value)
             for st in (Status.RUNNING, Status.WAITING, Status.PAUSED, Status.QUEUED)]
    parts.append((ended, "ended"))
    return " · ".join(f"{n} {word}" for n, word in parts if n)


def overall_state(statuses: list[Status]) -> str:
    """The header's word: running while any run trains, paused while the rest wait, and
    'all runs ended' once every run has ended, however each ended; 'waiting' with no run yet
    (a followed file not there yet)."""
    if not statuses:
        return Status.WAITING.value
    if any(s is Status.RUNNING for s in statuses):
        return Status.RUNNING.value
    if any(s is Status.WAITING for s in statuses):
        return Status.WAITING.value
    if any(s is Status.PAUSED for s in statuses):
        return Status.PAUSED.value
    if any(s is Status.QUEUED for s in statuses):
        return Status.QUEUED.value
    return ALL_ENDED

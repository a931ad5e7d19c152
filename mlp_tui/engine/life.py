"""One life of a run (a seed, its history, what it takes to train it) and the hand-over of its
newly computed epochs to its history, by the worker (engine/worker.py) whatever its kernel."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import STATUS_CODE, Status
from mlp_tui.engine.early_stop import EarlyStop
from mlp_tui.engine.health import HealthTracker
from mlp_tui.engine.pacer import Pacer, RateMeter

_SERIAL = itertools.count(1)  # lives are told apart by a number never reused (ids are)


@dataclass
class Life:
    """One life of a run: a seed, its history and what it takes to train it."""

    seed: int
    history: RunHistory
    health: HealthTracker
    rate: RateMeter = field(default_factory=RateMeter)  # only the worker feeds or resets it
    serial: int = field(default_factory=lambda: next(_SERIAL))
    pacer: Pacer | None = None  # its worker's pace, shared by the worker's runs
    origin: float = 0.0  # the start plus the time spent paused: elapsed_s counts active time
    done: int = 0  # epochs read back into the history
    stopper: EarlyStop | None = None  # --early-stop: judges each epoch's validation loss


def record(life: Life, cols: dict[str, list], total: int, n_train: int) -> Status | None:
    """Hand a life its newly computed epochs (columns keyed by epoch field, ratios as counts;
    the task's score, accuracy or R², feeds the health): the first non-finite loss is its last
    epoch, marked diverged; its `total`-th is marked finished. Returns the life's state after
    them (RUNNING, FINISHED, DIVERGED or EARLY_STOPPED: `--early-stop`'s patience ran out), or
    None when a restart closed its history meanwhile (the epochs belong nowhere)."""
    losses = cols["train_loss"]
    m = len(losses)
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    end = None if bad is None else (bad, Status.DIVERGED)
    if life.stopper is not None and cols.get("val_loss") is not None:
        stop = life.stopper.stop_at(cols["val_loss"][: m if bad is None else bad])
        end = end if stop is None else (stop, Status.EARLY_STOPPED)
    if end is not None:  # the epochs computed after the end belong to no one
        m = end[0] + 1
        cols = {name: col[:m] for name, col in cols.items()}
    state = Status.RUNNING
    if end is not None:
        state = end[1]
    elif life.done + m == total:
        state = Status.FINISHED
    status = [STATUS_CODE[Status.RUNNING]] * m
    status[-1] = STATUS_CODE[state]
    task = life.history.task
    scores = cols[f"train_{task.score}"]
    if task.metric(task.score).ratio:  # a count of the training samples
        scores = [c / n_train for c in scores]
    health = life.health.update(losses[:m], scores[:m])
    if not life.history.extend(cols, status, health):
        return None
    life.done += m
    return state

"""The one declaration of what a run is and what an epoch records.

Status names, health names, the run settings that travel with every row (from the settings
declared in core/settings.py) and the per-epoch fields are declared here once. History columns,
table columns, replay parsing, the view's metrics and the exports all derive from these tuples:
adding a per-epoch metric means adding one `EpochField` (plus the code that computes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from mlp_tui.core.settings import SETTINGS


class Status(str, Enum):
    """A run's lifecycle. The first four are live states; the rest are ends."""

    QUEUED = "queued"  # waiting for a worker (more runs than workers)
    RUNNING = "running"
    PAUSED = "paused"
    # A followed recording (`replay --follow`) whose run has not ended but whose writer has
    # added no epoch for STALE_S seconds: paused, slow or gone; never claimed to be running.
    WAITING = "waiting"
    FINISHED = "finished"  # every planned epoch computed
    STOPPED = "stopped"  # ended by the user (or the process) before the last epoch
    DIVERGED = "diverged"  # a non-finite loss
    FAILED = "failed"  # an error in the run

    @property
    def ended(self) -> bool:
        return self not in (Status.QUEUED, Status.RUNNING, Status.PAUSED, Status.WAITING)

    def __str__(self) -> str:
        return self.value


STALE_S = 3.0  # a followed run with no new epoch for this long is WAITING, not RUNNING


class Health(str, Enum):
    """What the curve says, independent of the lifecycle (a finished run can be stalled)."""

    OK = "ok"
    STALLED = "stalled"  # the loss went flat far from a solution
    DIVERGING = "diverging"  # the loss stays far above where it started
    CHANCE = "chance"  # accuracy at chance, or the loss at the class-prior level

    def __str__(self) -> str:
        return self.value


# Per-epoch status codes kept in a history: a paused or stopped run records no epoch.
RECORD_STATUSES = (Status.RUNNING, Status.FINISHED, Status.DIVERGED)
STATUS_CODE = {s: i for i, s in enumerate(RECORD_STATUSES)}
HEALTHS = tuple(Health)
HEALTH_CODE = {h: i for i, h in enumerate(HEALTHS)}


@dataclass(frozen=True)
class Field:
    """One named value with its type: `int`, `float`, `str` or `bool`."""

    name: str
    kind: type
    doc: str = ""


@dataclass(frozen=True)
class EpochField(Field):
    """A per-epoch value. Metrics are plotted and summarised; `per` names the count an accuracy
    is a ratio of (stored as a count, so the ratio read back is exact)."""

    metric: bool = False
    title: str = ""
    loss: bool = False  # lower is better: summarised with its best value and epoch
    val: bool = False  # needs a validation set
    per: str = ""  # "train" or "val": stored as a count of correct predictions


# The settings a row carries: every one that changes a result, so a row can be reproduced. The
# settings declared with a column (core/settings.py), and what differs from run to run.
_PER_RUN: tuple[Field, ...] = (
    Field("run", int, "run index"),
    Field("width", int, "hidden width"),
    Field("repeat", int, "repeat index within a width"),
    Field("seed", int, "seed of this life"),
    Field("device", str),
)
# The run columns, in the order files have always had them; a setting declared later gets its
# column after these, in declaration order.
_FIRST_COLUMNS = ("run", "dataset", "width", "depth", "repeat", "seed", "optimizer", "lr",
                  "batch_size", "val_split", "standardize", "epochs", "threads", "device")
_COLUMNS = {f.name: f for f in _PER_RUN} | {
    s.name: Field(s.name, s.domain.kind, s.doc) for s in SETTINGS if s.column
}
RUN_FIELDS: tuple[Field, ...] = (
    *(_COLUMNS[name] for name in _FIRST_COLUMNS),
    *(f for name, f in _COLUMNS.items() if name not in _FIRST_COLUMNS),
)

EPOCH_FIELDS: tuple[EpochField, ...] = (
    EpochField("epoch", int, "1-based"),
    EpochField("train_loss", float, metric=True, title="train loss", loss=True),
    EpochField("train_acc", float, metric=True, title="train accuracy", per="train"),
    EpochField("val_loss", float, metric=True, title="validation loss", loss=True, val=True),
    EpochField(
        "val_acc", float, metric=True, title="validation accuracy", val=True, per="val"
    ),
    EpochField("elapsed_s", float, "active seconds since the life started (pauses excluded)"),
)

STATE_FIELDS: tuple[Field, ...] = (
    Field("status", str, "lifecycle: " + ", ".join(s.value for s in Status)),
    Field("health", str, "health: " + ", ".join(h.value for h in Health)),
)

METRICS: tuple[EpochField, ...] = tuple(f for f in EPOCH_FIELDS if f.metric)
METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in METRICS)
METRIC_TITLES: dict[str, str] = {f.name: f.title for f in METRICS}
LOSS_METRICS: tuple[str, ...] = tuple(f.name for f in METRICS if f.loss)
# Ratios (a count over `per`): bounded to [0, 1], never shown on an automatic log axis.
BOUNDED_METRICS: tuple[str, ...] = tuple(f.name for f in METRICS if f.per)

# What the final table says of a run beyond its settings, derived from the metrics.
SUMMARY_FIELDS: tuple[Field, ...] = (
    Field("epochs_done", int, "epochs computed"),
    *(Field(f"final_{m.name}", float) for m in METRICS),
    *(
        g
        for m in METRICS
        if m.loss
        for g in (Field(f"best_{m.name}", float), Field(f"best_{m.name}_epoch", int))
    ),
    *STATE_FIELDS,
    Field("seconds", float, "active training seconds"),
)

HISTORY_FIELDS: tuple[Field, ...] = (*RUN_FIELDS, *EPOCH_FIELDS, *STATE_FIELDS)
TABLE_FIELDS: tuple[Field, ...] = (*RUN_FIELDS, *SUMMARY_FIELDS)
HISTORY_COLUMNS: tuple[str, ...] = tuple(f.name for f in HISTORY_FIELDS)
TABLE_COLUMNS: tuple[str, ...] = tuple(f.name for f in TABLE_FIELDS)
FIELD_KIND: dict[str, type] = {f.name: f.kind for f in (*HISTORY_FIELDS, *SUMMARY_FIELDS)}

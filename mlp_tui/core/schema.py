"""The one declaration of what a run is and what an epoch records.

Status names, health names, the run settings that travel with every row (from the settings
declared in core/settings.py) and the per-epoch field type are declared here once; a task
(`core/task.py`) derives its epoch fields from its metrics, and history columns, table columns,
replay parsing, the view's metrics and the exports derive from the task.
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
    # --early-stop: the validation loss did not improve for PATIENCE epochs (its best epoch is in
    # the table's best column and the export's best_val_loss_epoch)
    EARLY_STOPPED = "early-stopped"

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
    BASELINE = "baseline"  # a regression no better than predicting the targets' mean (R² <= 0)

    def __str__(self) -> str:
        return self.value


# Per-epoch status codes kept in a history: a paused or stopped run records no epoch.
RECORD_STATUSES = (Status.RUNNING, Status.FINISHED, Status.DIVERGED, Status.EARLY_STOPPED)
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
    """A per-epoch value. Metrics are plotted and summarised; `per` names the count a ratio (an
    accuracy) is of, stored as a count so that the ratio read back is exact. The fields of a
    task's metrics are derived in `core/task.py`."""

    metric: bool = False
    title: str = ""
    best: bool = False  # its best value and epoch are tracked and summarised
    higher: bool = False  # higher is better (accuracy, R²); else lower (a loss)
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

STATE_FIELDS: tuple[Field, ...] = (
    Field("status", str, "lifecycle: " + ", ".join(s.value for s in Status)),
    Field("health", str, "health: " + ", ".join(h.value for h in Health)),
)

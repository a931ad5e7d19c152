"""The tasks an experiment can be (classification, regression), each declared once.

A task says what a model predicts and how it is judged: the loss, the size of its output, the
metrics with their direction, how a validation split is drawn, and the baseline a run must beat
to be healthy. Every layer derives from it: epoch fields, history and export columns, table cells,
the plot's metrics, TensorBoard tags, best-epoch tracking, health words. The arithmetic (the loss
and the metrics in torch) lives in `engine/tasks/`, one module a task; this module imports
nothing heavy, so `--help` and the views never wait for torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from mlp_tui.core.schema import RUN_FIELDS, STATE_FIELDS, EpochField, Field, Health
from mlp_tui.core.settings import TASK_NAMES

SPLITS = ("train", "val")


@dataclass(frozen=True)
class Metric:
    """One quantity a task measures on each split (`loss`, `acc`, `r2`): the epoch fields
    `train_<key>` and `val_<key>` derive from it."""

    key: str
    title: str  # "accuracy": the plot's title reads "train accuracy", "validation accuracy"
    short: str  # the table's header: "acc", "R²"
    higher: bool = False  # higher is better (accuracy, R²); else lower (losses, errors)
    best: bool = False  # its best value and epoch are tracked (summary `best_*` columns)
    ratio: bool = False  # a share of the split's samples, stored as a count: exact, in [0, 1]
    fmt: str = ""  # the table's number format ("" = the compact default)

    def field(self, split: str) -> EpochField:
        title = ("train " if split == "train" else "validation ") + self.title
        return EpochField(
            f"{split}_{self.key}", float, metric=True, title=title, best=self.best,
            higher=self.higher, val=split == "val", per=split if self.ratio else "",
        )


@dataclass(frozen=True)
class Instrument:
    """One quantity measured of the training itself each epoch, the same for every task (the
    gradient's norm, the weights', the loss's sharpness): the epoch field `<key>` derives from
    it. A reading not taken (sharpness between `--sharpness N` readings, a minibatch epoch's
    gradient norm) is empty, NaN, never interpolated."""

    key: str
    title: str
    short: str  # the table's and a readout's label
    doc: str

    @property
    def field(self) -> EpochField:
        return EpochField(self.key, float, self.doc, metric=True, title=self.title)


# Why a run spikes: full-batch gradient descent is stable while the sharpness (the top
# eigenvalue of the training loss's Hessian) stays below 2/lr (Cohen et al. 2021, edge of
# stability); a run that starts above it catapults (Lewkowycz et al. 2020).
INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("grad_norm", "gradient norm", "|g|",
               "global L2 norm of the gradient of the epoch's full-batch training loss"),
    Instrument("weight_norm", "weight norm", "|w|",
               "global L2 norm of the weights the epoch's loss was computed at"),
    Instrument("sharpness", "sharpness", "λmax",
               "top eigenvalue of the training loss's Hessian at those weights "
               "(--sharpness N: every N epochs; empty between readings)"),
)
INSTRUMENT_NAMES: tuple[str, ...] = tuple(i.key for i in INSTRUMENTS)


@dataclass(frozen=True)
class Task:
    """What is predicted and how it is judged; see the module docstring."""

    name: str
    loss_name: str  # what `loss` is: "cross-entropy", "MSE"
    outputs: str  # what the model's outputs are: "classes", "targets"
    metrics: tuple[Metric, ...]  # `loss` first: the objective minimized
    score: str  # the metric the table shows beside the loss
    monitor: str  # the validation metric whose best epoch is "best" (and overfitting's cue)
    split: str  # how --val-split draws: "stratified" (by class) or "shuffled"
    baseline: Health  # the health of a run no better than a constant predictor
    baseline_text: str  # what that health means, in words (alerts, help)
    doc: str = ""

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    @cached_property
    def epoch_fields(self) -> tuple[EpochField, ...]:
        """`epoch`, every metric on train then validation, the instruments, and the active
        seconds."""
        return (
            EpochField("epoch", int, "1-based"),
            *(m.field(s) for s in SPLITS for m in self.metrics),
            *(i.field for i in INSTRUMENTS),
            EpochField("elapsed_s", float, "active seconds since the life started (pauses "
                       "excluded)"),
        )

    @cached_property
    def metric_fields(self) -> tuple[EpochField, ...]:
        return tuple(f for f in self.epoch_fields if f.metric)

    @cached_property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.metric_fields)

    @cached_property
    def titles(self) -> dict[str, str]:
        return {f.name: f.title for f in self.metric_fields}

    @cached_property
    def best_metrics(self) -> tuple[str, ...]:
        """The epoch fields whose best value and epoch are tracked."""
        return tuple(f.name for f in self.metric_fields if f.best)

    @cached_property
    def higher_better(self) -> frozenset[str]:
        return frozenset(f.name for f in self.metric_fields if f.higher)

    @cached_property
    def bounded(self) -> tuple[str, ...]:
        """Ratios in [0, 1]: never shown on an automatic log axis."""
        return tuple(f.name for f in self.metric_fields if f.per)

    @cached_property
    def summary_fields(self) -> tuple[Field, ...]:
        """What the final table says of a run beyond its settings (the instruments are read
        along the way: their final values are in the history, not here)."""
        return (
            Field("epochs_done", int, "epochs computed"),
            *(Field(f"final_{name}", float) for name in self.metric_names
              if name not in INSTRUMENT_NAMES),
            *(g for name in self.best_metrics
              for g in (Field(f"best_{name}", float), Field(f"best_{name}_epoch", int))),
            *STATE_FIELDS,
            Field("seconds", float, "active training seconds"),
        )

    @cached_property
    def history_fields(self) -> tuple[Field, ...]:
        return (*RUN_FIELDS, *self.epoch_fields, *STATE_FIELDS)

    @cached_property
    def history_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.history_fields)

    @cached_property
    def table_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in (*RUN_FIELDS, *self.summary_fields))

    def better(self, name: str, a: float, b: float) -> bool:
        """`a` is strictly better than `b` for the epoch field `name`."""
        return a > b if name in self.higher_better else a < b


CLASSIFICATION = Task(
    name="classification",
    loss_name="cross-entropy",
    outputs="classes",
    metrics=(
        Metric("loss", "loss", "loss", best=True),
        Metric("acc", "accuracy", "acc", higher=True, ratio=True, fmt=".3f"),
    ),
    score="acc",
    monitor="loss",
    split="stratified",
    baseline=Health.CHANCE,
    baseline_text="accuracy at chance",
    doc="cross-entropy over classes; accuracy by argmax",
)

REGRESSION = Task(
    name="regression",
    loss_name="MSE",
    outputs="targets",
    metrics=(
        Metric("loss", "loss (MSE)", "MSE", best=True),
        Metric("mae", "MAE", "MAE"),
        Metric("r2", "R²", "R²", higher=True, best=True, fmt=".3f"),
    ),
    score="r2",
    monitor="r2",
    split="shuffled",
    baseline=Health.BASELINE,
    baseline_text="no better than predicting the mean (R² ≤ 0)",
    doc="mean squared error; MAE; R² per target, averaged (scikit-learn's r2_score default)",
)

TASKS: dict[str, Task] = {t.name: t for t in (CLASSIFICATION, REGRESSION)}
assert tuple(TASKS) == TASK_NAMES, "core/settings.py names the tasks --task offers"

# Every epoch and summary field any task has, by name: the type a file's cell is read as.
FIELD_KIND: dict[str, type] = {
    f.name: f.kind for t in TASKS.values() for f in (*t.history_fields, *t.summary_fields)
}
ALL_METRICS: tuple[str, ...] = tuple(
    dict.fromkeys(n for t in TASKS.values() for n in t.metric_names)
)
# Every history column any task writes, in the tasks' order: what a row read back holds.
ALL_HISTORY_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(c for t in TASKS.values() for c in t.history_columns)
)


def task_of_columns(names: Iterable[str]) -> Task:
    """The task whose metrics a file's columns (or a log's tags, or a summary's `final_` and
    `best_` columns) hold most of; classification when none is told apart (losses only)."""
    have = {n.removeprefix("final_").removeprefix("best_") for n in names}
    shared = {"train_loss", "val_loss", *INSTRUMENT_NAMES}
    scores = [(len(have & (set(t.metric_names) - shared)), i)
              for i, t in enumerate(TASKS.values())]
    best, i = max(scores, key=lambda s: (s[0], -s[1]))
    return list(TASKS.values())[i] if best else CLASSIFICATION

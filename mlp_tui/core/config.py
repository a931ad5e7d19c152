"""Experiment configuration: the frozen `ExperimentConfig` and the validation shared by the CLI
and the app. Its fields are the run settings declared in core/settings.py, in their order, with
their defaults: a new setting is declared there, not here.

Nothing here imports torch or scikit-learn, so `--help` and validation stay instant.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import field, make_dataclass, replace

from mlp_tui.core import limits, userdata
from mlp_tui.core.schema import RUN_FIELDS
from mlp_tui.core.settings import (  # noqa: F401 (also re-exported: imported from here)
    DATASETS,
    DEVICES,
    GRID_FIELDS,
    GRID_FLAGS,
    MAX_DEPTH,
    MAX_EPOCHS,
    MAX_LR,
    MAX_REPEATS,
    MAX_SEED,
    MAX_SPEED,
    MAX_THREADS,
    MAX_VALUES,
    MAX_WIDTHS,
    MIN_SPEED,
    OPTIMIZERS,
    REGRESSION_SETS,
    SETTING,
    SETTINGS,
    describe,
    parse_widths,
)
from mlp_tui.core.task import TASKS, Task
from mlp_tui.core.text import human_bytes
from mlp_tui.core.userdata import DataError, UserData, check_split, read_data
from mlp_tui.core.values import (  # noqa: F401 (also re-exported: imported from here)
    ConfigError,
    parse_choice,
    parse_float,
    parse_int,
)

EXPORT_SUFFIXES = (".csv", ".json", ".md")
HISTORY_SUFFIXES = (".csv", ".jsonl")
KEY_SPEED_MAX = 5120.0  # `+` past it is unthrottled
SLOW_STEPS = (MIN_SPEED, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)  # `-` and `+` below 1 ep/s
KEY_SPEED_MIN = MIN_SPEED  # as slow as --speed goes
MAX_WORKERS = 32  # runs training at once (one thread each); the rest wait, queued
MAX_RUNS = MAX_WIDTHS * MAX_REPEATS  # runs of one grid (widths x depths x lrs x ... x seeds)


class _Experiment:
    """What a configuration knows beyond its settings; `ExperimentConfig` adds the settings as
    its fields. A grid setting holds a single value, or a tuple of two or more (a grid axis)."""

    @property
    def user_data(self) -> UserData | None:
        """The user's data file, read once (None for a bundled dataset)."""
        if self.dataset in DATASETS:
            return None
        try:
            return read_data(self.dataset, self.target, memory_budget, self.task or "")
        except DataError as exc:
            raise ConfigError("--target" if "target column" in str(exc) else "--dataset",
                              str(exc)) from None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(samples, features, outputs: classes or regression targets): from a table for the
        bundled datasets (instant)."""
        data = self.user_data
        return DATASETS[self.dataset] if data is None else data.shape

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names of a data file, in class-index order (empty when bundled)."""
        data = self.user_data
        return () if data is None else data.classes

    @property
    def n_samples(self) -> int:
        return self.shape[0]

    @property
    def n_features(self) -> int:
        return self.shape[1]

    @property
    def n_outputs(self) -> int:
        """The model's outputs: the classes, or the regression targets."""
        return self.shape[2]

    @property
    def kind(self) -> Task:
        """The task declaration (`core/task.py`): `--task`, else the data's own."""
        if self.task:
            return TASKS[self.task]
        data = self.user_data
        return TASKS[data_task(self.dataset) if data is None else data.task]

    def with_changes(self, **changes: object) -> ExperimentConfig:
        return validate(replace(self, **changes))

    def values(self, name: str) -> tuple:
        """The values of one grid setting, as a tuple (one entry when it is not a grid)."""
        value = getattr(self, name)
        return value if isinstance(value, tuple) else (value,)

    def grid_axes(self) -> tuple[str, ...]:
        """The grid settings listing more than one value, in GRID_FIELDS order."""
        return tuple(f for f in GRID_FIELDS if len(self.values(f)) > 1)

    def points(self) -> list[ExperimentConfig]:
        """One config with single values per combination of the grid settings (the widths
        and seeds stay): what each run trains with."""
        combos = itertools.product(*(self.values(f) for f in GRID_FIELDS))
        return [replace(self, **dict(zip(GRID_FIELDS, c, strict=True))) for c in combos]

    @property
    def n_runs(self) -> int:
        return len(self.widths) * len(self.points()) * self.repeats

    def describe(self) -> list[str]:
        """The header's facts about this configuration (settings.describe, as for a recording)."""
        return describe({s.name: self.values(s.name) for s in SETTINGS}, self.n_runs)


ExperimentConfig = make_dataclass(
    "ExperimentConfig",
    [(s.name, object, field(default=s.default)) for s in SETTINGS],
    bases=(_Experiment,),
    frozen=True,
    namespace={"__doc__": "What to train, one field per declared setting (core/settings.py). "
               "Defaults mirror the reference notebook."},
)
ExperimentConfig.__module__ = __name__  # pickled by name into worker processes and Ray actors


def run_meta(
    cfg: ExperimentConfig, index: int, width: int, repeat: int, seed: int, device: str
) -> dict[str, object]:
    """The settings one run's rows carry, in `schema.RUN_FIELDS` order: the per-run values,
    the rest straight from the config."""
    own = {"run": index, "width": width, "repeat": repeat, "seed": seed, "device": device}
    return {f.name: own[f.name] if f.name in own else getattr(cfg, f.name) for f in RUN_FIELDS}


def faster(speed: float) -> float:
    """Double the pace (below 1 ep/s the next of SLOW_STEPS); past KEY_SPEED_MAX it becomes
    unthrottled (0)."""
    if speed <= 0:
        return 0.0
    if speed < 1:
        return next(s for s in SLOW_STEPS if s > speed)
    return 0.0 if speed * 2 > KEY_SPEED_MAX else speed * 2


def slower(speed: float) -> float:
    """Halve the pace, and below 1 ep/s step down SLOW_STEPS to KEY_SPEED_MIN, --speed's least;
    from unthrottled it drops to KEY_SPEED_MAX."""
    if speed <= 0:
        return KEY_SPEED_MAX
    if speed / 2 >= 1:
        return speed / 2
    return max((s for s in SLOW_STEPS if s < speed), default=KEY_SPEED_MIN)


# --- whole-config validation ------------------------------------------------------------------


def estimate_bytes(cfg: ExperimentConfig, width: int) -> int:
    """Rough peak memory of one run: weights, gradients, optimizer state and activations."""
    n_in, n_out = cfg.n_features, cfg.n_outputs
    params = n_in * width + width + (cfg.depth - 1) * (width * width + width) + width * n_out
    params += n_out
    states = 2 if cfg.optimizer == "adam" else 0
    batch = min(cfg.batch_size or cfg.n_samples, cfg.n_samples)
    activations = 3 * batch * width * cfg.depth
    return 4 * (params * (2 + states) + activations)


def available_memory() -> int:
    """Bytes of memory available to this process (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def memory_budget() -> int:
    """What the runs and a data file may take: half the memory free, or a served tab's share."""
    return limits.tab_memory(available_memory() // 2)


def validate(cfg: ExperimentConfig) -> ExperimentConfig:
    """Check every field; raise ConfigError naming the first bad flag: the dataset first (a
    data file is read), then each declared setting's values, then how they combine."""
    SETTING["dataset"].check(cfg.dataset)
    if cfg.target and cfg.dataset in DATASETS:
        raise ConfigError("--target", "names a column of a --dataset .csv file")
    SETTING["task"].check(cfg.task)
    if cfg.task and cfg.dataset in DATASETS and cfg.task != data_task(cfg.dataset):
        raise ConfigError("--task", f"{cfg.dataset} is a {data_task(cfg.dataset)} dataset")
    data = cfg.user_data  # reads and checks a data file (ConfigError)
    cfg = _normalize_grid(cfg)
    for setting in SETTINGS:
        setting.check(getattr(cfg, setting.name))
    if cfg.n_runs > MAX_RUNS:
        raise ConfigError(
            "--repeats" if len(cfg.widths) * len(cfg.points()) <= MAX_RUNS else "--widths",
            f"at most {MAX_RUNS} runs, but {_grid_product(cfg)} make {cfg.n_runs}",
        )
    if cfg.early_stop and not cfg.val_split:
        raise ConfigError("--early-stop", "needs --val-split: it watches the validation loss")
    if any(cfg.values("momentum")) and "adam" in cfg.values("optimizer"):
        raise ConfigError("--momentum", "applies to --optimizer sgd (adam keeps its own moments)")
    if cfg.stack:
        if cfg.exact:
            raise ConfigError("--exact", "trains the plain kernel: leave out --stack")
        _check_stack(cfg)
    if cfg.seeds and len(cfg.seeds) != cfg.n_runs:
        raise ConfigError("--seeds", f"one per run: {cfg.n_runs} runs, {len(cfg.seeds)} seeds")
    if data is not None:
        try:
            check_split(data, cfg.val_split, cfg.dataset)
        except DataError as exc:
            raise ConfigError("--val-split", str(exc)) from None
    elif cfg.val_split > 0:
        _check_bundled_split(cfg)
    budget = memory_budget()
    limits.check_work(cfg, ConfigError)  # a served tab's CPU budget
    total = sum(estimate_bytes(p, w) for p in cfg.points() for w in cfg.widths) * cfg.repeats
    if total > budget:
        widest = max(cfg.widths)
        raise ConfigError(
            "--widths",
            f"width {widest} needs about {human_bytes(total)} of memory, more than the "
            f"{human_bytes(budget)} this machine can spare",
        )
    return cfg


def data_task(dataset: str) -> str:
    """The task a bundled dataset is (a data file's is read from its target)."""
    return "regression" if dataset in REGRESSION_SETS else "classification"


def _check_bundled_split(cfg: ExperimentConfig) -> None:
    """A bundled dataset's validation split leaves each class a sample on each side (two samples
    a side for a regression's R²)."""
    n, n_val = cfg.n_samples, userdata.val_count(cfg.n_samples, cfg.val_split)
    if cfg.kind.split == "shuffled":
        try:
            userdata.check_shuffled(n, n_val, cfg.val_split, cfg.dataset)
        except DataError as exc:
            raise ConfigError("--val-split", str(exc)) from None
    elif n_val < cfg.n_outputs or n - n_val < cfg.n_outputs:
        raise ConfigError(
            "--val-split",
            f"{cfg.val_split} leaves too few samples for a stratified split of "
            f"{n} samples in {cfg.n_outputs} classes",
        )


def stackable(cfg: ExperimentConfig) -> bool:
    """Whether the fused kernel can train this configuration (`--stack` would be accepted)."""
    try:
        _check_stack(cfg)
    except ConfigError:
        return False
    return True


def _check_stack(cfg: ExperimentConfig) -> None:
    """A stacked model trains full-batch SGD (engine/stack_step.py): refuse anything else."""
    if cfg.values("optimizer") != ("sgd",):
        raise ConfigError("--stack", "trains with --optimizer sgd only")
    if any(0 < b < cfg.n_samples for b in cfg.values("batch_size")):
        raise ConfigError("--stack", "trains full batches only (--batch-size 0)")
    for name in ("momentum", "dropout", "label_noise"):
        if any(cfg.values(name)):
            raise ConfigError("--stack", f"trains without {SETTING[name].flag} (plain SGD, "
                              "the same targets for every seed)")


def _normalize_grid(cfg: ExperimentConfig) -> ExperimentConfig:
    """A one-entry tuple becomes its value; a list with a value twice is refused."""
    changes: dict[str, object] = {}
    for name in GRID_FIELDS:
        value = getattr(cfg, name)
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple):
            if not value:
                raise ConfigError(GRID_FLAGS[name], "at least one value is needed")
            if len(set(value)) != len(value):
                raise ConfigError(GRID_FLAGS[name], "a value is listed twice")
            if len(value) > MAX_VALUES:
                raise ConfigError(
                    GRID_FLAGS[name], f"at most {MAX_VALUES} values, got {len(value)}"
                )
            changes[name] = value[0] if len(value) == 1 else value
    return replace(cfg, **changes) if changes else cfg


def _grid_product(cfg: ExperimentConfig) -> str:
    """`3 widths x 2 depths x 4 seeds`: the factors of the run count, for the error line."""
    parts = [f"{len(cfg.widths)} widths"]
    parts += [f"{len(cfg.values(f))} {SETTING[f].plural}" for f in cfg.grid_axes()]
    parts.append(f"{cfg.repeats} seeds")
    return " x ".join(parts)

"""Experiment configuration: frozen dataclasses and the validation shared by the CLI and the app.

Nothing here imports torch or scikit-learn, so `--help` and validation stay instant.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, replace

from mlp_tui.core import limits, userdata
from mlp_tui.core.schema import RUN_FIELDS
from mlp_tui.core.text import human_bytes
from mlp_tui.core.userdata import DataError, UserData, check_split, is_data_path, read_data

# Shapes of the bundled scikit-learn datasets: (samples, features, classes). Kept here so that
# validation (and the memory estimate) need no scikit-learn import.
DATASETS: dict[str, tuple[int, int, int]] = {
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
    "digits": (1797, 64, 10),
}
OPTIMIZERS = ("sgd", "adam")
DEVICES = ("auto", "cpu", "cuda")
EXPORT_SUFFIXES = (".csv", ".json", ".md")
HISTORY_SUFFIXES = (".csv", ".jsonl")

MAX_WIDTHS = 16
MAX_DEPTH = 64
MAX_EPOCHS = 10_000_000
MAX_REPEATS = 100
MAX_SEED = 2**63 - 1
MAX_LR = 1e4
MIN_SPEED = 0.01  # epochs per second; 0 means unthrottled
MAX_SPEED = 1e6
KEY_SPEED_MIN, KEY_SPEED_MAX = 1.0, 5120.0  # the range `+` and `-` step through
MAX_THREADS = os.cpu_count() or 1  # torch intra-op threads per run
MAX_WORKERS = 32  # runs training at once (one thread each); the rest wait, queued
MAX_RUNS = MAX_WIDTHS * MAX_REPEATS  # runs of one grid (widths x depths x lrs x ... x seeds)
MAX_VALUES = 16  # entries in one grid list (--depth, --lr, --optimizer, --batch-size)
# Settings that take a comma list: the runs are the product of these, the widths and the seeds.
# The field holds a single value, or a tuple of two or more (a grid axis).
GRID_FIELDS = ("depth", "lr", "optimizer", "batch_size")
GRID_FLAGS = {"depth": "--depth", "lr": "--lr", "optimizer": "--optimizer",
              "batch_size": "--batch-size"}


class ConfigError(ValueError):
    """A bad value for one flag; `str()` is the one line the user sees."""

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(f"{flag}: {problem}")
        self.flag = flag
        self.problem = problem


@dataclass(frozen=True)
class ExperimentConfig:
    """What to train. Defaults mirror the reference notebook."""

    dataset: str = "iris"
    widths: tuple[int, ...] = (5, 100, 1000)
    depth: int | tuple[int, ...] = 1  # a tuple: a grid axis (see GRID_FIELDS)
    epochs: int = 100
    lr: float | tuple[float, ...] = 0.1
    optimizer: str | tuple[str, ...] = "sgd"
    batch_size: int | tuple[int, ...] = 0
    seed: int = 0
    val_split: float = 0.0
    standardize: bool = False
    device: str = "auto"
    speed: float = 20.0
    repeats: int = 1
    threads: int = 1  # torch intra-op threads; 0 = torch's default
    target: str = ""  # --dataset FILE.csv: the label column ("" = the last one)
    stack: bool = False  # train the seeds of each width and grid point as one stacked model
    # Each run's first seed in run order (`--seeds`; an export's config after restarts), () =
    # `seed` plus the repeat. `seed` still seeds the validation split.
    seeds: tuple[int, ...] = ()

    @property
    def user_data(self) -> UserData | None:
        """The user's data file, read once (None for a bundled dataset)."""
        if self.dataset in DATASETS:
            return None
        try:
            return read_data(self.dataset, self.target, memory_budget)
        except DataError as exc:
            raise ConfigError("--target" if "target column" in str(exc) else "--dataset",
                              str(exc)) from None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(samples, features, classes): from a table for the bundled datasets (instant)."""
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
    def n_classes(self) -> int:
        return self.shape[2]

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


def run_meta(
    cfg: ExperimentConfig, index: int, width: int, repeat: int, seed: int, device: str
) -> dict[str, object]:
    """The settings one run's rows carry, in `schema.RUN_FIELDS` order: the per-run values,
    the rest straight from the config."""
    own = {"run": index, "width": width, "repeat": repeat, "seed": seed, "device": device}
    return {f.name: own[f.name] if f.name in own else getattr(cfg, f.name) for f in RUN_FIELDS}


def faster(speed: float) -> float:
    """Double the pace; past KEY_SPEED_MAX it becomes unthrottled (0)."""
    if speed <= 0:
        return 0.0
    return 0.0 if speed * 2 > KEY_SPEED_MAX else speed * 2


def slower(speed: float) -> float:
    """Halve the pace; from unthrottled it drops to KEY_SPEED_MAX."""
    if speed <= 0:
        return KEY_SPEED_MAX
    return max(KEY_SPEED_MIN, speed / 2)


# --- parsing of single values (the CLI and the settings form share these) -------------------


def parse_int(flag: str, text: str, low: int, high: int) -> int:
    """A whole number in [low, high]; written plainly (`20000`) or as a whole number in
    scientific notation (`1e6`, `2.5e3`)."""
    text = str(text).strip()
    try:
        value = int(text)
    except ValueError:
        value = _whole(flag, text, low, high)
    if not low <= value <= high:
        raise ConfigError(flag, f"must be between {low} and {high}, got {value}")
    return value


def _whole(flag: str, text: str, low: int, high: int) -> int:
    """`1e6` as 1000000, exactly; range-checked first (`1e999999999` costs nothing)."""
    from decimal import Decimal, InvalidOperation

    try:
        d = Decimal(text)
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or d != d.to_integral_value():
        raise ConfigError(flag, f"expected a whole number, got {text!r}")
    if not low <= d <= high:
        raise ConfigError(flag, f"must be between {low} and {high}, got {text}")
    return int(d)


def parse_float(flag: str, text: str) -> float:
    text = str(text).strip()
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(flag, f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ConfigError(flag, f"must be a finite number, got {text!r}")
    if value == 0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise ConfigError(flag, f"{text!r} is too small: it rounds to 0")
    return value


def parse_widths(text: str) -> tuple[int, ...]:
    flag = "--widths"
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise ConfigError(flag, "expected a comma-separated list of widths, e.g. 5,100,1000")
    widths: list[int] = []
    for part in parts:
        if not part:
            raise ConfigError(flag, f"empty entry in {text!r}")
        try:
            width = int(part)
        except ValueError:
            raise ConfigError(flag, f"{part!r} is not a whole number") from None
        if width < 1:
            raise ConfigError(flag, f"widths must be positive, got {width}")
        if width in widths:
            raise ConfigError(flag, f"width {width} is listed twice")
        widths.append(width)
    if len(widths) > MAX_WIDTHS:
        raise ConfigError(flag, f"at most {MAX_WIDTHS} widths, got {len(widths)}")
    return tuple(widths)


def parse_choice(flag: str, text: str, choices: tuple[str, ...] | list[str]) -> str:
    value = str(text).strip().lower().replace("-", "_")
    if value not in choices:
        raise ConfigError(flag, f"unknown value {text!r} (choose from {', '.join(choices)})")
    return value


# --- whole-config validation ------------------------------------------------------------------


def estimate_bytes(cfg: ExperimentConfig, width: int) -> int:
    """Rough peak memory of one run: weights, gradients, optimizer state and activations."""
    n_in, n_out = cfg.n_features, cfg.n_classes
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
    """Check every field; raise ConfigError naming the first bad flag."""
    if cfg.dataset not in DATASETS and not is_data_path(cfg.dataset):
        raise ConfigError(
            "--dataset",
            f"unknown dataset {cfg.dataset!r} (choose from {', '.join(DATASETS)}, "
            "or give a .csv or .npz file)",
        )
    if cfg.target and cfg.dataset in DATASETS:
        raise ConfigError("--target", "names a column of a --dataset .csv file")
    data = cfg.user_data  # reads and checks a data file (ConfigError)
    cfg = _normalize_grid(cfg)
    for optimizer in cfg.values("optimizer"):
        if optimizer not in OPTIMIZERS:
            raise ConfigError(
                "--optimizer", f"unknown optimizer {optimizer!r} (choose from sgd, adam)"
            )
    if cfg.device not in DEVICES:
        raise ConfigError(
            "--device", f"unknown device {cfg.device!r} (choose from auto, cpu, cuda)"
        )
    if not cfg.widths:
        raise ConfigError("--widths", "at least one width is needed")
    if len(set(cfg.widths)) != len(cfg.widths):
        raise ConfigError("--widths", "a width is listed twice")
    if len(cfg.widths) > MAX_WIDTHS:
        raise ConfigError("--widths", f"at most {MAX_WIDTHS} widths, got {len(cfg.widths)}")
    if any(w < 1 for w in cfg.widths):
        raise ConfigError("--widths", "widths must be positive")
    for depth in cfg.values("depth"):
        _check_range("--depth", depth, 1, MAX_DEPTH)
    _check_range("--epochs", cfg.epochs, 1, MAX_EPOCHS)
    _check_range("--repeats", cfg.repeats, 1, MAX_REPEATS)
    _check_range("--seed", cfg.seed, 0, MAX_SEED)
    for batch in cfg.values("batch_size"):
        _check_range("--batch-size", batch, 0, 10**9)
    _check_range("--threads", cfg.threads, 0, MAX_THREADS)
    for lr in cfg.values("lr"):
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and 0 < lr <= MAX_LR):
            raise ConfigError("--lr", f"must be above 0 and at most {MAX_LR:g}, got {lr!r}")
    if cfg.n_runs > MAX_RUNS:
        raise ConfigError(
            "--repeats" if len(cfg.widths) * len(cfg.points()) <= MAX_RUNS else "--widths",
            f"at most {MAX_RUNS} runs, but {_grid_product(cfg)} make {cfg.n_runs}",
        )
    if cfg.stack:
        _check_stack(cfg)
    if cfg.seeds and len(cfg.seeds) != cfg.n_runs:
        raise ConfigError("--seeds", f"one per run: {cfg.n_runs} runs, {len(cfg.seeds)} seeds")
    for seed in cfg.seeds:
        _check_range("--seeds", seed, 0, MAX_SEED)
    if not (cfg.speed == 0 or MIN_SPEED <= cfg.speed <= MAX_SPEED):
        raise ConfigError(
            "--speed",
            f"must be 0 (unthrottled) or between {MIN_SPEED:g} and {MAX_SPEED:g} epochs a "
            f"second, got {cfg.speed:g}",
        )
    if not (math.isfinite(cfg.val_split) and 0 <= cfg.val_split < 1):
        raise ConfigError("--val-split", f"must be in [0, 1), got {cfg.val_split}")
    if data is not None:
        try:
            check_split(data, cfg.val_split, cfg.dataset)
        except DataError as exc:
            raise ConfigError("--val-split", str(exc)) from None
    elif cfg.val_split > 0:
        n_val = userdata.val_count(cfg.n_samples, cfg.val_split)
        if n_val < cfg.n_classes or cfg.n_samples - n_val < cfg.n_classes:
            raise ConfigError(
                "--val-split",
                f"{cfg.val_split} leaves too few samples for a stratified split of "
                f"{cfg.n_samples} samples in {cfg.n_classes} classes",
            )
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


def _check_stack(cfg: ExperimentConfig) -> None:
    """A stacked model trains full-batch SGD (engine/stack_step.py): refuse anything else."""
    if cfg.values("optimizer") != ("sgd",):
        raise ConfigError("--stack", "trains with --optimizer sgd only")
    if any(0 < b < cfg.n_samples for b in cfg.values("batch_size")):
        raise ConfigError("--stack", "trains full batches only (--batch-size 0)")


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
    names = {"depth": "depths", "lr": "lrs", "optimizer": "optimizers",
             "batch_size": "batch sizes"}
    parts = [f"{len(cfg.widths)} widths"]
    parts += [f"{len(cfg.values(f))} {names[f]}" for f in cfg.grid_axes()]
    parts.append(f"{cfg.repeats} seeds")
    return " x ".join(parts)


def _check_range(flag: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(flag, f"expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(flag, f"must be between {low} and {high}, got {value}")

"""Every run setting a user sets, declared once.

A `Setting` says its name, its values (a `values.Domain`: how text is read and a value checked),
its default and its help; whether it can be a grid axis (with its short label and plural);
whether runs carry it as a column; its label in the settings form; its part of a TensorBoard
folder name and of the header's description. Everything else derives from `SETTINGS`: the
`ExperimentConfig` fields (core/config.py), the command-line flags and their parsing
(cli/parser.py, cli/args.py), the keys of a --config file (core/config_file.py), the grid
(core/grid.py), the settings form, the run columns (core/schema.py), the TensorBoard folders
(persist/tensorboard.py) and `describe` (every session's header). Adding a setting means adding
a declaration here, plus its effect in the engine (docs/architecture.md, "Run settings").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mlp_tui.core.userdata import is_data_path
from mlp_tui.core.values import (
    Choice,
    ConfigError,
    Custom,
    Domain,
    Real,
    Switch,
    Whole,
    check_whole,
    no_spaced_list,
    parse_choice,
    parse_int,
    parse_list,
)

# Shapes of the bundled scikit-learn datasets: (samples, features, outputs: classes or
# regression targets). Kept here so that validation (and the memory estimate) need no
# scikit-learn import.
DATASETS: dict[str, tuple[int, int, int]] = {
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
    "digits": (1797, 64, 10),
    "diabetes": (442, 10, 1),
    "linnerud": (20, 3, 3),
}
# The bundled regression datasets: their targets are whole numbers, so their task is declared
# here, not inferred.
REGRESSION_SETS = ("diabetes", "linnerud")
# The tasks (core/task.py declares each; it checks that it declares these, in this order).
TASK_NAMES = ("classification", "regression")
OPTIMIZERS = ("sgd", "adam")
DEVICES = ("auto", "cpu", "cuda")
MAX_WIDTHS = 16
MAX_DEPTH = 64
MAX_EPOCHS = 10_000_000
MAX_REPEATS = 100
MAX_SEED = 2**63 - 1
MAX_LR = 1e4
MIN_SPEED = 0.01  # epochs per second; 0 means unthrottled
MAX_SPEED = 1e6
MAX_THREADS = os.cpu_count() or 1  # torch intra-op threads per run
MAX_VALUES = 16  # entries in one grid list (--depth, --lr, --optimizer, --batch-size)

ONE, GRID = "one", "grid"  # a setting's shape: one value, or a comma list making a grid axis
Values = Mapping[str, tuple]  # each setting's distinct values, as `describe` reads them


@dataclass(frozen=True)
class Setting:
    """One run setting. `shape` GRID: a comma list of values makes a grid axis (the field
    holds one value or a tuple); `column`: runs carry it in their metadata (exports, histories,
    TensorBoard hparams), described by `doc`; `form`: its label in the settings form ("" not
    there); `folder`: its part of a TensorBoard run folder ("" leaves it out); `describe`: its
    part of the header, from every setting's values (None: nothing to say)."""

    name: str
    domain: Domain
    default: object
    help: str
    shape: str = ONE
    metavar: str | None = None
    short: str = ""  # a grid axis's label in a configuration's name (`d=2`)
    plural: str = ""  # a grid axis's count in the run-count error (`2 depths`)
    column: bool = False
    doc: str = ""
    form: str = ""
    folder: Callable[[object], str] | None = None
    describe: Callable[[Values], str | None] | None = None
    said_late: bool = False  # described after the model and how it learns (`100 epochs`)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def switch(self) -> bool:
        return isinstance(self.domain, Switch)

    def parse(self, text: str) -> object:
        """The value from its text (a flag's, a TOML key's, a form field's); ConfigError. A
        setting whose default is None (unset: decided later, from the data) reads "" as None."""
        if self.default is None and not str(text).strip():
            return None
        if self.shape == GRID:
            return parse_list(self.flag, text, lambda t: self.domain.parse(self.flag, t),
                              MAX_VALUES)
        return self.domain.parse(self.flag, text)

    def check(self, value: object) -> None:
        """Refuse a value outside the domain (each value of a grid axis), in the user's words."""
        if value is None and self.default is None:
            return
        for v in value if self.shape == GRID and isinstance(value, tuple) else (value,):
            self.domain.check(self.flag, v)

    def text(self, value: object) -> str:
        """The value as it is typed: `5,100`, `0.1` ("" for an unset None)."""
        if value is None:
            return ""
        if isinstance(value, tuple):
            return ",".join(self.text(v) for v in value)
        return f"{value:g}" if isinstance(value, float) else str(value)


# --- the values of the settings that need functions of their own -------------------------------


def parse_dataset(text: str) -> str:
    """A bundled name, or a data file's path as given (read and checked by `validate`)."""
    return text if is_data_path(text) else parse_choice("--dataset", text, tuple(DATASETS))


def check_dataset(name: object) -> None:
    if name not in DATASETS and not is_data_path(str(name)):
        raise ConfigError(
            "--dataset",
            f"unknown dataset {name!r} (choose from {', '.join(DATASETS)}, "
            "or give a .csv or .npz file)",
        )


def parse_widths(text: str) -> tuple[int, ...]:
    flag = "--widths"
    no_spaced_list(flag, text)
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


def check_widths(widths: object) -> None:
    flag = "--widths"
    if not widths:
        raise ConfigError(flag, "at least one width is needed")
    assert isinstance(widths, tuple)
    if len(set(widths)) != len(widths):
        raise ConfigError(flag, "a width is listed twice")
    if len(widths) > MAX_WIDTHS:
        raise ConfigError(flag, f"at most {MAX_WIDTHS} widths, got {len(widths)}")
    if any(w < 1 for w in widths):
        raise ConfigError(flag, "widths must be positive")


def parse_seeds(text: str) -> tuple[int, ...]:
    """`--seeds 2,3,2`: one first seed per run, in run order; empty text: none given."""
    if not str(text).strip():
        return ()
    return tuple(parse_int("--seeds", part, 0, MAX_SEED) for part in str(text).split(","))


def check_seeds(seeds: object) -> None:
    for seed in seeds:  # type: ignore[attr-defined]
        check_whole("--seeds", seed, 0, MAX_SEED)


def _joined(values: tuple, fmt: str = "{}") -> str:
    return ",".join(fmt.format(v) for v in values)


def _lr(v: Values) -> str | None:
    if not v.get("lr"):
        return None
    return " ".join(p for p in ("/".join(map(str, v.get("optimizer", ()))),
                                "lr " + _joined(v["lr"], "{:g}")) if p)


GROUP_STAT = "mean±std"  # every cell of a group row (the table's, the capacity view's points)


def seeds_fact(repeats: int) -> str:
    """The header's one statement of what a group row is: its statistic, over how many seeds."""
    return f"{GROUP_STAT} of {repeats} seeds"


def _seeds(v: Values) -> str | None:
    repeats = max(v.get("repeats") or (1,))
    if repeats <= 1:
        return None
    return seeds_fact(repeats) + (", stacked" if v.get("stack") == (True,) else "")


def _every(what: str, values: tuple) -> str | None:
    """`sharpness every 10 epochs`, when some run reads it."""
    n = max(values)
    return None if not n else f"{what} every {n} epoch" + ("s" if n > 1 else "")


def _fraction(closed: bool = False) -> Real:
    """A share in [0, 1) (or [0, 1] when `closed`)."""
    if closed:
        return Real(lambda x: 0 <= x <= 1, "must be in [0, 1], got {value:g}")
    return Real(lambda x: 0 <= x < 1, "must be in [0, 1), got {value:g}")


def _remedy(name: str, domain: Domain, help: str, short: str, plural: str, doc: str,
            folder: str = "") -> Setting:
    """A remedy for overfitting: a grid axis from 0 (none), a run column and a form field,
    named in a folder (`m0.9`) and the header (`momentum 0.9`) only when some run uses it."""
    words = name.replace("_", " ")
    prefix = folder or short
    return Setting(
        name, domain, 0.0, f"{help}; a comma list makes a grid (default: 0)",
        shape=GRID, short=short, plural=plural, column=True, doc=f"{doc} (0 = none)",
        form=words, folder=lambda v: f"{prefix}{v:g}" if v else "",
        describe=lambda v: f"{words} " + _joined(v[name], "{:g}") if any(v.get(name, ())) else
        None,
    )


SETTINGS: tuple[Setting, ...] = (
    Setting("dataset", Custom(parse_dataset, check_dataset), "iris",
            f"one of {', '.join(DATASETS)}, or a .csv (header row) or .npz (X, y) file "
            "(default: iris)",
            column=True, folder=lambda v: Path(str(v)).stem,
            describe=lambda v: _joined(v["dataset"]) if v.get("dataset") else None),
    Setting("target", Custom(lambda t: str(t).strip()), "",
            "--dataset FILE.csv: the label column, or a comma list of regression targets "
            "(default: the last one)", metavar="COLUMN"),
    Setting("task", Choice(TASK_NAMES, "task"), None,
            "classification or regression (default: the data's: diabetes and linnerud are "
            "regression; a file's target of numbers not all whole is regression)",
            metavar="TASK"),
    Setting("widths", Custom(parse_widths, check_widths), (5, 100, 1000),
            "comma list of hidden widths (default: 5,100,1000)", form="widths"),
    Setting("depth", Whole(1, MAX_DEPTH), 1,
            f"hidden layers, 1..{MAX_DEPTH}; a comma list makes a grid (default: 1)",
            shape=GRID, short="d", plural="depths", column=True, doc="hidden layers",
            form="depth", folder=lambda v: f"d{v}",
            describe=lambda v: "depth " + _joined(v["depth"]) if v.get("depth") else None),
    Setting("epochs", Whole(1, MAX_EPOCHS), 100,
            f"epochs per run, 1..{MAX_EPOCHS} (default: 100)",
            column=True, doc="planned epochs", form="epochs", said_late=True,
            describe=lambda v: f"{max(v['epochs'])} epochs" if v.get("epochs") else None),
    Setting("lr", Real(lambda x: 0 < x <= MAX_LR,
                       f"must be above 0 and at most {MAX_LR:g}, got {{value!r}}"), 0.1,
            "learning rate; a comma list makes a grid (default: 0.1)",
            shape=GRID, short="lr", plural="lrs", column=True, doc="learning rate",
            form="learning rate", folder=lambda v: f"lr{v:g}", describe=_lr),
    Setting("optimizer", Choice(OPTIMIZERS, "optimizer"), "sgd",
            "sgd or adam, or both: sgd,adam (default: sgd)",
            shape=GRID, short="opt", plural="optimizers", column=True, form="optimizer",
            folder=str),
    Setting("batch_size", Whole(0, 10**9), 0,
            "mini-batch size; 0 = full batch; a comma list makes a grid (default: 0)",
            shape=GRID, short="batch", plural="batch sizes", column=True, doc="0 = full batch",
            folder=lambda v: f"bs{v}",
            describe=lambda v: None if set(v.get("batch_size") or (0,)) == {0} else
            "batch " + ",".join(str(b) if b else "full" for b in v["batch_size"])),
    _remedy("weight_decay", Real(lambda x: x >= 0, "must be 0 or more, got {value:g}"),
            "L2 penalty added to each gradient, as torch.optim.SGD and Adam add it",
            "wd", "weight decays", "L2 penalty in the gradient"),
    _remedy("momentum", _fraction(), "SGD momentum, as torch.optim.SGD(momentum=) applies it",
            "mom", "momenta", "SGD momentum", folder="m"),
    _remedy("dropout", _fraction(),
            "dropout after each hidden activation (validation in eval mode: none)",
            "drop", "dropouts", "dropout after each hidden ReLU", folder="p"),
    _remedy("label_noise", _fraction(closed=True),
            "a seeded fraction of the training labels replaced by another class (regression: "
            "Gaussian noise of that fraction of each target's std); validation labels never",
            "noise", "label noises", "fraction of training labels noised", folder="n"),
    Setting("early_stop", Whole(0, MAX_EPOCHS), 0,
            "stop a run once its validation loss has not improved (by more than --min-delta) "
            "for this many epochs; needs --val-split (default: 0, off)", metavar="PATIENCE",
            column=True, doc="early-stopping patience in epochs (0 = off)",
            describe=lambda v: f"early stop {_joined(v['early_stop'])}"
            if any(v.get("early_stop", ())) else None),
    Setting("min_delta", Real(lambda x: x >= 0, "must be 0 or more, got {value:g}"), 0.0,
            "--early-stop: the least fall of the validation loss that counts as an improvement "
            "(default: 0)", column=True, doc="early stopping's least improvement"),
    Setting("seed", Whole(0, MAX_SEED), 0, "first seed; a restart takes the next (default: 0)"),
    Setting("seeds", Custom(parse_seeds, check_seeds), (),
            "each run's first seed, a comma list in run order (an export's .config.toml writes "
            "it after restarts; default: --seed plus the repeat)", metavar="LIST"),
    Setting("val_split", Real(lambda x: 0 <= x < 1, "must be in [0, 1), got {value}"), 0.0,
            "held-out fraction in [0, 1), stratified by class (shuffled for a regression) "
            "(default: 0)",
            column=True, form="val split", said_late=True,
            describe=lambda v: "validation" if any(v.get("val_split", ())) else None),
    Setting("standardize", Switch(), False,
            "standardize features, and a regression's targets, by the training split's mean and "
            "std (default: raw)", column=True),
    Setting("repeats", Whole(1, MAX_REPEATS), 1,
            f"seeds per width, 1..{MAX_REPEATS} (default: 1)", said_late=True,
            describe=_seeds),
    Setting("stack", Switch(), False,
            "train the seeds (--repeats) of each width and grid point as one stacked model on "
            "the fused kernel, also when paced (unthrottled, it is the default where it "
            "applies); full-batch sgd only; losses equal unstacked runs' to float32 rounding at "
            "first, in distribution later (docs/portability.md)",
            column=True, doc="1: trained by the fused kernel, its seeds stacked; 0: the plain "
            "kernel"),
    Setting("exact", Switch(), False,
            "train every run with the plain kernel, the notebook's loop bit for bit: unthrottled "
            "runs of several seeds are otherwise stacked on the fused kernel (docs/backends.md)"),
    Setting("device", Choice(DEVICES, "device"), "auto", "auto, cpu or cuda (default: auto)"),
    Setting("speed", Real(lambda x: x == 0 or MIN_SPEED <= x <= MAX_SPEED,
                          f"must be 0 (unthrottled) or between {MIN_SPEED:g} and {MAX_SPEED:g} "
                          "epochs a second, got {value:g}"), 20.0,
            "epochs per second per run; 0 = unthrottled (default: 20)",
            form="speed (ep/s, 0 = max)"),
    Setting("sharpness", Whole(0, MAX_EPOCHS), 0,
            "a reading of the sharpness (the training loss's top Hessian eigenvalue, against "
            "2/lr) every N epochs, the first at the initial weights; 0 = none (default: 0)",
            metavar="N", said_late=True,
            describe=lambda v: _every("sharpness", v.get("sharpness") or (0,))),
    Setting("threads", Whole(0, MAX_THREADS), 1,
            "torch intra-op threads; 0 = torch's default (default: 1, the fastest here)",
            column=True, doc="torch intra-op threads (0 = torch's default)"),
)

SETTING: dict[str, Setting] = {s.name: s for s in SETTINGS}
# Settings that take a comma list: the runs are the product of these, the widths and the seeds.
GRID_FIELDS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.shape == GRID)
GRID_FLAGS: dict[str, str] = {s.name: s.flag for s in SETTINGS if s.shape == GRID}
GRID_SHORT: dict[str, str] = {s.name: s.short for s in SETTINGS if s.shape == GRID}
FORM_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.form)


def describe(values: Values, runs: int = 0) -> list[str]:
    """The header's facts about a configuration, from each setting's distinct values (a
    config's, or those its runs' metadata holds; a setting no one recorded is left out), and
    the number of runs when a grid axis varies."""
    said = sorted((s for s in SETTINGS if s.describe is not None), key=lambda s: s.said_late)
    parts = [p for s in said if (p := s.describe(values))]
    if runs and any(len(values.get(name, ())) > 1 for name in GRID_FIELDS):
        parts.append(f"{runs} runs")
    return parts


def recorded_values(metas: list[Mapping[str, object]]) -> dict[str, tuple]:
    """Each setting's distinct values in the runs' metadata, in run order (None: unknown)."""
    return {s.name: tuple(dict.fromkeys(m[s.name] for m in metas if m.get(s.name) is not None))
            for s in SETTINGS}

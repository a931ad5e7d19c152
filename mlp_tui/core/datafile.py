"""What every reader of the user's data file shares: the error, the data and the checks that
make it trainable (`core/userdata.py` reads CSV files, `core/npz_file.py` .npz ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlp_tui.core.inputs import size_text

MAX_CLASSES = 10_000  # more distinct labels than this is a regression target, not classes


class DataError(ValueError):
    """The file cannot be trained on; `str()` is the one line the user sees."""


@dataclass(frozen=True)
class UserData:
    """Features (float64, samples x features) and targets: class indices and the classes' names,
    or (regression) float64 targets, samples x targets, and the targets' names."""

    x: Any  # numpy.ndarray
    y: Any  # numpy.ndarray of int64 in 0..len(classes)-1, or float64 (samples, targets)
    classes: tuple[str, ...]
    features: tuple[str, ...]
    task: str = "classification"
    targets: tuple[str, ...] = ()  # regression: the target columns' names

    @property
    def shape(self) -> tuple[int, int, int]:
        """(samples, features, outputs), as `config.DATASETS` gives the bundled ones: the
        classes, or the regression targets."""
        outputs = len(self.classes) if self.task == "classification" else len(self.targets)
        return int(self.x.shape[0]), int(self.x.shape[1]), outputs


def check_memory(p: Path, need: int, memory: Callable[[], int] | None) -> None:
    budget = None if memory is None else memory()
    if budget is not None and need > budget:
        raise DataError(f"{p}: reading it takes about {size_text(need)} of memory, more than "
                        f"the {size_text(budget)} this machine can spare")


def checked(p: Path, x, y, classes: tuple[str, ...], features: tuple[str, ...]) -> UserData:
    n = x.shape[0]
    if n == 0:
        raise DataError(f"{p}: no data rows")
    if len(classes) < 2:
        raise DataError(f"{p}: a single class ({classes[0]!r}); at least two are needed")
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{p}: {len(classes)} distinct labels; at most {MAX_CLASSES} classes")
    if n < len(classes):
        raise DataError(f"{p}: {n} rows but {len(classes)} classes; each class needs a row")
    return UserData(x, y, classes, features)


def checked_targets(p: Path, x, y, features: tuple[str, ...], targets: tuple[str, ...]
                     ) -> UserData:
    if x.shape[0] < 2:
        raise DataError(f"{p}: {x.shape[0]} data rows; a regression needs at least 2")
    return UserData(x, y, (), features, "regression", targets)


def is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def label_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

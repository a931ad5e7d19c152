"""The user's own data: a `.csv` file (header row, numeric features, one label column) or an
`.npz` file (arrays `X` and `y`), read and checked once, before any training.

Labels of any type become classes 0..k-1 in sorted order (numerically when every label is a
number, so "10" follows "9"); `classes` keeps their names for the exports. numpy is imported
lazily and nothing else heavy is: the CLI reads a file's shape without torch or scikit-learn.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlp_tui.core.text import reason

DATA_SUFFIXES = (".csv", ".npz")
MAX_CLASSES = 10_000  # more distinct labels than this is a regression target, not classes


class DataError(ValueError):
    """The file cannot be trained on; `str()` is the one line the user sees."""


@dataclass(frozen=True)
class UserData:
    """Features (float64, samples x features), class indices and the classes' names."""

    x: Any  # numpy.ndarray
    y: Any  # numpy.ndarray of int64 in 0..len(classes)-1
    classes: tuple[str, ...]
    features: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(samples, features, classes), as `config.DATASETS` gives the bundled ones."""
        return int(self.x.shape[0]), int(self.x.shape[1]), len(self.classes)


def is_data_path(name: str) -> bool:
    """A --dataset value names a file (not a bundled dataset) when it has a data suffix."""
    return Path(str(name)).suffix.lower() in DATA_SUFFIXES


_CACHE: dict[tuple, UserData] = {}


def read_data(path: str, target: str = "") -> UserData:
    """Read and check a data file; the same unchanged file is read once per process."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise DataError(f"{path}: {reason(exc)}") from None
    if not p.is_file():
        raise DataError(f"{path}: not a file")
    key = (str(p.resolve()), target, st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        reader = _read_npz if p.suffix.lower() == ".npz" else _read_csv
        try:
            _CACHE[key] = reader(p, target)
        except OSError as exc:
            raise DataError(f"{path}: {reason(exc)}") from None
    return _CACHE[key]


def _read_csv(p: Path, target: str) -> UserData:
    import numpy as np

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as f:
        try:
            rows = list(csv.reader(f))
        except csv.Error as exc:
            raise DataError(f"{p}: not a readable CSV file ({exc})") from None
    rows = [r for r in rows if r]  # blank lines carry nothing
    if not rows:
        raise DataError(f"{p}: the file is empty (a header row and data rows are needed)")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    col = _target_column(p, header, target)
    features = [i for i in range(len(header)) if i != col]
    if not features:
        raise DataError(f"{p}: no feature column besides the target {header[col]!r}")
    labels: list[str] = []
    for r, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise DataError(f"{p}: row {r} has {len(row)} fields, the header {len(header)}")
        label = row[col].strip()
        if not label or _missing(label):
            raise DataError(f"{p}: missing value in column {header[col]!r}, row {r}")
        labels.append(label)
    x = np.empty((len(body), len(features)))
    for j, i in enumerate(features):
        cells = [row[i] for row in body]
        try:  # numpy parses a clean column at once; the first bad cell is then looked for
            x[:, j] = np.array(cells, dtype=np.float64)
            clean = bool(np.isfinite(x[:, j]).all())
        except ValueError:
            clean = False
        if not clean:
            for r, text in enumerate(cells, start=1):  # raises at the first bad cell
                x[r - 1, j] = _number(p, text, header[i], r)
    names, y = _classes(labels)
    return _checked(p, x, y, names, tuple(header[i] for i in features))


def _target_column(p: Path, header: list[str], target: str) -> int:
    if not target:
        return len(header) - 1
    if target in header:
        return header.index(target)
    raise DataError(
        f"{p}: no target column {target!r} (columns: {', '.join(header)})"[:300]
    )


def _missing(text: str) -> bool:
    return text.strip().lower() in ("", "na", "n/a", "nan", "null", "none", "?")


def _number(p: Path, text: str, column: str, row: int) -> float:
    if _missing(text):
        raise DataError(f"{p}: missing value in column {column!r}, row {row}")
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{p}: column {column!r}, row {row}: {text.strip()[:40]!r} is not a number "
            "(feature columns must be numeric)"
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{p}: column {column!r}, row {row}: {text.strip()!r} is not finite")
    return value


def _classes(labels: list[str]):
    """Sorted distinct labels and each row's index among them."""
    import numpy as np

    distinct = set(labels)
    numeric = all(map(_is_float, distinct))
    names = sorted(distinct, key=float) if numeric else sorted(distinct)
    index = {n: i for i, n in enumerate(names)}
    return tuple(names), np.array([index[v] for v in labels], dtype=np.int64)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_npz(p: Path, target: str) -> UserData:
    import numpy as np

    if target:
        raise DataError(f"{p}: --target names a CSV column; an .npz file holds arrays X and y")
    try:
        with np.load(p, allow_pickle=False) as npz:
            missing = [k for k in ("X", "y") if k not in npz.files]
            if missing:
                found = ", ".join(npz.files) or "none"
                raise DataError(f"{p}: no array {' or '.join(missing)} (found: {found})")
            x, raw_y = npz["X"], npz["y"]
    except DataError:
        raise
    except ValueError as exc:  # object arrays (pickles) are refused, as are broken archives
        raise DataError(f"{p}: not a readable .npz of numeric arrays ({exc})"[:300]) from None
    except (OSError, EOFError, KeyError) as exc:
        raise DataError(f"{p}: not a readable .npz file ({exc})"[:300]) from None
    if x.ndim != 2 or x.shape[1] == 0:
        raise DataError(f"{p}: X must be a 2-D array (samples x features), got shape {x.shape}")
    if raw_y.ndim != 1 or raw_y.shape[0] != x.shape[0]:
        raise DataError(f"{p}: y must be 1-D with one label per row of X ({x.shape[0]}), "
                        f"got shape {raw_y.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(f"{p}: X must be numeric, got {x.dtype}")
    x = x.astype(np.float64)
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        r, c = bad[0]
        raise DataError(f"{p}: missing or non-finite value in X, column {c}, row {r + 1}")
    if raw_y.dtype.kind == "f" and not np.isfinite(raw_y).all():
        r = int(np.argwhere(~np.isfinite(raw_y))[0][0])
        raise DataError(f"{p}: missing value in y, row {r + 1}")
    values, y = np.unique(raw_y, return_inverse=True)  # sorted, in the labels' own order
    names = tuple(_label_text(v) for v in values)
    features = tuple(f"x{i}" for i in range(x.shape[1]))
    return _checked(p, x, y.astype(np.int64).reshape(-1), names, features)


def _label_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _checked(p: Path, x, y, classes: tuple[str, ...], features: tuple[str, ...]) -> UserData:
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


def class_counts(data: UserData) -> list[int]:
    import numpy as np

    return [int(c) for c in np.bincount(data.y, minlength=len(data.classes))]


def check_split(data: UserData, val_split: float, where: str = "") -> None:
    """A stratified validation split must leave every class a row on each side."""
    if val_split <= 0:
        return
    n = data.x.shape[0]
    n_val = round(n * val_split)
    for name, count in zip(data.classes, class_counts(data)):
        if count < 2:
            raise DataError(
                f"{where or 'the data'}: class {name!r} has {count} row; a validation split "
                "would leave it empty on one side (it needs 2 rows or more)"
            )
    k = len(data.classes)
    if n_val < k or n - n_val < k:
        raise DataError(
            f"{where or 'the data'}: --val-split {val_split} of {n} rows leaves a class empty "
            f"(each side needs at least one row of each of the {k} classes)"
        )

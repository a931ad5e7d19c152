"""The user's own data: a `.csv` file (header row, numeric features, one or more target columns)
or an `.npz` file (arrays `X` and `y`), read and checked once, before any training.

The task follows the target unless `--task` names it: a target of numbers that are not all whole
(or several target columns, or a 2-D `y`) is regression, anything else classification. Class
labels of any type become classes 0..k-1 in sorted order (numerically when every label is a
number, so "10" follows "9"); `classes` keeps their names for the exports. Regression targets
stay float64, one column per target. numpy is imported
lazily and nothing else heavy is: the CLI reads a file's shape without torch or scikit-learn.

Reading is bounded: the file goes through `inputs.open_input` (a regular file, at most
`DATA_CAP`), an .npz is checked from its zip directory and each array's .npy header (shape,
dtype, size) before any array is inflated, and what the data will take in memory is compared
with what the run check allows before it is read.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from mlp_tui.core.datafile import (
    MAX_CLASSES,
    DataError,
    UserData,
    check_memory,
    checked,
    checked_targets,
    is_float,
    label_text,
)
from mlp_tui.core.inputs import DATA_CAP, InputRefused, open_input
from mlp_tui.core.npz_file import read_npz
from mlp_tui.core.text import reason

__all__ = ["MAX_CLASSES", "DataError", "UserData", "label_text"]

DATA_SUFFIXES = (".csv", ".npz")
# Peak memory of reading a CSV file, per byte of it: one Python string per cell. Measured (#24):
# 8x for typical numeric cells, 27x for two-character ones.
CSV_MEMORY_PER_BYTE = 28


def is_data_path(name: str) -> bool:
    """A --dataset value names a file (not a bundled dataset) when it has a data suffix."""
    return Path(str(name)).suffix.lower() in DATA_SUFFIXES


_CACHE: dict[tuple, UserData] = {}


def read_data(
    path: str, target: str = "", memory: Callable[[], int] | None = None, task: str = ""
) -> UserData:
    """Read and check a data file; the same unchanged file is read once per process.
    `memory()` is the most the data may take once read (None: not checked); `task` ("" to
    infer it from the target) says how the target is read."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise DataError(f"{path}: {reason(exc)}") from None
    except ValueError:  # a NUL in the name
        raise DataError(f"{path!r}: no such file") from None
    key = (str(p.resolve()), target, task, st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        reader = read_npz if p.suffix.lower() == ".npz" else _read_csv
        try:
            with open_input(p, DATA_CAP) as f:
                _CACHE[key] = reader(p, f, target, memory, task)
        except InputRefused as exc:
            raise DataError(str(exc)) from None
        except OSError as exc:
            raise DataError(f"{path}: {reason(exc)}") from None
    return _CACHE[key]


def _read_csv(
    p: Path, f: BinaryIO, target: str, memory: Callable[[], int] | None, task: str
) -> UserData:
    import numpy as np

    check_memory(p, CSV_MEMORY_PER_BYTE * os.fstat(f.fileno()).st_size, memory)
    with io.TextIOWrapper(f, encoding="utf-8-sig", errors="replace", newline="") as text:
        try:
            rows = list(csv.reader(text))
        except csv.Error as exc:
            raise DataError(f"{p}: not a readable CSV file ({exc})") from None
    rows = [r for r in rows if r]  # blank lines carry nothing
    if not rows:
        raise DataError(f"{p}: the file is empty (a header row and data rows are needed)")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    cols = _target_columns(p, header, target)
    features = [i for i in range(len(header)) if i not in cols]
    if not features:
        names = ", ".join(repr(header[c]) for c in cols)
        raise DataError(f"{p}: no feature column besides the target {names}")
    labels: list[list[str]] = [[] for _ in cols]
    for r, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise DataError(f"{p}: row {r} has {len(row)} fields, the header {len(header)}")
        for col, out in zip(cols, labels):
            label = row[col].strip()
            if not label or _missing(label):
                raise DataError(f"{p}: missing value in column {header[col]!r}, row {r}")
            out.append(label)
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
    feature_names = tuple(header[i] for i in features)
    targets = tuple(header[c] for c in cols)
    if _is_regression(labels, task):
        y = np.empty((len(body), len(cols)))
        for j, (name, column) in enumerate(zip(targets, labels)):
            for r, text in enumerate(column, start=1):
                y[r - 1, j] = _target_number(p, text, name, r)
        return checked_targets(p, x, y, feature_names, targets)
    if len(cols) > 1:
        raise DataError(f"{p}: {len(cols)} target columns are a regression (--task regression); "
                        "a classification takes one")
    names, y = _classes(labels[0])
    return checked(p, x, y, names, feature_names)


def _target_columns(p: Path, header: list[str], target: str) -> list[int]:
    """`--target a,b`: the named columns in that order ("" = the last column)."""
    if not target:
        return [len(header) - 1]
    if target in header:  # a column whose own name holds a comma
        return [header.index(target)]
    cols: list[int] = []
    for name in (t.strip() for t in target.split(",")):
        if name not in header:
            raise DataError(
                f"{p}: no target column {name!r} (columns: {', '.join(header)})"[:300]
            )
        if header.index(name) in cols:
            raise DataError(f"{p}: target column {name!r} is named twice")
        cols.append(header.index(name))
    return cols


def _is_regression(labels: list[list[str]], task: str) -> bool:
    """Regression when asked, or (not asked) for several targets or a number not whole."""
    if task:
        return task == "regression"
    if len(labels) > 1:
        return True
    values = set(labels[0])
    if not all(map(is_float, values)):
        return False
    return any(not float(v).is_integer() for v in values if math.isfinite(float(v)))


def _target_number(p: Path, text: str, column: str, row: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{p}: column {column!r}, row {row}: {text.strip()[:40]!r} is not a "
                        "number (a regression target must be numeric)") from None
    if not math.isfinite(value):
        raise DataError(f"{p}: column {column!r}, row {row}: {text.strip()!r} is not finite")
    return value


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
    numeric = all(map(is_float, distinct))
    names = sorted(distinct, key=float) if numeric else sorted(distinct)
    index = {n: i for i, n in enumerate(names)}
    return tuple(names), np.array([index[v] for v in labels], dtype=np.int64)


def class_counts(data: UserData) -> list[int]:
    import numpy as np

    return [int(c) for c in np.bincount(data.y, minlength=len(data.classes))]


def val_count(n: int, val_split: float) -> int:
    """Samples a --val-split fraction holds out of n: ceil(n * f), as the split draws them
    (engine/split.py, scikit-learn's rule); the checks before a run use the same count."""
    return math.ceil(n * val_split)


def check_split(data: UserData, val_split: float, where: str = "") -> None:
    """A stratified validation split must leave every class a row on each side; a shuffled one
    (regression) two rows a side (an R² needs two)."""
    if val_split <= 0:
        return
    n = data.x.shape[0]
    n_val = val_count(n, val_split)
    if data.task == "regression":
        check_shuffled(n, n_val, val_split, where)
        return
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


def check_shuffled(n: int, n_val: int, val_split: float, where: str = "") -> None:
    """A regression's validation split leaves two rows a side at least."""
    if n_val < 2 or n - n_val < 2:
        raise DataError(
            f"{where or 'the data'}: --val-split {val_split} of {n} rows leaves {n_val} for "
            f"validation and {n - n_val} for training; each side needs at least 2"
        )

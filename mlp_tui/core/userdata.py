"""The user's own data: a `.csv` file (header row, numeric features, one label column) or an
`.npz` file (arrays `X` and `y`), read and checked once, before any training.

Labels of any type become classes 0..k-1 in sorted order (numerically when every label is a
number, so "10" follows "9"); `classes` keeps their names for the exports. numpy is imported
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
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mlp_tui.core.inputs import DATA_CAP, InputRefused, open_input, size_text
from mlp_tui.core.text import reason

DATA_SUFFIXES = (".csv", ".npz")
MAX_CLASSES = 10_000  # more distinct labels than this is a regression target, not classes
# Peak memory of reading a CSV file, per byte of it: one Python string per cell. Measured (#24):
# 8x for typical numeric cells, 27x for two-character ones.
CSV_MEMORY_PER_BYTE = 28
MAX_DIRECTORY = 1 << 20  # an .npz's zip directory, bytes (about 10,000 arrays)
DEFLATE_MAX_RATIO = 1032  # deflate never inflates one byte to more than this


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


def read_data(path: str, target: str = "", memory: Callable[[], int] | None = None) -> UserData:
    """Read and check a data file; the same unchanged file is read once per process.
    `memory()` is the most the data may take once read (None: not checked)."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise DataError(f"{path}: {reason(exc)}") from None
    except ValueError:  # a NUL in the name
        raise DataError(f"{path!r}: no such file") from None
    key = (str(p.resolve()), target, st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        reader = _read_npz if p.suffix.lower() == ".npz" else _read_csv
        try:
            with open_input(p, DATA_CAP) as f:
                _CACHE[key] = reader(p, f, target, memory)
        except InputRefused as exc:
            raise DataError(str(exc)) from None
        except OSError as exc:
            raise DataError(f"{path}: {reason(exc)}") from None
    return _CACHE[key]


def _check_memory(p: Path, need: int, memory: Callable[[], int] | None) -> None:
    budget = None if memory is None else memory()
    if budget is not None and need > budget:
        raise DataError(f"{p}: reading it takes about {size_text(need)} of memory, more than "
                        f"the {size_text(budget)} this machine can spare")


def _read_csv(p: Path, f: BinaryIO, target: str, memory: Callable[[], int] | None) -> UserData:
    import numpy as np

    _check_memory(p, CSV_MEMORY_PER_BYTE * os.fstat(f.fileno()).st_size, memory)
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


def _read_npz(p: Path, f: BinaryIO, target: str, memory: Callable[[], int] | None) -> UserData:
    """X and y of an .npz, each checked from its .npy header before it is read: never unpickled,
    never larger than DATA_CAP or than the memory the run may take."""
    import zipfile

    import numpy as np

    if target:
        raise DataError(f"{p}: --target names a CSV column; an .npz file holds arrays X and y")
    _check_directory(p, f)
    try:
        with zipfile.ZipFile(f) as archive:
            members = {i.filename.removesuffix(".npy"): i for i in archive.infolist()}
            missing = [k for k in ("X", "y") if k not in members]
            if missing:
                found = ", ".join(members) or "none"
                raise DataError(f"{p}: no array {' or '.join(missing)} (found: {found})"[:300])
            x_info, y_info = members["X"], members["y"]
            x_shape, x_dtype = _npy_header(p, archive, x_info)
            y_shape, y_dtype = _npy_header(p, archive, y_info)
            _check_shapes(p, x_shape, x_dtype, y_shape, y_dtype)
            n, k = x_shape
            _check_memory(p, _nbytes(x_shape, x_dtype) + _nbytes(y_shape, y_dtype)
                          + 9 * n * k + 16 * n, memory)  # + float64 X, its NaN mask, y's index
            x, raw_y = _npy_read(archive, x_info), _npy_read(archive, y_info)
    except DataError:
        raise
    except _zip_errors() as exc:
        raise DataError(f"{p}: not a readable .npz file ({exc})"[:300]) from None
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


def _zip_errors() -> tuple[type[BaseException], ...]:
    """What zipfile, zlib, bz2, lzma and numpy's .npy reader raise for a damaged archive."""
    import zipfile
    import zlib

    errors: list[type[BaseException]] = [zipfile.BadZipFile, zlib.error, ValueError, EOFError,
                                         OSError, NotImplementedError, RuntimeError]
    try:
        import lzma

        errors.append(lzma.LZMAError)
    except ImportError:
        pass
    return tuple(errors)


def _check_directory(p: Path, f: BinaryIO) -> None:
    """Refuse a zip directory over MAX_DIRECTORY: zipfile reads all of it, one object per
    member, before any member can be looked at. Its size is read as zipfile reads it: the end
    record (at the very end, else the last one in the comment's reach), overridden by a zip64
    record when a zip64 locator stands before it. A file with none is zipfile's to refuse."""
    size = os.fstat(f.fileno()).st_size
    start = max(0, size - 22 - 0xFFFF)
    f.seek(start)
    tail = f.read()
    at = len(tail) - 22
    if not (at >= 0 and tail[at : at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return
    entries, directory = struct.unpack_from("<HI", tail, at + 10)
    end = start + at
    if end >= 76:
        f.seek(end - 76)
        record, locator = f.read(56), f.read(20)
        if locator[:4] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            entries, directory = struct.unpack_from("<QQ", record, 32)
    if directory > MAX_DIRECTORY:
        raise DataError(f"{p}: its zip directory holds {size_text(directory)} ({entries} "
                        f"members), more than the {size_text(MAX_DIRECTORY)} an .npz of arrays "
                        "X and y may have")


def _npy_header(p: Path, archive, info) -> tuple[tuple[int, ...], Any]:
    """An array's shape and dtype from its .npy header, read without its data; refused when
    it holds objects, or claims more than DATA_CAP, more than the member holds, or more than
    its compressed bytes can inflate to."""
    import zipfile

    from numpy.lib import format as npy

    with archive.open(info) as m:
        version = npy.read_magic(m)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(m)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = npy.read_array_header_2_0(m)
        else:
            raise DataError(f"{p}: {info.filename}: unknown .npy format version {version}")
        offset = m.tell()
    name = info.filename
    if dtype.hasobject:
        raise DataError(f"{p}: not a readable .npz of numeric arrays ({name} holds Python "
                        "objects, which are never unpickled)")
    if any(d < 0 for d in shape):
        raise DataError(f"{p}: {name}: negative shape {shape}")
    nbytes = _nbytes(shape, dtype)
    try:
        DATA_CAP.check(p, nbytes, f"{name} holds {size_text(nbytes)} ({dtype}, shape {shape})")
    except InputRefused as exc:
        raise DataError(str(exc)) from None
    if nbytes > info.file_size - offset:
        raise DataError(f"{p}: {name} declares {size_text(nbytes)} of data but holds "
                        f"{size_text(max(0, info.file_size - offset))} (a damaged file)")
    most = {zipfile.ZIP_STORED: info.compress_size,
            zipfile.ZIP_DEFLATED: DEFLATE_MAX_RATIO * info.compress_size + 1024}
    if info.file_size > most.get(info.compress_type, info.file_size):
        raise DataError(f"{p}: {name} claims {size_text(info.file_size)} from "
                        f"{size_text(info.compress_size)} compressed, more than its compression "
                        "can give (a damaged file)")
    return shape, dtype


def _nbytes(shape: tuple[int, ...], dtype) -> int:
    return math.prod(shape) * dtype.itemsize


def _check_shapes(p: Path, x_shape, x_dtype, y_shape, y_dtype) -> None:
    if len(x_shape) != 2 or x_shape[1] == 0:
        raise DataError(f"{p}: X must be a 2-D array (samples x features), got shape {x_shape}")
    if len(y_shape) != 1 or y_shape[0] != x_shape[0]:
        raise DataError(f"{p}: y must be 1-D with one label per row of X ({x_shape[0]}), "
                        f"got shape {y_shape}")
    if x_dtype.kind not in "iuf":
        raise DataError(f"{p}: X must be numeric, got {x_dtype}")
    if y_dtype.kind not in "biufUS":
        raise DataError(f"{p}: y must hold numbers or strings (the labels), got {y_dtype}")


def _npy_read(archive, info):
    """The array (its header already checked): numpy reads a zip member in bounded chunks."""
    from numpy.lib import format as npy

    with archive.open(info) as m:
        return npy.read_array(m, allow_pickle=False)


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


def val_count(n: int, val_split: float) -> int:
    """Samples a --val-split fraction holds out of n: ceil(n * f), as the split draws them
    (engine/split.py, scikit-learn's rule); the checks before a run use the same count."""
    return math.ceil(n * val_split)


def check_split(data: UserData, val_split: float, where: str = "") -> None:
    """A stratified validation split must leave every class a row on each side."""
    if val_split <= 0:
        return
    n = data.x.shape[0]
    n_val = val_count(n, val_split)
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

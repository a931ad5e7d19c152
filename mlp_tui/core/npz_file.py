"""The user's `.npz` file (arrays `X` and `y`): each array checked from its .npy header before it
is read, never unpickled, never larger than DATA_CAP or than the memory the run may take."""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from mlp_tui.core.datafile import (
    DataError,
    UserData,
    check_memory,
    checked,
    checked_targets,
    label_text,
)
from mlp_tui.core.inputs import DATA_CAP, InputRefused, size_text

MAX_DIRECTORY = 1 << 20  # an .npz's zip directory, bytes (about 10,000 arrays)
DEFLATE_MAX_RATIO = 1032  # deflate never inflates one byte to more than this


def read_npz(
    p: Path, f: BinaryIO, target: str, memory: Callable[[], int] | None, task: str
) -> UserData:
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
            check_memory(p, _nbytes(x_shape, x_dtype) + _nbytes(y_shape, y_dtype)
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
    features = tuple(f"x{i}" for i in range(x.shape[1]))
    numeric = raw_y.dtype.kind in "biuf"
    inferred = raw_y.ndim == 2 or (raw_y.dtype.kind == "f" and not np.all(raw_y == np.round(raw_y)))
    if task == "regression" or (not task and numeric and inferred):
        if not numeric:
            raise DataError(f"{p}: y holds text; a regression target must be numeric")
        y = raw_y.astype(np.float64).reshape(len(raw_y), -1)
        names = ("y",) if y.shape[1] == 1 else tuple(f"y{i}" for i in range(y.shape[1]))
        return checked_targets(p, x, y, features, names)
    if raw_y.ndim != 1:
        raise DataError(f"{p}: a 2-D y is a regression (--task regression); a classification "
                        "takes one label a row")
    values, y = np.unique(raw_y, return_inverse=True)  # sorted, in the labels' own order
    names = tuple(label_text(v) for v in values)
    return checked(p, x, y.astype(np.int64).reshape(-1), names, features)


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
    if len(y_shape) not in (1, 2) or y_shape[0] != x_shape[0] or 0 in y_shape:
        raise DataError(f"{p}: y must have one label (or row of targets) per row of X "
                        f"({x_shape[0]}), got shape {y_shape}")
    if x_dtype.kind not in "iuf":
        raise DataError(f"{p}: X must be numeric, got {x_dtype}")
    if y_dtype.kind not in "biufUS":
        raise DataError(f"{p}: y must hold numbers or strings (the labels), got {y_dtype}")


def _npy_read(archive, info):
    """The array (its header already checked): numpy reads a zip member in bounded chunks."""
    from numpy.lib import format as npy

    with archive.open(info) as m:
        return npy.read_array(m, allow_pickle=False)

"""The history file's rows as text and back: one line per row, `.csv` or `.jsonl`. Pure.

Writing keeps every digit (floats as `repr`). CSV writes NaN as `nan`, infinities as `inf` and
`-inf`, a missing value as an empty cell; JSON has no NaN, so JSONL writes a missing *or*
non-finite value as `null` and reads it back as None, which callers treat like NaN.

Reading trusts nothing: every value is typed by `FIELD_KIND` and checked, and any problem is a
`HistoryFormatError` naming the column, never another exception.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import ALL_METRICS, CLASSIFICATION, FIELD_KIND, task_of_columns

HISTORY_COLUMNS = CLASSIFICATION.history_columns  # the default header (a session's task's)

MAX_LINE = 64 * 1024  # longest row, in bytes (a CSV row with quoted newlines counts whole)
MAX_STR = 256  # longest string value, in characters
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Columns a row cannot do without; `train_loss` must be there but may be null (non-finite).
REQUIRED = ("run", "width", "seed", "epoch", "train_loss")
HISTORY_FORMATS = {".csv": "csv", ".jsonl": "jsonl"}

# The state columns: their values, and what a row without one means (files from before
# `health` have none; old files wrote a flat loss as a status of its own, "stalled").
_STATES: dict[str, tuple[frozenset[str], str]] = {
    "status": (frozenset(s.value for s in Status), Status.RUNNING.value),
    "health": (frozenset(h.value for h in Health), Health.OK.value),
}
_LEGACY_STATUS = {Health.STALLED.value: Health.STALLED.value}  # the old status "stalled"
_ABSENT = object()
_NON_FINITE_OK = frozenset(ALL_METRICS)
_MAX_NUMBER = 100  # characters of one number: repr needs at most 24
_INT_RE = re.compile(r"[+-]?[0-9]{1,20}")
_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)", re.IGNORECASE
)
# Rejected in strings: control and format characters (ESC, OSC, C1, bidi overrides, lone
# surrogates), line separators, and `[`, which opens Rich and Textual markup. `\n` and `\t`
# are allowed: CSV quotes them and the display escapes them.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class HistoryFormatError(ValueError):
    """A history file, or one line of it, that cannot be read back."""


def history_format(path: str | Path) -> str:
    """`csv` or `jsonl`, from the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in HISTORY_FORMATS:
        raise HistoryFormatError(f"unsupported history format {suffix!r} (use .csv or .jsonl)")
    return HISTORY_FORMATS[suffix]


# --- writing ----------------------------------------------------------------------------------


def csv_header(columns: Sequence[str] = HISTORY_COLUMNS) -> str:
    """The CSV header line."""
    return ",".join(_csv_quote(c) for c in columns) + "\n"


def encode_rows(
    rows: Iterable[Mapping[str, object]], fmt: str, columns: Sequence[str] = HISTORY_COLUMNS
) -> str:
    """Whole lines, one per row; a column a row lacks is written as missing."""
    if fmt == "csv":
        return "".join(
            ",".join(_csv_quote(_text(c, r.get(c))) for c in columns) + "\n" for r in rows
        )
    if fmt == "jsonl":
        return "".join(
            json.dumps(
                {c: _json_value(c, r.get(c)) for c in columns},
                allow_nan=False,
                separators=(",", ":"),
            )
            + "\n"
            for r in rows
        )
    raise ValueError(f"unknown history format {fmt!r}")


def _typed(column: str, value: object) -> object:
    """The value as its column's kind (numpy scalars and enums become plain Python)."""
    kind = FIELD_KIND.get(column, str)
    if kind is int:
        return operator.index(value)  # refuses a float rather than truncate it
    if kind is float:
        return float(value)  # type: ignore[arg-type]
    if kind is bool:
        return bool(value)
    return str(value)


def _text(column: str, value: object) -> str:
    if value is None:
        return ""
    value = _typed(column, value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _json_value(column: str, value: object) -> object:
    if value is None:
        return None
    value = _typed(column, value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv_quote(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


# --- reading ----------------------------------------------------------------------------------


def decode_header(line: str) -> tuple[str, ...]:
    """The column names of a CSV header line; unknown names are kept (their cells ignored)."""
    names = _csv_cells(line)
    seen: set[str] = set()
    for name in names:
        if name in seen and name in FIELD_KIND:
            raise HistoryFormatError(f"column {_show(name)} appears twice in the header")
        seen.add(name)
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        raise HistoryFormatError(f"not a history header: no {', '.join(missing)} column")
    return tuple(names)


def decode_row(line: str, fmt: str, header: Sequence[str] | None = None) -> dict[str, object]:
    """One row from one record (without its line ending), typed and checked: a dict over the
    history columns of the task its columns are (`task.task_of_columns`: a regression file's
    rows hold R²), None where missing (a missing status reads as running, a missing health as
    ok). `header` is the CSV header's names (default `HISTORY_COLUMNS`)."""
    if len(line) > MAX_LINE:
        raise HistoryFormatError(f"line longer than {MAX_LINE} bytes")
    if fmt == "jsonl":
        raw = _json_object(line)
        convert = _from_json
    elif fmt == "csv":
        names = _checked_header(tuple(header or HISTORY_COLUMNS))
        cells = _csv_cells(line)
        if len(cells) != len(names):
            raise HistoryFormatError(f"expected {len(names)} fields, got {len(cells)}")
        raw = dict(zip(names, cells))
        convert = _from_text
    else:
        raise HistoryFormatError(f"unknown history format {fmt!r}")
    row: dict[str, object] = {}
    for column in task_of_columns(raw).history_columns:
        cell = raw.get(column, _ABSENT)
        if cell is _ABSENT:
            if column in REQUIRED:
                raise HistoryFormatError(f"column {column!r} is missing")
            row[column] = None
            continue
        try:
            value = convert(column, cell)
        except (ValueError, TypeError, OverflowError) as exc:
            raise HistoryFormatError(f"column {column!r}: {exc}") from None
        if value is None and column in REQUIRED and FIELD_KIND[column] is int:
            raise HistoryFormatError(f"column {column!r} is empty")
        row[column] = value
    _settle_state(row)
    return row


def _settle_state(row: dict[str, object]) -> None:
    """Status and health: checked, legacy names mapped, a missing one set to its default."""
    legacy = _LEGACY_STATUS.get(row["status"])  # type: ignore[arg-type]
    if legacy is not None:
        row["status"] = None
        row["health"] = row["health"] or legacy
    for column, (allowed, default) in _STATES.items():
        value = row[column]
        if value is None:
            row[column] = default
        elif value not in allowed:
            raise HistoryFormatError(f"column {column!r}: unknown {column} {_show(value)}")


@functools.lru_cache(maxsize=16)
def _checked_header(names: tuple[str, ...]) -> tuple[str, ...]:
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise HistoryFormatError(f"header lacks {', '.join(missing)}")
    return names


def _csv_cells(line: str) -> list[str]:
    if line.count('"') % 2:  # the reader splits records by this parity: a stray quote is bad
        raise HistoryFormatError("bad CSV: unbalanced quotes")
    try:
        rows = list(csv.reader(io.StringIO(line, newline=""), strict=True))
    except csv.Error as exc:
        raise HistoryFormatError(f"bad CSV: {exc}") from None
    if len(rows) != 1:
        raise HistoryFormatError("bad CSV: " + ("an empty line" if not rows else "a line break"))
    return rows[0]


def _json_object(line: str) -> dict[str, object]:
    try:
        raw = _JSON.decode(line)
    except RecursionError:
        raise HistoryFormatError("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or a number refused by the hooks
        raise HistoryFormatError(f"bad JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise HistoryFormatError(f"expected a JSON object, got {type(raw).__name__}")
    return raw


def _json_int(text: str) -> int | float:
    if len(text) > 20:  # beyond int64 anyway: a float, refused by an int column
        return _json_float(text)
    return int(text)


def _json_float(text: str) -> float:
    if len(text) > _MAX_NUMBER:
        raise ValueError(f"number of {len(text)} characters")
    return float(text)


_JSON = json.JSONDecoder(
    parse_int=_json_int,
    parse_float=_json_float,
    parse_constant=float,  # NaN, Infinity, -Infinity: checked per column
)


def _from_json(column: str, value: object) -> object:
    if value is None:
        return None
    kind = FIELD_KIND[column]
    if kind is int:
        if type(value) is not int:
            raise ValueError(f"expected an integer, got {_show(value)}")
        return _in_range(value)
    if kind is float:
        if isinstance(value, str) and column in _NON_FINITE_OK:
            return _parse_float(column, value)  # files written as "nan", "inf" before null
        if type(value) not in (int, float):
            raise ValueError(f"expected a number, got {_show(value)}")
        return _finite(column, float(value))  # type: ignore[arg-type]
    if kind is bool:
        if type(value) is not bool:
            raise ValueError(f"expected true or false, got {_show(value)}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_show(value)}")
    return _checked_str(value)


def _from_text(column: str, text: str) -> object:
    if text == "":
        return None
    kind = FIELD_KIND[column]
    if kind is int:
        if not _INT_RE.fullmatch(text):
            raise ValueError(f"expected an integer, got {_show(text)}")
        return _in_range(int(text))
    if kind is float:
        return _parse_float(column, text)
    if kind is bool:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"expected true or false, got {_show(text)}")
        return lowered == "true"
    return _checked_str(text)


def _parse_float(column: str, text: str) -> float:
    if len(text) > _MAX_NUMBER or not _FLOAT_RE.fullmatch(text):
        raise ValueError(f"expected a number, got {_show(text)}")
    return _finite(column, float(text))


def _finite(column: str, value: float) -> float:
    if not math.isfinite(value) and column not in _NON_FINITE_OK:
        raise ValueError(f"expected a finite number, got {value!r}")
    return value


def _in_range(value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError("integer out of the 64-bit range")
    return value


def _checked_str(text: str) -> str:
    if len(text) > MAX_STR:
        raise ValueError(f"string longer than {MAX_STR} characters")
    if not text.isprintable():
        for ch in text:
            if ch not in "\n\t" and unicodedata.category(ch) in _BAD_CATEGORIES:
                raise ValueError(f"control character {ascii(ch)} in a string")
    return text


def _show(value: object) -> str:
    """A short, escaped rendering of a bad value for an error message."""
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."

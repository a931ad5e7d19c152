"""Pure writers and readers: the final table (CSV, JSON, Markdown) and the per-epoch history
(CSV, JSONL). No Textual, no torch.

The final table is written atomically (temp file, fsync, rename). The history is appended as the
run goes by `HistoryWriter`, one whole line per row, flushed at least once a second, so a killed
process leaves complete rows up to the last flush and never a torn line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TABLE_COLUMNS = (
    "run",
    "dataset",
    "width",
    "depth",
    "repeat",
    "seed",
    "optimizer",
    "lr",
    "epochs",
    "final_train_loss",
    "best_train_loss",
    "best_epoch",
    "final_train_acc",
    "final_val_loss",
    "final_val_acc",
    "status",
    "seconds",
)
HISTORY_COLUMNS = (
    "run",
    "dataset",
    "width",
    "depth",
    "repeat",
    "seed",
    "optimizer",
    "lr",
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "elapsed_s",
    "status",
)
_INT_COLUMNS = {"run", "width", "depth", "repeat", "seed", "epochs", "best_epoch", "epoch"}
_FLOAT_COLUMNS = {
    "lr",
    "final_train_loss",
    "best_train_loss",
    "final_train_acc",
    "final_val_loss",
    "final_val_acc",
    "seconds",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "elapsed_s",
}


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import: os.umask is process-wide and not thread-safe


class HistoryFormatError(ValueError):
    """A history file that cannot be read back."""


@dataclass
class RunSummary:
    """One row of the final table."""

    run: int
    dataset: str
    width: int
    depth: int
    repeat: int
    seed: int
    optimizer: str
    lr: float
    epochs: int
    final_train_loss: float | None
    best_train_loss: float | None
    best_epoch: int | None
    final_train_acc: float | None
    final_val_loss: float | None
    final_val_acc: float | None
    status: str
    seconds: float

    def as_row(self) -> dict[str, object]:
        return {c: getattr(self, c) for c in TABLE_COLUMNS}


# --- cell formatting --------------------------------------------------------------------------


def _cell(value: object) -> str:
    """Text for CSV and Markdown: floats round-trip exactly; missing values are empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    return str(value)


def _json_value(value: object) -> object:
    """JSON has no NaN or infinity: write them as the strings "nan", "inf", "-inf" (null stays
    for a value that does not exist, such as a validation loss without a validation set)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _parse(column: str, text: str | None) -> object:
    if text is None or text == "":
        return None
    if column in _INT_COLUMNS:
        return int(text)
    if column in _FLOAT_COLUMNS:
        return float(text)
    return text


# --- the final table --------------------------------------------------------------------------


def render_table(rows: Sequence[RunSummary], fmt: str) -> str:
    """The final table as text in one of `csv`, `json`, `md`."""
    dicts = [r.as_row() for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(TABLE_COLUMNS)
        for d in dicts:
            w.writerow([_cell(d[c]) for c in TABLE_COLUMNS])
        return buf.getvalue()
    if fmt == "json":
        payload = [{c: _json_value(d[c]) for c in TABLE_COLUMNS} for d in dicts]
        return json.dumps(payload, indent=2) + "\n"
    if fmt == "md":
        lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
        for d in dicts:
            lines.append("| " + " | ".join(_cell(d[c]) for c in TABLE_COLUMNS) + " |")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown table format {fmt!r}")


def table_format(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    fmt = {".csv": "csv", ".json": "json", ".md": "md"}.get(suffix)
    if fmt is None:
        raise ValueError(f"unsupported table format {suffix!r} (use .csv, .json or .md)")
    return fmt


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write to a temp file beside `path`, fsync, then rename: never a half-written file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; a table is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def write_table(path: str | os.PathLike[str], rows: Sequence[RunSummary]) -> Path:
    """Write the final table, format chosen by suffix (.csv, .json, .md)."""
    return write_atomic(path, render_table(rows, table_format(path)))


def read_table(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """Read a final table back (CSV or JSON) as dicts of typed values."""
    fmt = table_format(path)
    text = Path(path).read_text(encoding="utf-8")
    if fmt == "json":  # non-finite floats were written as "nan", "inf", "-inf"
        return [
            {c: float(v) if c in _FLOAT_COLUMNS and isinstance(v, str) else v for c, v in r.items()}
            for r in json.loads(text)
        ]
    if fmt == "csv":
        return [{c: _parse(c, v) for c, v in r.items()} for r in csv.DictReader(io.StringIO(text))]
    rows = []
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        rows.append({c: _parse(c, v) for c, v in zip(header, cells)})
    return rows


# --- the per-epoch history --------------------------------------------------------------------


def history_format(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    fmt = {".csv": "csv", ".jsonl": "jsonl"}.get(suffix)
    if fmt is None:
        raise ValueError(f"unsupported history format {suffix!r} (use .csv or .jsonl)")
    return fmt


def format_history_rows(rows: Iterable[dict[str, object]], fmt: str) -> str:
    """Whole lines for the history file, one per row."""
    out: list[str] = []
    if fmt == "csv":
        for r in rows:
            out.append(",".join(_csv_cell(_cell(r.get(c))) for c in HISTORY_COLUMNS) + "\n")
    else:
        for r in rows:
            out.append(json.dumps({c: _json_value(r.get(c)) for c in HISTORY_COLUMNS}) + "\n")
    return "".join(out)


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


@dataclass
class HistoryWriter:
    """Appends history rows to a file as whole lines; each `write` is one `os.write` call."""

    path: Path
    append: bool = False
    fmt: str = field(init=False)
    _fd: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.fmt = history_format(self.path)
        mode = os.O_WRONLY | os.O_CREAT | (0 if self.append else os.O_TRUNC)
        self._fd = os.open(self.path, mode, 0o644)
        if self.fmt == "csv" and os.lseek(self._fd, 0, os.SEEK_END) == 0:
            self._write_all((",".join(HISTORY_COLUMNS) + "\n").encode())

    def write(self, rows: Iterable[dict[str, object]]) -> int:
        """Append rows; on failure (a full disk, say) the file is cut back to its last whole
        line and the error raised, so the caller can retry the same rows later."""
        text = format_history_rows(rows, self.fmt)
        if text:
            self._write_all(text.encode())
        return text.count("\n")

    def _write_all(self, data: bytes) -> None:
        good = os.lseek(self._fd, 0, os.SEEK_END)
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError:
            try:
                os.ftruncate(self._fd, good)
            except OSError:
                pass
            raise

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def parse_history_line(line: str, fmt: str, header: Sequence[str] | None = None) -> dict:
    """One history row from one complete line."""
    if fmt == "jsonl":
        raw = json.loads(line)
        if not isinstance(raw, dict):  # `[1, 2]` or `null` is JSON, but not a row
            raise HistoryFormatError(f"expected a JSON object, got {json.dumps(raw)[:40]}")
        row = {c: raw.get(c) for c in HISTORY_COLUMNS}
        for c in ("train_loss", "train_acc", "val_loss", "val_acc", "elapsed_s", "lr"):
            v = row.get(c)
            if isinstance(v, str):
                row[c] = float(v)
        return row
    cells = next(csv.reader([line]))
    cols = header or HISTORY_COLUMNS
    if len(cells) != len(cols):
        raise HistoryFormatError(f"expected {len(cols)} fields, got {len(cells)}")
    return {c: _parse(c, v) for c, v in zip(cols, cells)}


def iter_history(path: str | os.PathLike[str]) -> Iterator[dict]:
    """Every complete row of a history file; a torn last line (no newline) is skipped."""
    fmt = history_format(path)
    with open(path, encoding="utf-8", newline="") as f:
        header = None
        for lineno, line in enumerate(f, 1):
            if not line.endswith("\n"):
                break
            line = line.rstrip("\r\n")
            if not line:
                continue
            if fmt == "csv" and header is None:
                header = line.split(",")
                if "epoch" not in header or "train_loss" not in header:
                    raise HistoryFormatError(f"{path}: line 1 is not a history header")
                continue
            try:
                yield parse_history_line(line, fmt, header)
            except (ValueError, KeyError, json.JSONDecodeError) as exc:
                raise HistoryFormatError(f"{path}: line {lineno}: {exc}") from None

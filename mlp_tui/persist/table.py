"""The final table: one row per run, as CSV, JSON or Markdown.

CSV and JSON keep every digit (a value read back is the value computed); JSON writes a
non-finite value as null; Markdown is for people and rounds to 4 significant digits.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

from mlp_tui.persist.files import write_atomic
from mlp_tui.schema import FIELD_KIND, TABLE_COLUMNS
from mlp_tui.summary import RunSummary

TABLE_FORMATS = {".csv": "csv", ".json": "json", ".md": "md"}


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise ValueError(f"unsupported table format {suffix!r} (use .csv, .json or .md)")
    return TABLE_FORMATS[suffix]


def _cell(value: object, digits: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value) if digits is None else f"{value:.{digits}g}"
    return str(value)


def _json(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return str(value)  # a str-valued enum as its plain value
    return value


def render_table(rows: Sequence[RunSummary], fmt: str) -> str:
    """The final table as text in one of `csv`, `json`, `md`."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(TABLE_COLUMNS)
        for r in rows:
            w.writerow([_cell(r[c]) for c in TABLE_COLUMNS])
        return buf.getvalue()
    if fmt == "json":
        payload = [{c: _json(r[c]) for c in TABLE_COLUMNS} for r in rows]
        return json.dumps(payload, indent=2, allow_nan=False) + "\n"
    if fmt == "md":
        lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
        for r in rows:
            cells = (_cell(r[c], 4).replace("|", "\\|") for c in TABLE_COLUMNS)
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown table format {fmt!r}")


def write_table(path: str | Path, rows: Sequence[RunSummary]) -> Path:
    """Write the final table atomically, format chosen by suffix (.csv, .json, .md)."""
    return write_atomic(Path(path), render_table(rows, table_format(path)))


def _typed(column: str, value: object) -> object:
    if value is None or value == "":
        return None
    kind = FIELD_KIND.get(column, str)
    if kind is bool:
        return value if isinstance(value, bool) else value == "true"
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    return value


def read_table(path: str | Path) -> list[dict[str, object]]:
    """Read a final table back (CSV, JSON or Markdown) as dicts of typed values."""
    fmt = table_format(path)
    text = Path(path).read_text(encoding="utf-8")
    if fmt == "json":
        return [{c: _typed(c, v) for c, v in r.items()} for r in json.loads(text)]
    if fmt == "csv":
        return [{c: _typed(c, v) for c, v in r.items()} for r in csv.DictReader(io.StringIO(text))]
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        rows.append({c: _typed(c, v) for c, v in zip(header, cells)})
    return rows

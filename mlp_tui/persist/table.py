"""The final table: one row per run, as CSV, JSON or Markdown.

CSV and JSON keep every digit (a value read back is the value computed); JSON writes a
non-finite value as null; Markdown is for people and rounds to 4 significant digits.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path

from mlp_tui.core.schema import RUN_FIELDS
from mlp_tui.core.task import CLASSIFICATION, FIELD_KIND
from mlp_tui.persist.files import write_atomic
from mlp_tui.report.stats import STD_LABEL, sample_std
from mlp_tui.report.summary import RunSummary

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


def render_rows(rows: Sequence[dict[str, object]], columns: Sequence[str], fmt: str) -> str:
    """Rows of typed values as text in one of `csv`, `json`, `md`."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r[c]) for c in columns])
        return buf.getvalue()
    if fmt == "json":
        payload = [{c: _json(r[c]) for c in columns} for r in rows]
        return json.dumps(payload, indent=2, allow_nan=False) + "\n"
    if fmt == "md":
        return "\n".join(_md_lines(rows, columns)) + "\n"
    raise ValueError(f"unknown table format {fmt!r}")


def _md_lines(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = (_md(r[c]) for c in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md(value: object) -> str:
    return _cell(value, 4).replace("|", "\\|")


_PER_SEED = ("run", "repeat", "seed")


def pooled_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """What a Markdown reader wants per configuration when seeds repeat: mean ± std of these."""
    return tuple(c for c in columns if c.startswith(("final_", "best_"))
                 and not c.endswith("_epoch") and not c.startswith("best_train"))


def table_columns(rows: Sequence[RunSummary]) -> tuple[str, ...]:
    """The rows' own columns (their task's, `report.summary`), in order."""
    return tuple(rows[0]) if rows else CLASSIFICATION.table_columns


def pooled_rows(rows: Sequence[RunSummary]) -> list[dict[str, object]]:
    """One row per configuration (all settings but the seed) with `mean ± std` text cells."""
    groups: dict[tuple, list[RunSummary]] = {}
    for r in rows:
        key = tuple(r[f.name] for f in RUN_FIELDS if f.name not in _PER_SEED)
        groups.setdefault(key, []).append(r)
    out = []
    for key, members in groups.items():
        row: dict[str, object] = dict(zip((f.name for f in RUN_FIELDS
                                           if f.name not in _PER_SEED), key))
        row["runs"] = len(members)
        for c in pooled_columns(table_columns(members)):
            vals = [m[c] for m in members if isinstance(m[c], float) and math.isfinite(m[c])]
            row[c] = _mean_std(vals) if vals else None
        out.append(row)
    return out


def _mean_std(vals: list[float]) -> str:
    """`mean ± sample std`; a single value is its own mean, with no spread to claim."""
    mean, std = _cell(statistics.fmean(vals), 4), sample_std(vals)
    return mean if std is None else f"{mean} ± {_cell(std, 2)}"


def render_table(rows: Sequence[RunSummary], fmt: str) -> str:
    """The final table as text in one of `csv`, `json`, `md`. Markdown adds, when seeds repeat,
    a second table of mean ± std per configuration."""
    all_columns = table_columns(rows)
    text = render_rows(rows, all_columns, fmt)
    if fmt == "md" and any(r["repeat"] for r in rows):
        pooled = pooled_rows(rows)
        columns = [*(f.name for f in RUN_FIELDS if f.name not in _PER_SEED), "runs",
                   *pooled_columns(all_columns)]
        text += f"\nMean ± {STD_LABEL} over seeds:\n\n"
        text += "\n".join(_md_lines(pooled, columns)) + "\n"
    return text


def write_table(path: str | Path, rows: Sequence[RunSummary]) -> Path:
    """Write the final table atomically, format chosen by suffix (.csv, .json, .md)."""
    return write_atomic(Path(path), render_table(rows, table_format(path)))


def write_capacity(path: str | Path, rows: Sequence[dict[str, object]]) -> Path:
    """Write the capacity table (capacity.capacity_rows) atomically, format by suffix."""
    from mlp_tui.report.capacity import CAPACITY_COLUMNS

    columns = tuple(rows[0]) if rows else CAPACITY_COLUMNS  # the rows' task's
    return write_atomic(Path(path), render_rows(rows, columns, table_format(path)))


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
    lines = []
    for ln in text.splitlines():  # the first table only (a pooled one may follow)
        if ln.startswith("|"):
            lines.append(ln)
        elif lines:
            break
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        rows.append({c: _typed(c, v) for c, v in zip(header, cells)})
    return rows

"""The history codec: every field type round-trips through CSV and JSONL, and every hostile
line is a HistoryFormatError naming its column, never another exception."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import CLASSIFICATION, FIELD_KIND
from mlp_tui.persist.codec import (
    INT_MAX,
    INT_MIN,
    MAX_LINE,
    MAX_STR,
    REQUIRED,
    HistoryFormatError,
    csv_header,
    decode_header,
    decode_row,
    encode_rows,
    history_format,
)

HISTORY_COLUMNS, METRIC_NAMES = CLASSIFICATION.history_columns, CLASSIFICATION.metric_names

FORMATS = ("csv", "jsonl")
SAMPLE = {int: 7, float: 0.1 + 0.2, str: "iris", bool: True}


def make_row(**changes: object) -> dict[str, object]:
    """A valid row with a value of its kind in every column."""
    row: dict[str, object] = {c: SAMPLE[FIELD_KIND[c]] for c in HISTORY_COLUMNS}
    row.update({"status": Status.RUNNING.value, "health": Health.OK.value, **changes})
    return row


def round_trip(row: dict[str, object], fmt: str) -> dict[str, object]:
    text = encode_rows([row], fmt)
    assert text.endswith("\n")
    return decode_row(text[:-1], fmt, None)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def column(kind: type, *, metric: bool | None = None) -> str:
    """The first history column of a kind (a metric or not, when asked)."""
    return next(
        c
        for c in HISTORY_COLUMNS
        if FIELD_KIND[c] is kind
        and c not in REQUIRED
        and (metric is None or (c in METRIC_NAMES) == metric)
        and c not in ("status", "health")
    )


INT, STR, BOOL = column(int), column(str), column(bool)
METRIC, PLAIN_FLOAT = column(float, metric=True), column(float, metric=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_kind_round_trips(fmt):
    row = make_row()
    back = round_trip(row, fmt)
    assert list(back) == list(HISTORY_COLUMNS)
    assert all(same(row[c], back[c]) for c in HISTORY_COLUMNS), back


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", [INT_MIN, INT_MAX, 0, -1])
def test_ints_at_the_bounds_round_trip(fmt, value):
    assert round_trip(make_row(**{INT: value, "seed": value}), fmt)["seed"] == value


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", [1e-300, 5e-324, 1.7976931348623157e308, -0.0, 1 / 3])
def test_floats_keep_every_digit(fmt, value):
    back = round_trip(make_row(**{METRIC: value, PLAIN_FLOAT: value}), fmt)
    assert same(back[METRIC], value) and same(back[PLAIN_FLOAT], value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_metrics_round_trip_through_csv(value):
    assert same(round_trip(make_row(**{m: value for m in METRIC_NAMES}), "csv")[METRIC], value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_jsonl_writes_non_finite_as_null_and_reads_none(value):
    text = encode_rows([make_row(**{METRIC: value})], "jsonl")
    assert json.loads(text)[METRIC] is None
    assert decode_row(text, "jsonl", None)[METRIC] is None


def test_csv_spells_special_values():
    row = make_row(**{METRIC: math.nan, "train_loss": -math.inf, BOOL: False, STR: None})
    cells = dict(zip(HISTORY_COLUMNS, encode_rows([row], "csv")[:-1].split(",")))
    assert (cells[METRIC], cells["train_loss"], cells[BOOL], cells[STR]) == (
        "nan",
        "-inf",
        "false",
        "",
    )


def test_jsonl_is_compact_and_plain():
    text = encode_rows([make_row(status=Status.FINISHED, health=Health.STALLED)], "jsonl")
    assert ", " not in text and ": " not in text
    raw = json.loads(text)
    assert (raw["status"], raw["health"]) == ("finished", "stalled")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("text", ["a,b", 'say "hi"', "two\nlines", '",\n,"', "tab\there", "é∞"])
def test_awkward_strings_round_trip(fmt, text):
    assert round_trip(make_row(**{STR: text}), fmt)[STR] == text


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_values_read_back_as_none(fmt):
    optional = [c for c in HISTORY_COLUMNS if c not in REQUIRED]
    back = round_trip(make_row(**{c: None for c in optional}, train_loss=None), fmt)
    assert back["status"] == Status.RUNNING.value and back["health"] == Health.OK.value
    assert all(back[c] is None for c in optional if c not in ("status", "health"))
    assert back["train_loss"] is None


def test_csv_header_decodes_to_the_schema():
    assert decode_header(csv_header()[:-1]) == HISTORY_COLUMNS


def test_a_file_from_before_the_new_columns_still_decodes():
    """The columns of a history written before the run settings and `health` were added."""
    old = "run,dataset,width,depth,repeat,seed,optimizer,lr,epoch,train_loss,train_acc,"
    old += "val_loss,val_acc,elapsed_s,status"
    header = decode_header(old)
    row = decode_row("0,iris,5,1,0,0,sgd,0.1,1,1.16,0.02,,,0.005,stalled", "csv", header)
    assert row["width"] == 5 and row["val_loss"] is None
    assert (row["status"], row["health"]) == ("running", "stalled")
    assert all(row[c] is None for c in HISTORY_COLUMNS if c not in header and c != "health")


def test_an_old_jsonl_line_with_nan_strings_decodes():
    line = '{"run": 0, "width": 5, "seed": 0, "epoch": 3, "train_loss": "nan",'
    line += ' "val_loss": "-inf", "status": "diverged", "extra": [1, {"x": 2}]}'
    row = decode_row(line, "jsonl", None)
    assert math.isnan(row["train_loss"]) and row["val_loss"] == -math.inf
    assert row["status"] == "diverged" and row["health"] == "ok"


def test_unknown_csv_columns_are_ignored():
    header = decode_header("run,width,seed,epoch,train_loss,colour")
    assert decode_row("1,2,3,4,0.5,blue", "csv", header)["train_loss"] == 0.5


@pytest.mark.parametrize(
    "header", ["", "run,width,seed,epoch", "a,b,c", "run,run,width,seed,epoch,train_loss", '"x']
)
def test_a_bad_header_is_refused(header):
    with pytest.raises(HistoryFormatError):
        decode_header(header)


def test_history_format_by_suffix():
    assert history_format("a/b.CSV") == "csv" and history_format("x.jsonl") == "jsonl"
    with pytest.raises(HistoryFormatError):
        history_format("x.txt")


def jsonl(**changes: object) -> str:
    """A valid JSONL line with raw JSON text substituted for some values."""
    raw = json.loads(encode_rows([make_row()], "jsonl"))
    text = json.dumps({c: f"@{c}@" if c in changes else v for c, v in raw.items()})
    for c, v in changes.items():
        text = text.replace(f'"@{c}@"', str(v))
    return text


def csv_line(**changes: str) -> str:
    cells = encode_rows([make_row()], "csv")[:-1].split(",")
    return ",".join(changes.get(c, v) for c, v in zip(HISTORY_COLUMNS, cells))


HOSTILE = [
    ("jsonl", jsonl(seed="1e400")),
    ("jsonl", jsonl(seed="Infinity")),
    ("jsonl", jsonl(seed="-Infinity")),
    ("jsonl", jsonl(seed="NaN")),
    ("jsonl", jsonl(seed="1.5")),
    ("jsonl", jsonl(seed="2.0")),
    ("jsonl", jsonl(seed="true")),
    ("jsonl", jsonl(seed='"7"')),
    ("jsonl", jsonl(seed="[7]")),
    ("jsonl", jsonl(seed=str(2**63))),
    ("jsonl", jsonl(seed=str(-(2**63) - 1))),
    ("jsonl", jsonl(seed="9" * 5000)),
    ("jsonl", jsonl(run="null")),
    ("jsonl", jsonl(**{PLAIN_FLOAT: "Infinity"})),
    ("jsonl", jsonl(**{PLAIN_FLOAT: "NaN"})),
    ("jsonl", jsonl(**{PLAIN_FLOAT: "1e400"})),
    ("jsonl", jsonl(**{PLAIN_FLOAT: '"inf"'})),
    ("jsonl", jsonl(**{METRIC: '"lots"'})),
    ("jsonl", jsonl(**{METRIC: "false"})),
    ("jsonl", jsonl(**{METRIC: "1" + "0" * 200})),
    ("jsonl", jsonl(**{BOOL: "1"})),
    ("jsonl", jsonl(**{STR: "12"})),
    ("jsonl", jsonl(**{STR: '"\\u001b]0;owned\\u0007"'})),
    ("jsonl", jsonl(**{STR: '"\\u001b[2J"'})),
    ("jsonl", jsonl(**{STR: '"\\u009b31m"'})),
    ("jsonl", jsonl(**{STR: '"\\u202eevil"'})),
    ("jsonl", jsonl(**{STR: '"\\ud800"'})),
    ("jsonl", jsonl(**{STR: '"a\\rb"'})),
    ("jsonl", jsonl(**{STR: '"a\\u0000b"'})),
    ("jsonl", jsonl(**{STR: json.dumps("x" * (MAX_STR + 1))})),
    ("jsonl", jsonl(status='"exploded"')),
    ("jsonl", jsonl(status="3")),
    ("jsonl", jsonl(health='"grumpy"')),
    ("jsonl", "[" * 100_000),
    ("jsonl", '{"a":' * 50_000),
    ("jsonl", "[1, 2]"),
    ("jsonl", "null"),
    ("jsonl", '"row"'),
    ("jsonl", "{"),
    ("jsonl", '{"run": 1}'),
    ("jsonl", "{" + json.dumps("k" * MAX_LINE) + ": 1}"),
    ("csv", csv_line(seed="1e400")),
    ("csv", csv_line(seed="inf")),
    ("csv", csv_line(seed="1.5")),
    ("csv", csv_line(seed="1_000")),
    ("csv", csv_line(seed=" 12")),
    ("csv", csv_line(seed="١٢")),
    ("csv", csv_line(seed=str(2**63))),
    ("csv", csv_line(seed="9" * 5000)),
    ("csv", csv_line(seed="")),
    ("csv", csv_line(**{PLAIN_FLOAT: "nan"})),
    ("csv", csv_line(**{PLAIN_FLOAT: "1e400"})),
    ("csv", csv_line(**{METRIC: "1_0.5"})),
    ("csv", csv_line(**{METRIC: "0x10"})),
    ("csv", csv_line(**{METRIC: "1" * 200})),
    ("csv", csv_line(**{BOOL: "yes"})),
    ("csv", csv_line(**{STR: "\x1b[31mred"})),
    ("csv", csv_line(status="exploded")),
    ("csv", csv_line() + ",extra"),
    ("csv", csv_line().rsplit(",", 1)[0]),
    ("csv", csv_line(**{STR: 'a"b'})),
    ("csv", csv_line(**{STR: '"open'})),
    ("csv", csv_line(**{STR: "a\rb"})),
    ("csv", "x" * (MAX_LINE + 1)),
    ("csv", ""),
]


@pytest.mark.parametrize(("fmt", "line"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_line_is_a_history_format_error(fmt, line):
    with pytest.raises(HistoryFormatError) as info:
        decode_row(line, fmt, None)
    message = str(info.value)
    assert len(message) < 200 and message.isprintable()


def test_the_error_names_the_column():
    with pytest.raises(HistoryFormatError, match="'seed'"):
        decode_row(jsonl(seed="1e400"), "jsonl", None)
    with pytest.raises(HistoryFormatError, match=f"'{STR}'"):
        decode_row(csv_line(**{STR: "\x1b]0;x\x07"}), "csv", None)


def test_the_codec_imports_neither_textual_nor_torch():
    code = (
        "import sys, mlp_tui.persist.codec, mlp_tui.persist.reader;"
        "print(sorted(m for m in ('textual', 'torch', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("jsonl", jsonl(**{STR: '"[bold red]shout[/]"'})),
        ("csv", csv_line(**{STR: "[link=http://x]click[/link]"})),
    ],
)
def test_markup_in_a_string_is_kept_as_data(fmt, line):
    """Markup is text: it is kept as it is, and every face shows it escaped (never parsed)."""
    row = decode_row(line, fmt, HISTORY_COLUMNS if fmt == "csv" else None)
    assert "[" in row[STR]

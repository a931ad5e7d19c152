"""Final-table and history files: round trips, atomic writes, torn lines."""

from __future__ import annotations

import math
import os

import pytest

from mlp_tui.engine.summary import best_of, summarize_rows
from mlp_tui.export import (
    HISTORY_COLUMNS,
    TABLE_COLUMNS,
    HistoryFormatError,
    HistoryWriter,
    RunSummary,
    iter_history,
    read_table,
    render_table,
    write_atomic,
    write_table,
)


def _summary(**changes) -> RunSummary:
    row = {
        "run": 0,
        "dataset": "iris",
        "width": 5,
        "depth": 1,
        "repeat": 0,
        "seed": 0,
        "optimizer": "sgd",
        "lr": 0.1,
        "epochs": 100,
        "final_train_loss": 0.1 + 0.2,
        "best_train_loss": 0.29999998211860657,
        "best_epoch": 97,
        "final_train_acc": 0.9733333333333334,
        "final_val_loss": None,
        "final_val_acc": None,
        "status": "finished",
        "seconds": 1.234567,
    }
    row.update(changes)
    return RunSummary(**row)


ROWS = [
    _summary(),
    _summary(
        run=1,
        width=100,
        seed=2**63 - 1,
        lr=1e-7,
        final_train_loss=1e-300,
        final_val_loss=0.5,
        final_val_acc=1.0,
        status="stopped",
        seconds=0.0,
    ),
    _summary(
        run=2,
        width=1000,
        epochs=0,
        final_train_loss=None,
        best_train_loss=None,
        best_epoch=None,
        final_train_acc=None,
        status="failed",
    ),
]


@pytest.mark.parametrize("suffix", [".csv", ".json", ".md"])
def test_final_table_round_trips(tmp_path, suffix):
    path = tmp_path / f"final{suffix}"
    assert write_table(path, ROWS) == path
    back = read_table(path)
    assert back == [r.as_row() for r in ROWS]
    assert all(list(row) == list(TABLE_COLUMNS) for row in back)
    for row in back:  # typed, not text
        assert type(row["width"]) is int and type(row["lr"]) is float
    assert os.listdir(tmp_path) == [path.name]  # no temp file left behind


@pytest.mark.parametrize("suffix", [".csv", ".json", ".md"])
def test_final_table_keeps_infinite_and_missing_losses(tmp_path, suffix):
    rows = [_summary(status="diverged", final_train_loss=math.inf, best_train_loss=-math.inf)]
    path = tmp_path / f"final{suffix}"
    write_table(path, rows)
    (back,) = read_table(path)
    assert back["final_train_loss"] == math.inf
    assert back["best_train_loss"] == -math.inf
    assert back["final_val_loss"] is None


def test_markdown_and_csv_layout(tmp_path):
    md = render_table(ROWS[:1], "md").splitlines()
    assert md[0] == "| " + " | ".join(TABLE_COLUMNS) + " |"
    assert md[1] == "|" + "---|" * len(TABLE_COLUMNS)
    assert len(md) == 3
    csv_lines = render_table(ROWS, "csv").splitlines()
    assert csv_lines[0] == ",".join(TABLE_COLUMNS) and len(csv_lines) == 4
    with pytest.raises(ValueError):
        render_table(ROWS, "xlsx")
    with pytest.raises(ValueError):
        write_table(tmp_path / "final.txt", ROWS)


def test_atomic_write_replaces_whole_and_cleans_up_on_failure(tmp_path):
    path = tmp_path / "final.csv"
    path.write_text("old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["final.csv"]
    blocker = tmp_path / "taken.csv"  # a non-empty folder where the file should go
    blocker.mkdir()
    (blocker / "keep").write_text("x")
    with pytest.raises(OSError):
        write_atomic(blocker, "data\n")
    assert sorted(os.listdir(tmp_path)) == ["final.csv", "taken.csv"]
    assert os.listdir(blocker) == ["keep"]


# --- history ----------------------------------------------------------------------------------


def _history_row(run: int, epoch: int, **changes) -> dict:
    row = {
        "run": run,
        "dataset": "iris",
        "width": 5 * (run + 1),
        "depth": 1,
        "repeat": 0,
        "seed": run,
        "optimizer": "sgd",
        "lr": 0.1,
        "epoch": epoch,
        "train_loss": 1.0 / epoch,
        "train_acc": epoch / 150,
        "val_loss": None,
        "val_acc": None,
        "elapsed_s": epoch * 0.001,
        "status": "running",
    }
    row.update(changes)
    return row


HISTORY_ROWS = [_history_row(r, e) for e in range(1, 6) for r in range(2)] + [
    _history_row(0, 6, val_loss=0.25, val_acc=0.5, status="finished"),
    _history_row(1, 6, train_loss=math.inf, status="diverged"),
    _history_row(2, 1, dataset='odd,"name"', lr=1e-5),  # quoting survives
]


def _same(a: dict, b: dict) -> bool:
    for c in HISTORY_COLUMNS:
        x, y = a[c], b[c]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_history_round_trips(tmp_path, suffix):
    path = tmp_path / f"hist{suffix}"
    writer = HistoryWriter(path)
    assert writer.write(HISTORY_ROWS[:4]) == 4
    assert writer.write([]) == 0
    assert writer.write(HISTORY_ROWS[4:]) == len(HISTORY_ROWS) - 4
    writer.close()
    back = list(iter_history(path))
    assert len(back) == len(HISTORY_ROWS)
    for got, want in zip(back, HISTORY_ROWS):
        assert list(got) == list(HISTORY_COLUMNS)
        assert _same(got, want), (got, want)
    text = path.read_text()
    assert text.endswith("\n")
    if suffix == ".csv":
        assert text.splitlines()[0] == ",".join(HISTORY_COLUMNS)


def test_history_nan_loss_round_trips(tmp_path):
    for suffix in (".csv", ".jsonl"):
        path = tmp_path / f"nan{suffix}"
        writer = HistoryWriter(path)
        writer.write([_history_row(0, 1, train_loss=math.nan, status="diverged")])
        writer.close()
        (row,) = iter_history(path)
        loss = row["train_loss"]
        assert loss is None or math.isnan(loss)  # JSON has no NaN: null stands for it
        assert row["status"] == "diverged"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_torn_final_line_is_skipped(tmp_path, suffix):
    path = tmp_path / f"hist{suffix}"
    writer = HistoryWriter(path)
    writer.write(HISTORY_ROWS[:3])
    writer.close()
    whole = path.read_bytes()
    full_line = whole.splitlines(keepends=True)[-1]
    with open(path, "ab") as f:
        f.write(full_line[: len(full_line) // 2])  # a write cut short by a kill
    assert [r["epoch"] for r in iter_history(path)] == [1, 1, 2]


def test_history_writer_truncates_a_failed_write_to_whole_lines(tmp_path, monkeypatch):
    path = tmp_path / "hist.jsonl"
    writer = HistoryWriter(path)
    writer.write(HISTORY_ROWS[:2])
    before = path.read_bytes()
    real_write = os.write
    calls = []

    def short_then_full_disk(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "write", short_then_full_disk)
        with pytest.raises(OSError):
            writer.write(HISTORY_ROWS[2:6])
    assert path.read_bytes() == before  # cut back to the last whole line
    writer.write(HISTORY_ROWS[2:6])  # the caller retries the same rows
    writer.close()
    assert [(r["run"], r["epoch"]) for r in iter_history(path)] == [
        (r["run"], r["epoch"]) for r in HISTORY_ROWS[:6]
    ]


def test_corrupt_history_files_raise_history_format_error(tmp_path):
    bad_header = tmp_path / "a.csv"
    bad_header.write_text("x,y\n1,2\n")
    with pytest.raises(HistoryFormatError):
        list(iter_history(bad_header))
    good = tmp_path / "b.csv"
    writer = HistoryWriter(good)
    writer.write(HISTORY_ROWS[:2])
    writer.close()
    with open(good, "a") as f:
        f.write("1,2,3\n")
    with pytest.raises(HistoryFormatError, match="line 4"):
        list(iter_history(good))
    bad_json = tmp_path / "c.jsonl"
    bad_json.write_text('{"epoch": 1\n')
    with pytest.raises(HistoryFormatError, match="line 1"):
        list(iter_history(bad_json))
    with pytest.raises(ValueError):
        HistoryWriter(tmp_path / "d.json")


# --- the final row of a replayed life ---------------------------------------------------------


def test_best_of_and_summarize_rows():
    assert best_of([3.0, 1.0, 1.0, math.nan, 2.0]) == (1.0, 2)
    assert best_of([math.nan]) == (None, None)
    assert best_of([]) == (None, None)
    rows = [_history_row(0, e, train_loss=v) for e, v in enumerate((0.9, 0.5, 0.7), 1)]
    summary = summarize_rows(rows)
    assert (summary.epochs, summary.final_train_loss, summary.best_train_loss) == (3, 0.7, 0.5)
    assert summary.best_epoch == 2
    assert summary.status == "stopped"  # the recording ended mid-training
    assert summary.seconds == 0.003
    rows[-1]["status"] = "finished"
    assert summarize_rows(rows).status == "finished"

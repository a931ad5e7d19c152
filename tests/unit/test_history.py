"""RunHistory (the in-memory columns) and HistoryRecorder (streaming them to --history)."""

from __future__ import annotations

import math
import threading
from array import array
from collections import defaultdict

import pytest
from engine_reference import wait_until

from mlp_tui.engine.history import RunHistory
from mlp_tui.engine.recorder import HistoryRecorder
from mlp_tui.export import iter_history


def f32(x: float) -> float:
    return array("f", [x])[0]


# --- RunHistory -------------------------------------------------------------------------------


def test_append_and_read_back():
    h = RunHistory(n_train=150)
    assert len(h) == 0 and h.last() is None and not h.has_val
    assert h.append(1.25, 75, None, None, 0.5)
    assert h.append(0.75, 150, None, None, 1.0, "finished")
    cols = h.read()
    assert len(cols) == 2 and cols.start == 0
    assert cols.train_loss == [1.25, 0.75]
    assert cols.train_acc == [0.5, 1.0]
    assert cols.elapsed == [0.5, 1.0]
    assert cols.status == ["running", "finished"]
    assert cols.val_loss is None and cols.val_acc is None
    last = h.last()
    assert (last.epoch, last.train_loss, last.status) == (2, 0.75, "finished")


def test_losses_are_packed_as_float32_without_further_loss():
    h = RunHistory(n_train=3)
    h.append(0.1, 1, None, None, 0.0)
    assert h.read().train_loss == [f32(0.1)]
    assert h.best_loss == f32(0.1)


def test_closed_history_rejects_appends():
    h = RunHistory(n_train=10)
    assert h.append(1.0, 5, None, None, 0.1)
    assert not h.closed
    h.close()
    assert h.closed
    assert h.append(0.5, 6, None, None, 0.2) is False
    assert len(h) == 1
    assert h.read().train_loss == [1.0]
    assert h.best_epoch == 1


def test_best_loss_takes_the_first_minimum_and_ignores_nan():
    h = RunHistory(n_train=10)
    for loss in (2.0, 1.0, 1.0, 3.0, math.nan):
        h.append(loss, 1, None, None, 0.0)
    assert (h.best_loss, h.best_epoch) == (1.0, 2)
    nan_only = RunHistory(n_train=10)
    nan_only.append(math.nan, 0, None, None, 0.0, "diverged")
    assert nan_only.best_epoch == 0 and nan_only.best_loss == math.inf


def test_validation_columns_are_ratios_of_counts():
    h = RunHistory(n_train=120, n_val=30)
    assert h.has_val
    h.append(1.0, 60, 0.9, 15, 0.1)
    h.append(0.8, 90, None, None, 0.2)  # a missing validation pass reads as NaN / 0
    cols = h.read()
    assert cols.train_acc == [0.5, 0.75]
    assert cols.val_loss[0] == f32(0.9) and math.isnan(cols.val_loss[1])
    assert cols.val_acc == [0.5, 0.0]
    rec = cols.record(0)
    assert (rec.val_loss, rec.val_acc) == (f32(0.9), 0.5)


def test_read_slices_clamp_and_number_epochs_from_one():
    h = RunHistory(n_train=1)
    for i in range(10):
        h.append(float(i), 1, None, None, float(i))
    cols = h.read(5, 100)
    assert cols.start == 5 and len(cols) == 5
    assert [cols.record(i).epoch for i in range(len(cols))] == [6, 7, 8, 9, 10]
    assert cols.train_loss == [5.0, 6.0, 7.0, 8.0, 9.0]
    empty = h.read(20)
    assert len(empty) == 0 and empty.start == 10
    assert h.tail_losses(3) == [7.0, 8.0, 9.0]
    assert h.read(2, 4).train_loss == [2.0, 3.0]


def test_mark_last_and_memory_per_epoch():
    h = RunHistory(n_train=4)
    h.mark_last("finished")  # nothing to mark yet: no error
    h.append(1.0, 1, None, None, 0.0)
    h.mark_last("stalled")
    assert h.read().status == ["stalled"]
    for _ in range(99):
        h.append(1.0, 1, None, None, 0.0)
    assert h.nbytes() == 13 * 100
    hv = RunHistory(n_train=4, n_val=2)
    hv.append(1.0, 1, 1.0, 1, 0.0)
    assert hv.nbytes() == 21


def test_concurrent_reads_see_consistent_rows():
    h = RunHistory(n_train=100, n_val=10)
    n = 20_000
    bad: list[str] = []

    def writer() -> None:
        for i in range(n):
            h.append(float(i), i % 101, float(i), i % 11, float(i))

    t = threading.Thread(target=writer)
    t.start()
    while t.is_alive() or len(h) < n:
        size = len(h)
        cols = h.read(max(0, size - 50))
        lengths = {
            len(cols.train_loss),
            len(cols.train_acc),
            len(cols.val_loss),
            len(cols.val_acc),
            len(cols.elapsed),
            len(cols.status),
        }
        if len(lengths) != 1:
            bad.append(f"ragged read {lengths}")
        for i, loss in enumerate(cols.train_loss):
            if loss != cols.start + i or cols.val_loss[i] != loss:
                bad.append(f"row {cols.start + i} holds {loss}")
        if len(h) >= n:
            break
    t.join()
    assert bad == []
    assert len(h) == n


# --- HistoryRecorder --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_recorder_streams_every_epoch_of_every_run(make_experiment, tmp_path, suffix):
    exp = make_experiment(speed=0, epochs=25, widths=(5, 100), val_split=0.2, seed=4)
    path = tmp_path / f"hist{suffix}"
    rec = HistoryRecorder(exp, path, interval=0.01)
    exp.start()
    rec.start()
    assert exp.wait(20)
    rec.close()
    rows = list(iter_history(path))
    assert len(rows) == 50 == rec.rows_written
    by_run = defaultdict(list)
    for row in rows:
        by_run[row["run"]].append(row)
    for run in exp.runs:
        got = by_run[run.index]
        cols = run.history.read()
        assert [r["epoch"] for r in got] == list(range(1, 26))
        assert {
            (r["width"], r["seed"], r["dataset"], r["optimizer"], r["lr"], r["depth"]) for r in got
        } == {(run.width, 4, "iris", "sgd", 0.1, 1)}
        assert [r["train_loss"] for r in got] == cols.train_loss
        assert [r["train_acc"] for r in got] == cols.train_acc
        assert [r["val_loss"] for r in got] == cols.val_loss
        assert [r["val_acc"] for r in got] == cols.val_acc
        assert [r["elapsed_s"] for r in got] == pytest.approx(cols.elapsed, abs=1e-6)
        assert [r["status"] for r in got] == cols.status
        assert got[-1]["status"] == "finished"


def test_recorder_writes_each_restarted_life_whole_and_in_order(make_experiment, tmp_path):
    exp = make_experiment(speed=0, epochs=10**6, widths=(5, 100), keep_retired=True)
    path = tmp_path / "hist.csv"
    rec = HistoryRecorder(exp, path, interval=0.005)
    lives = {run.index: [(run.seed, run.history)] for run in exp.runs}
    exp.start()
    rec.start()
    for _ in range(15):
        assert wait_until(lambda: all(len(r.history) >= 3 for r in exp.runs))
        exp.restart()
        for run in exp.runs:
            lives[run.index].append((run.seed, run.history))
    assert wait_until(lambda: all(len(r.history) >= 3 for r in exp.runs))
    assert exp.stop()
    rec.close()

    rows = list(iter_history(path))
    for run in exp.runs:
        got = [r for r in rows if r["run"] == run.index]
        expected = []
        for seed, history in lives[run.index]:
            cols = history.read()
            expected += [(seed, i + 1, loss) for i, loss in enumerate(cols.train_loss)]
        assert [(r["seed"], r["epoch"], r["train_loss"]) for r in got] == expected
        assert not run.retired  # every retired life was drained
    assert rec.rows_written == len(rows)


def test_recorder_keeps_rows_pending_when_the_disk_fails(make_experiment, tmp_path):
    exp = make_experiment(speed=0, epochs=10, widths=(5, 100))
    exp.start()
    assert exp.wait(20)
    path = tmp_path / "hist.jsonl"
    rec = HistoryRecorder(exp, path)
    real_write = rec.writer.write
    calls = []

    def failing_write(rows):
        calls.append(1)
        if len(calls) == 2:  # the second run's rows hit a full disk
            raise OSError(28, "No space left on device")
        return real_write(rows)

    rec.writer.write = failing_write
    rec.flush()
    assert rec.error is not None and "No space left" in rec.error
    rec.flush()  # retried: the first run's rows are not written twice
    assert rec.error is None
    rec.close()
    rec.close()  # closing twice is harmless
    rows = list(iter_history(path))
    assert sorted((r["run"], r["epoch"]) for r in rows) == [
        (run, epoch) for run in (0, 1) for epoch in range(1, 11)
    ]


def test_a_replayed_history_stores_the_recorded_ratios():
    h = RunHistory(n_train=0, n_val=0, has_val=True)
    h.append(1.0, 0.5, 0.9, 0.25, 0.1)
    h.append(0.8, 0.75, None, None, 0.2)
    cols = h.read()
    assert cols.train_acc == [0.5, 0.75]
    assert cols.val_acc[0] == 0.25 and math.isnan(cols.val_acc[1])

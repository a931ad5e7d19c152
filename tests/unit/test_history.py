"""RunHistory: the in-memory columns of one life, written by a run and read by another thread."""

from __future__ import annotations

import math
import threading
import time
from array import array

import numpy as np
from helpers import WAIT_S

from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import HEALTH_CODE, STATUS_CODE, Health, Status
from mlp_tui.core.task import INSTRUMENT_NAMES

RUNNING, DIVERGED = STATUS_CODE[Status.RUNNING], STATUS_CODE[Status.DIVERGED]
OK = HEALTH_CODE[Health.OK]


def f32(x: float) -> float:
    return array("f", [x])[0]


def row(loss, correct, elapsed, val_loss=None, val_correct=None) -> dict:
    """One epoch as `RunHistory.append` takes it (accuracies as counts of correct predictions)."""
    return {
        "train_loss": loss,
        "train_acc": correct,
        "val_loss": val_loss,
        "val_acc": val_correct,
        "elapsed_s": elapsed,
    }


def test_append_and_read_back():
    h = RunHistory(n_train=150)
    assert len(h) == 0 and h.last() is None and not h.has_val
    assert h.append(row(1.25, 75, 0.5), Status.RUNNING, Health.OK)
    assert h.append(row(0.75, 150, 1.0), Status.FINISHED, Health.STALLED)
    cols = h.read()
    assert len(cols) == 2 and cols.start == 0
    assert cols["train_loss"] == [1.25, 0.75]
    assert cols["train_acc"] == [0.5, 1.0]
    assert cols["elapsed_s"] == [0.5, 1.0]
    assert cols.status == [Status.RUNNING, Status.FINISHED]
    assert cols.health == [Health.OK, Health.STALLED]
    assert cols["val_loss"] == [None, None] and cols["val_acc"] == [None, None]
    last = h.last()
    assert all(math.isnan(last.pop(k)) for k in INSTRUMENT_NAMES)  # not read: empty
    assert last == {
        "epoch": 2,
        "train_loss": 0.75,
        "train_acc": 1.0,
        "val_loss": None,
        "val_acc": None,
        "elapsed_s": 1.0,
        "status": Status.FINISHED,
        "health": Health.STALLED,
    }


def test_extend_takes_columns_and_codes():
    h = RunHistory(n_train=4)
    cols = {"train_loss": [3.0, 2.0, 1.0], "train_acc": [1, 2, 4], "elapsed_s": [0.1, 0.2, 0.3]}
    assert h.extend(cols, [RUNNING, RUNNING, DIVERGED], [OK, HEALTH_CODE[Health.DIVERGING], OK])
    got = h.read()
    assert got["train_loss"] == [3.0, 2.0, 1.0]
    assert got["train_acc"] == [0.25, 0.5, 1.0]
    assert got.status == [Status.RUNNING, Status.RUNNING, Status.DIVERGED]
    assert got.health == [Health.OK, Health.DIVERGING, Health.OK]
    assert [got.record(i)["epoch"] for i in range(3)] == [1, 2, 3]


def test_losses_are_packed_as_float32_without_further_loss():
    h = RunHistory(n_train=3)
    h.append(row(0.1, 1, 0.0), Status.RUNNING, Health.OK)
    assert h.read()["train_loss"] == [f32(0.1)]
    assert f32(0.1) != 0.1  # the packing really is float32
    assert h.best("train_loss") == (f32(0.1), 1)


def test_closed_history_rejects_appends():
    h = RunHistory(n_train=10)
    assert h.append(row(1.0, 5, 0.1), Status.RUNNING, Health.OK)
    assert not h.closed
    h.close()
    assert h.closed
    assert h.append(row(0.5, 6, 0.2), Status.RUNNING, Health.OK) is False
    assert h.extend({"train_loss": [0.1], "train_acc": [1], "elapsed_s": [0.3]}, [0], [0]) is False
    assert len(h) == 1
    assert h.read()["train_loss"] == [1.0]
    assert h.best("train_loss") == (1.0, 1)  # a rejected epoch never becomes the best


def test_best_takes_the_first_minimum_and_ignores_nan():
    h = RunHistory(n_train=10)
    for loss in (2.0, 1.0, 1.0, 3.0, math.nan):
        h.append(row(loss, 1, 0.0), Status.RUNNING, Health.OK)
    assert h.best("train_loss") == (1.0, 2)
    assert h.best("val_loss") == (None, None)  # no validation set
    nan_only = RunHistory(n_train=10)
    assert nan_only.best("train_loss") == (None, None)
    nan_only.append(row(math.nan, 0, 0.0), Status.DIVERGED, Health.OK)
    assert nan_only.best("train_loss") == (None, None)


def test_best_is_kept_per_loss_metric():
    h = RunHistory(n_train=10, n_val=5)
    h.append(row(2.0, 1, 0.0, 0.5, 1), Status.RUNNING, Health.OK)
    h.append(row(1.0, 1, 0.0, 0.75, 1), Status.RUNNING, Health.OK)
    h.append(row(1.5, 1, 0.0, 0.25, 1), Status.RUNNING, Health.OK)
    assert h.best("train_loss") == (1.0, 2)
    assert h.best("val_loss") == (0.25, 3)


def test_validation_columns_are_ratios_of_counts():
    h = RunHistory(n_train=120, n_val=30)
    assert h.has_val
    h.append(row(1.0, 60, 0.1, 0.9, 15), Status.RUNNING, Health.OK)
    h.append(row(0.8, 90, 0.2), Status.RUNNING, Health.OK)  # a missing pass: NaN / 0
    cols = h.read()
    assert cols["train_acc"] == [0.5, 0.75]
    assert cols["val_loss"][0] == f32(0.9) and math.isnan(cols["val_loss"][1])
    assert cols["val_acc"] == [0.5, 0.0]
    rec = cols.record(0)
    assert (rec["val_loss"], rec["val_acc"]) == (f32(0.9), 0.5)


def test_read_slices_clamp_and_number_epochs_from_one():
    h = RunHistory(n_train=1)
    for i in range(10):
        h.append(row(float(i), 1, float(i)), Status.RUNNING, Health.OK)
    cols = h.read(5, 100)
    assert cols.start == 5 and len(cols) == 5
    assert [cols.record(i)["epoch"] for i in range(len(cols))] == [6, 7, 8, 9, 10]
    assert cols["train_loss"] == [5.0, 6.0, 7.0, 8.0, 9.0]
    empty = h.read(20)
    assert len(empty) == 0 and empty.start == 10
    assert h.tail("train_loss", 3) == [7.0, 8.0, 9.0]
    assert h.tail("val_loss", 3) == []
    assert h.read(2, 4)["train_loss"] == [2.0, 3.0]


def test_column_reads_numpy_ratios_and_nan_for_a_missing_validation_set():
    h = RunHistory(n_train=4)
    for i in range(6):
        h.append(row(float(i), i % 5, 0.5 * i), Status.RUNNING, Health.OK)
    loss = h.column("train_loss", 1, 4)
    assert loss.dtype == np.float64 and loss.tolist() == [1.0, 2.0, 3.0]
    assert h.column("train_acc").tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 0.0]
    assert h.column("elapsed_s", 4, 100).tolist() == [2.0, 2.5]
    val = h.column("val_loss", 0, 3)
    assert len(val) == 3 and np.isnan(val).all()
    assert len(h.column("train_loss", 7)) == 0


def test_elapsed_reads_back_rounded_to_the_microsecond():
    h = RunHistory(n_train=1)
    h.append(row(1.0, 1, 1.23456789), Status.RUNNING, Health.OK)
    assert h.read()["elapsed_s"] == [round(f32(1.23456789), 6)]


def test_mark_last_and_memory_per_epoch():
    h = RunHistory(n_train=4)
    h.mark_last(Status.FINISHED)  # nothing to mark yet: no error
    h.append(row(1.0, 1, 0.0), Status.RUNNING, Health.CHANCE)
    h.mark_last(Status.FINISHED)
    assert h.read().status == [Status.FINISHED]
    assert h.read().health == [Health.CHANCE]  # the health is left alone
    for _ in range(99):
        h.append(row(1.0, 1, 0.0), Status.RUNNING, Health.OK)
    # float32 loss, time and 3 instruments, int32 count, a byte each for status and health.
    assert h.nbytes() == 26 * 100
    hv = RunHistory(n_train=4, n_val=2)
    hv.append(row(1.0, 1, 0.0, 1.0, 1), Status.RUNNING, Health.OK)
    assert hv.nbytes() == 34


def test_concurrent_reads_see_consistent_rows():
    h = RunHistory(n_train=100, n_val=10)
    n = 20_000
    bad: list[str] = []

    def writer() -> None:
        for i in range(n):
            h.append(row(float(i), i % 101, float(i), float(i), i % 11), Status.RUNNING, Health.OK)

    t = threading.Thread(target=writer)
    t.start()
    deadline = time.monotonic() + WAIT_S
    while t.is_alive() and time.monotonic() < deadline:  # reads while the writer appends
        size = len(h)
        cols = h.read(max(0, size - 50))
        lengths = {len(v) for v in cols.values.values()} | {len(cols.status), len(cols.health)}
        if len(lengths) != 1:
            bad.append(f"ragged read {lengths}")
        for i, loss in enumerate(cols["train_loss"]):
            if loss != cols.start + i or cols["val_loss"][i] != loss:
                bad.append(f"row {cols.start + i} holds {loss}")
    t.join(WAIT_S)
    assert not t.is_alive(), "the writer never finished"
    assert bad == []
    assert len(h) == n
    assert h.best("train_loss") == (0.0, 1)


def test_a_replayed_history_stores_the_recorded_ratios():
    h = RunHistory(n_train=0, n_val=0, has_val=True)
    h.append(row(1.0, 0.5, 0.1, 0.9, 0.25), Status.RUNNING, Health.OK)
    h.append(row(0.8, 0.75, 0.2), Status.RUNNING, Health.OK)
    cols = h.read()
    assert cols["train_acc"] == [0.5, 0.75]
    assert cols["val_acc"][0] == 0.25 and math.isnan(cols["val_acc"][1])
    assert h.column("val_acc").tolist()[0] == 0.25

"""The `--history` file written by HistoryRecorder while a live session trains: row for row what
the runs hold in memory, every life of a restarted run in order, a status row for a life that
failed or was stopped, whole lines only on a full disk (a real one: a file-size limit, and a
tiny tmpfs where root may mount one), and a replay that reads every status and health back."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from disks import KINDS, PAGE, FsizeDisk, make_disk
from helpers import check_history_file, read_all, wait_until

from mlp_tui.core.config import ExperimentConfig, run_meta
from mlp_tui.core.contract import LifeRecord
from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import (
    HEALTHS,
    RECORD_STATUSES,
    Health,
    Status,
)
from mlp_tui.core.task import CLASSIFICATION
from mlp_tui.engine.step import Trainer
from mlp_tui.persist.codec import encode_rows
from mlp_tui.persist.reader import HistoryReader
from mlp_tui.persist.recorder import HistoryRecorder, encode_history
from mlp_tui.session.replay import ReplaySession

SUFFIXES = pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
DISK_PAGES = 64  # the tmpfs: 256 KiB
ROOM_PAGES = 2  # left for the history once the filler is written
ENDS = (Status.FINISHED, Status.STOPPED, Status.DIVERGED, Status.FAILED)

HISTORY_COLUMNS, METRIC_NAMES = CLASSIFICATION.history_columns, CLASSIFICATION.metric_names


def _wait_ended(runner, timeout: float = 60.0) -> None:
    assert wait_until(lambda: runner.session.ended, timeout=timeout), "runs did not end"


def _expected(life: LifeRecord) -> list[dict[str, object]]:
    """The epoch rows a life's history holds, with its settings."""
    cols = life.history.read()
    return [{**life.meta, **cols.record(i)} for i in range(len(cols))]


def _same(a: object, b: object) -> bool:
    """Equal, with None and NaN one value (JSONL has no NaN)."""
    gone = a is None or isinstance(a, float) and math.isnan(a)
    if gone or b is None or isinstance(b, float) and math.isnan(b):
        return gone and (b is None or isinstance(b, float) and math.isnan(b))
    return a == b


def _assert_rows_equal(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        bad = {c: (g[c], w[c]) for c in HISTORY_COLUMNS if not _same(g[c], w[c])}
        assert not bad, f"epoch {w['epoch']}: {bad}"


def _all_rows(path: Path) -> list[dict]:
    """Every row of a history file, status rows included, in file order."""
    with HistoryReader(path) as reader:
        return read_all(reader)


def _last_rows(path: Path) -> dict[int, dict]:
    return {row["run"]: row for row in _all_rows(path)}


def _is_status_row(row: dict, status: Status) -> bool:
    return row["status"] == status and all(row[m] is None for m in METRIC_NAMES)


@pytest.mark.parametrize(
    "suffix, cfg",
    [
        (".jsonl", "val"),
        (".csv", "val"),
        (".jsonl", "diverging"),
        (".csv", "diverging"),
    ],
)
def test_the_file_holds_the_runs_histories_row_for_row(make_runner, tmp_path, suffix, cfg):
    path = tmp_path / f"h{suffix}"
    fields = (
        dict(widths=(5, 100), epochs=120, val_split=0.2)
        if cfg == "val"
        else dict(widths=(5,), depth=4, lr=1e4, epochs=200)
    )
    runner = make_runner(history=path, speed=0, **fields)
    runner.start()
    _wait_ended(runner)
    assert runner.finish() == 0, runner.errors
    lives = runner.session.lives()
    in_file = check_history_file(path)
    assert list(in_file) == [(life.meta["run"], life.meta["seed"]) for life in lives]
    for life in lives:
        _assert_rows_equal(in_file[(life.meta["run"], life.meta["seed"])], _expected(life))
    # The last epoch says how each life ended: no status row after it.
    rows = _all_rows(path)
    assert len(rows) == sum(len(life.history) for life in lives)
    want = Status.FINISHED if cfg == "val" else Status.DIVERGED
    assert all(row["status"] == want for row in _last_rows(path).values())


@SUFFIXES
def test_restarts_write_every_life_in_order_with_the_new_seed(make_runner, tmp_path, suffix):
    path = tmp_path / f"h{suffix}"
    runner = make_runner(history=path, speed=200, epochs=400, widths=(5, 100))
    session = runner.session
    runner.start()
    for _ in range(2):
        assert wait_until(lambda: all(len(r.history) >= 5 for r in session.runs))
        session.restart()
    session.set_speed(0)
    _wait_ended(runner)
    assert runner.finish() == 0, runner.errors
    lives = session.lives()
    assert [(life.meta["run"], life.meta["seed"]) for life in lives] == [
        (run, seed) for run in (0, 1) for seed in (0, 1, 2)
    ]
    in_file = check_history_file(path)
    for life in lives:
        _assert_rows_equal(in_file[(life.meta["run"], life.meta["seed"])], _expected(life))
    for run in (0, 1):  # a run's lives follow one another: never back to an older seed
        seeds = [row["seed"] for row in _all_rows(path) if row["run"] == run]
        assert seeds == sorted(seeds) and set(seeds) == {0, 1, 2}
    replay = ReplaySession(path)
    assert [(r.seed, len(r.history), r.status) for r in replay.runs] == [
        (2, 400, Status.FINISHED)
    ] * 2


def _closing_statuses(rows: list[dict]) -> dict[tuple[int, int], Status]:
    """The status of each life's last row, keyed by (run, seed), in file order."""
    return {(row["run"], row["seed"]): Status(row["status"]) for row in rows}


@SUFFIXES
@pytest.mark.parametrize("path_", ["r", "R", "space+R", "c"])
def test_every_life_ends_on_a_row_with_its_final_status(
    make_runner, tmp_path, monkeypatch, suffix, path_
):
    """A life a restart cut short (r, R, a paused run's R, a new configuration) closes on a
    `stopped` row in --history and in the E export, like a life the quit stopped (issue 36)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"h{suffix}"
    runner = make_runner(history=path, speed=200, epochs=100_000, widths=(5, 100))
    session = runner.session
    runner.start()
    assert wait_until(lambda: all(len(r.history) >= 5 for r in session.runs))
    if path_ == "r":
        session.restart()
    elif path_ == "R":
        session.restart(5)
    elif path_ == "space+R":
        session.toggle(5)
        assert wait_until(lambda: session.runs[0].status is Status.PAUSED)
        session.restart(5)
    else:
        session.reconfigure(replace(session.config, seed=10))
    assert wait_until(lambda: all(len(r.history) >= 5 for r in session.runs))
    exported = tmp_path / runner.export_history().rsplit(" ", 1)[-1]
    assert runner.finish() == 0, runner.errors  # q, Ctrl-C and TERM all end here
    check_history_file(path)
    lives = session.lives()
    assert len(lives) == 3 if path_ in ("R", "space+R") else 4
    closing = _closing_statuses(_all_rows(path))
    assert list(closing) == [(life.meta["run"], life.meta["seed"]) for life in lives]
    assert all(s is Status.STOPPED for s in closing.values()), closing
    # The E export, written while the new lives still ran: the cut lives are closed there too.
    runs_cut = (0,) if path_ in ("R", "space+R") else (0, 1)
    in_export = _closing_statuses(_all_rows(exported))
    assert [in_export[(run, 0)] for run in runs_cut] == [Status.STOPPED] * len(runs_cut)


@SUFFIXES
def test_a_stopped_run_gets_its_status_row_and_replays_stopped(make_runner, tmp_path, suffix):
    path = tmp_path / f"h{suffix}"
    runner = make_runner(history=path, speed=200, epochs=100_000, widths=(5, 100))
    runner.start()
    assert wait_until(lambda: all(len(r.history) >= 5 for r in runner.session.runs))
    assert runner.finish() == 0, runner.errors  # stops every run, then saves
    lives = runner.session.lives()
    in_file = check_history_file(path, min_rows=10)
    for life in lives:
        assert life.ended is Status.STOPPED
        _assert_rows_equal(in_file[(life.meta["run"], life.meta["seed"])], _expected(life))
    for run, row in _last_rows(path).items():
        assert _is_status_row(row, Status.STOPPED), row
        assert row["epoch"] == len(lives[run].history)
    following = ReplaySession(path, follow=True)  # the status row, not the end of the file
    assert [r.status for r in following.runs] == [Status.STOPPED] * 2
    assert following.ended
    following.stop()
    assert [r.status for r in ReplaySession(path).runs] == [Status.STOPPED] * 2


@SUFFIXES
@pytest.mark.parametrize("good_calls", [0, 3], ids=["at-once", "mid-run"])
def test_a_failed_run_replays_as_failed(make_runner, tmp_path, monkeypatch, suffix, good_calls):
    real = Trainer.compute

    def compute(self, room, until, ctl):
        self._test_calls = getattr(self, "_test_calls", 0) + 1
        if self._test_calls > good_calls:
            raise RuntimeError("injected fault")
        return real(self, room, until, ctl)

    monkeypatch.setattr(Trainer, "compute", compute)
    path = tmp_path / f"h{suffix}"
    runner = make_runner(history=path, speed=0, epochs=100_000, widths=(5, 100))
    runner.start()
    _wait_ended(runner)
    assert runner.finish() != 0
    assert [e for e in runner.errors if "RuntimeError: injected fault" in e] == runner.errors
    assert len(runner.errors) == 2
    lives = runner.session.lives()
    in_file = check_history_file(path, min_rows=0)
    for life in lives:
        assert life.ended is Status.FAILED
        assert (len(life.history) > 0) == (good_calls > 0)
        _assert_rows_equal(in_file.get((life.meta["run"], life.meta["seed"]), []), _expected(life))
    for run, row in _last_rows(path).items():
        assert _is_status_row(row, Status.FAILED), row
        assert row["epoch"] == len(lives[run].history)
    replay = ReplaySession(path)
    assert [r.status for r in replay.runs] == [Status.FAILED] * 2
    assert [len(r.history) for r in replay.runs] == [len(life.history) for life in lives]
    following = ReplaySession(path, follow=True)
    assert following.ended and [r.status for r in following.runs] == [Status.FAILED] * 2
    following.stop()


# --- a full disk ----------------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def small_disk(request, tmp_path):
    """A folder with room for ROOM_PAGES pages of history (EFBIG past a file-size limit, or
    ENOSPC on a 256 KiB tmpfs); `free()` makes room for everything."""
    disk = make_disk(request.param, tmp_path, room_pages=ROOM_PAGES, size_pages=DISK_PAGES)
    try:
        yield disk
    finally:
        disk.close()


@pytest.mark.parametrize("freed", [False, True], ids=["stays-full", "room-freed"])
def test_a_full_disk_keeps_the_rows_that_fit(small_disk, make_runner, freed):
    path = small_disk.dir / "h.jsonl"
    runner = make_runner(history=path, speed=100, epochs=100_000, widths=(5,))
    runner.start()
    assert wait_until(lambda: runner.problem is not None)
    assert str(path) in runner.problem
    assert not runner.session.ended  # said while it happens, not after
    runner.session.toggle()  # paused: no more rows than the freed room takes
    if freed:
        small_disk.free()
        assert wait_until(lambda: runner.problem is None)
    code = runner.finish()
    (life,) = runner.session.lives()
    want = _expected(life)
    in_file = check_history_file(path)[(0, 0)]  # whole lines, contiguous from epoch 1
    if freed:
        assert code == 0 and runner.errors == []
        _assert_rows_equal(in_file, want)
        assert _is_status_row(_all_rows(path)[-1], Status.STOPPED)
        return
    assert code != 0
    assert len(runner.errors) == 1 and str(path) in runner.errors[0]
    assert 0 < len(in_file) < len(want)
    _assert_rows_equal(in_file, want[: len(in_file)])
    next_line = encode_rows([want[len(in_file)]], "jsonl")
    assert small_disk.room(path) < len(next_line.encode())  # every row that fitted is there


class _Lives:
    """The two things a recorder asks of a session: its lives and its task's columns."""

    task = CLASSIFICATION

    def __init__(self, *lives: LifeRecord) -> None:
        self._lives = list(lives)

    def lives(self) -> list[LifeRecord]:
        return self._lives


def _failed_life_filling(room: int, line_bytes: int = 512) -> LifeRecord:
    """A failed life whose epoch rows are `line_bytes` each (its dataset name pads them) and
    fill exactly `room` bytes: its status row is the one line that does not fit."""

    def make(pad: int) -> LifeRecord:
        meta = run_meta(ExperimentConfig(), 0, 5, 0, 0, "cpu")
        meta["dataset"] = "d" * pad
        history = RunHistory(n_train=150)
        for _ in range(room // line_bytes):
            row = {"train_loss": 0.5, "train_acc": 100, "elapsed_s": 0.5}
            history.append(row, Status.RUNNING, Health.OK)
        return LifeRecord(0, meta, history, Status.FAILED)

    base = len(encode_rows([_expected(make(0))[0]], "jsonl"))
    life = make(line_bytes - base)
    assert {len(encode_rows([r], "jsonl")) for r in _expected(life)} == {line_bytes}
    return life


@pytest.fixture
def one_page(small_disk):
    """The small disk with room for one page (8 rows of 512 bytes: one-digit epochs)."""
    if isinstance(small_disk, FsizeDisk):
        small_disk.set_room(PAGE)
    else:
        (small_disk.dir / "filler-2").write_bytes(b"f" * (ROOM_PAGES - 1) * PAGE)
    return small_disk


def test_a_status_row_waits_for_room(one_page):
    life = _failed_life_filling(PAGE)
    path = one_page.dir / "h.jsonl"
    recorder = HistoryRecorder(_Lives(life), path)
    recorder.flush()
    assert path.stat().st_size == PAGE  # every epoch row, not the status row
    assert recorder.error is not None and str(path) in recorder.error
    one_page.free()
    assert recorder.close() is None
    assert _is_status_row(_all_rows(path)[-1], Status.FAILED)
    assert [r.status for r in ReplaySession(path).runs] == [Status.FAILED]


def test_a_status_row_that_never_fits_is_reported(one_page):
    path = one_page.dir / "h.jsonl"
    recorder = HistoryRecorder(_Lives(_failed_life_filling(PAGE)), path)
    recorder.flush()
    error = recorder.close()
    assert [r.status for r in ReplaySession(path).runs] == [Status.STOPPED]  # the row is lost
    assert error is not None and str(path) in error


# --- every status and health ------------------------------------------------------------------


def _life(index: int, end: Status, health: Health, epochs: int = 4) -> LifeRecord:
    """A life whose last epoch has `health` and that ended `end` (RUNNING: still training)."""
    meta = run_meta(ExperimentConfig(epochs=epochs), index, 5 + index, 0, index, "cpu")
    history = RunHistory(n_train=150)
    for e in range(1, epochs + 1):
        last = e == epochs
        loss = math.nan if last and end is Status.DIVERGED else 1.0 / e
        status = end if last and end in RECORD_STATUSES else Status.RUNNING
        row = {"train_loss": loss, "train_acc": 100 + e, "elapsed_s": 0.25 * e}
        history.append(row, status, health if last else HEALTHS[(index + e) % len(HEALTHS)])
    return LifeRecord(index, meta, history, end if end.ended else None)


@SUFFIXES
def test_replay_round_trips_every_status_and_health(tmp_path, suffix):
    cases = [(s, h) for s in (Status.RUNNING, *ENDS) for h in Health]
    lives = [_life(i, s, h) for i, (s, h) in enumerate(cases)]
    first = tmp_path / f"first{suffix}"
    first.write_text(encode_history(lives, suffix.lstrip(".")))

    def check(session: ReplaySession, following: bool) -> None:
        assert len(session.runs) == len(cases)
        for run, life, (status, health) in zip(session.runs, lives, cases):
            shown = Status.STOPPED if status is Status.RUNNING and not following else status
            assert (run.status, run.health) == (shown, health), run.index
            assert run.history.read().health == life.history.read().health
            assert len(run.history) == len(life.history)
        assert session.ended is (not following)  # a RUNNING one is still training

    check(ReplaySession(first), following=False)
    followed = ReplaySession(first, follow=True)
    check(followed, following=True)
    # A followed session's lives, recorded again, read back the same.
    again = tmp_path / f"again{suffix}"
    recorder = HistoryRecorder(followed, again)
    recorder.flush()
    assert recorder.close() is None
    followed.stop()
    check(ReplaySession(again), following=False)
    refollowed = ReplaySession(again, follow=True)
    check(refollowed, following=True)
    refollowed.stop()

"""Faults in the live app: a diverging run, exports that fail (missing folder, permission denied,
full disk), a history file on a full disk, a terminal shrunk to nothing. The app reports each,
keeps running, keeps its data, and recovers once the fault is gone."""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path

from helpers import check_history_file
from ui_helpers import epochs, header, notifications, press, resize, screen_text, wait_for

import mlp_tui.persist.files as files_module
from mlp_tui.core.schema import Status

SIZE = (160, 45)


class FaultyOs:
    """Stands in for the `os` module inside mlp_tui.persist.files: the named calls fail."""

    def __init__(self, **faults: BaseException) -> None:
        self.faults = faults

    def __getattr__(self, name: str):
        if name in self.faults:
            exc = self.faults[name]

            def fail(*_args, **_kwargs):
                raise exc

            return fail
        return getattr(os, name)


class FullDisk(FaultyOs):
    """`os.write` to the history file writes part of its data once, then fails with ENOSPC."""

    def __init__(self) -> None:
        super().__init__()
        self.full = True
        self.failures = 0
        self._torn = False

    def write(self, fd: int, data) -> int:
        if not self.full:
            return os.write(fd, data)
        self.failures += 1
        if not self._torn and len(data) > 1:  # a short write: half a line lands on the disk
            self._torn = True
            return os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _tmp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


async def test_a_diverged_run_stops_alone_and_is_shown(live_app):
    # At lr 1000 and depth 3 the width-1000 net blows up to NaN within a few epochs; width 5 only
    # bounces around (measured on iris, seed 0).
    app = live_app(widths=(5, 1000), depth=3, lr=1000.0, speed=300)
    async with app.run_test(size=SIZE) as pilot:
        small, wide = app.session.runs
        await wait_for(pilot, lambda: wide.status is Status.DIVERGED)
        assert small.status is Status.RUNNING
        frozen = len(wide.history)
        last = wide.history.last()
        assert last["status"] is Status.DIVERGED and last["train_loss"] != last["train_loss"]
        before = len(small.history)
        # The other run keeps advancing; the diverged one stopped recording.
        await wait_for(pilot, lambda: len(small.history) > before + 30)
        assert len(wide.history) == frozen
        # The table row of width 1000 says so.
        await wait_for(
            pilot,
            lambda: any(
                "diverged" in line and "1000" in line for line in screen_text(app).splitlines()
            ),
        )
        assert app.is_running


async def test_export_faults_are_shown_and_a_retry_writes_the_file(live_app, tmp_path, monkeypatch):
    target = tmp_path / "missing" / "final.csv"
    app = live_app(export=target)

    async def export() -> str:
        """Press `e` and return the one notification it brings."""
        shown = len(notifications(app))
        await press(pilot, "e")
        await wait_for(pilot, lambda: len(notifications(app)) > shown)
        assert len(notifications(app)) == shown + 1
        return notifications(app)[-1]

    async def export_fails(reason: str) -> None:
        message = await export()
        assert message == f"export failed: {reason}; press e to retry"
        assert app.is_running

    async def export_works() -> list[dict]:
        message = await export()
        assert message == f"table written to {target}, 3 of 3 runs still running"
        return list(csv.DictReader(target.open()))

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)

        # 1. The folder does not exist (yet).
        await export_fails("No such file or directory")
        assert not target.parent.exists()
        target.parent.mkdir()
        first = await export_works()
        assert [int(r["width"]) for r in first] == [5, 100, 1000]

        # 2. Permission denied at the rename: the old file stays whole, no temp file is left.
        denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr(files_module, "os", FaultyOs(replace=denied))
        await export_fails("Permission denied")
        assert list(csv.DictReader(target.open())) == first
        assert _tmp_files(target.parent) == []

        # 3. The disk is full (ENOSPC surfaces at fsync): same.
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(files_module, "os", FaultyOs(fsync=full))
        await export_fails("No space left on device")
        assert list(csv.DictReader(target.open())) == first
        assert _tmp_files(target.parent) == []

        # The runs never noticed; their data is intact and still growing.
        grown = epochs(app)
        assert all(int(r["epochs_done"]) <= n for r, n in zip(first, grown))
        await wait_for(pilot, lambda: all(a > b for a, b in zip(epochs(app), grown)))
        for run in app.session.runs:
            losses = run.history.column("train_loss")
            assert len(losses) == len(run.history) and all(x == x for x in losses)

        # The fault is gone: the retry writes the current table.
        monkeypatch.setattr(files_module, "os", os)
        rows = await export_works()
        assert all(int(r["epochs_done"]) > int(f["epochs_done"]) for r, f in zip(rows, first))
        assert _tmp_files(target.parent) == []


async def test_history_export_key_reports_a_full_disk(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(files_module, "os", FaultyOs(fsync=full))
        await press(pilot, "E")
        await wait_for(pilot, lambda: len(notifications(app)) == 1)
        assert notifications(app) == ["history export failed: No space left on device"]
        assert list(tmp_path.iterdir()) == []  # neither the file nor a temp file
        assert app.is_running
        monkeypatch.setattr(files_module, "os", os)
        await press(pilot, "E")
        await wait_for(pilot, lambda: len(notifications(app)) == 2)
        written = [p for p in tmp_path.glob("mlp-tui-history-*.csv") if p.stat().st_size]
        assert len(written) == 1
        assert notifications(app)[1] == f"history written to {written[0].name}"
        lives = check_history_file(written[0])
        assert {run for run, _seed in lives} == {0, 1, 2}


async def test_history_file_on_a_full_disk_keeps_whole_lines_and_catches_up(
    live_app, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    history = Path("h.csv")
    app = live_app(history=history, speed=300)
    async with app.run_test(size=SIZE) as pilot:
        recorder = app.runner.recorder
        await wait_for(pilot, lambda: recorder.rows_written >= 30)
        disk = FullDisk()
        monkeypatch.setattr(files_module, "os", disk)
        await wait_for(pilot, lambda: disk.failures >= 3 and recorder.error is not None)
        assert "No space left on device" in recorder.error
        await wait_for(pilot, lambda: "No space left on device" in screen_text(app))  # header
        # Cut back to whole lines: every line parses, nothing torn at the end.
        check_history_file(history)
        stuck = recorder.rows_written
        # Training goes on, in memory; nothing lands in the file while the disk is full.
        await wait_for(pilot, lambda: sum(epochs(app)) > stuck + 60)
        assert recorder.rows_written == stuck

        disk.full = False  # space again: the next flush writes every pending row
        await wait_for(pilot, lambda: recorder.error is None and recorder.rows_written > stuck)
        await wait_for(pilot, lambda: "No space left on device" not in screen_text(app))
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    lives = check_history_file(history)
    for run in app.session.runs:  # no gap, no duplicate, nothing lost
        assert len(lives[(run.index, run.seed)]) == len(run.history)


async def test_tiny_terminal_and_back_never_crashes(live_app):
    app = live_app(speed=60)  # enough to see every run move on after each size
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        for tiny in [(30, 8), (1, 1), (59, 14), (60, 15), (2, 40), (200, 3)]:
            await resize(pilot, *tiny)
            assert app.is_running
            small = tiny[0] < 60 or tiny[1] < 15
            assert app.screen.has_class("-too-small") == small
            if small and tiny[0] >= 30 and tiny[1] >= 2:
                await wait_for(pilot, lambda: "terminal too small" in screen_text(app))
            before = epochs(app)
            await resize(pilot, *SIZE)
            assert not app.screen.has_class("-too-small")
            await wait_for(pilot, lambda b=before: all(a > x for a, x in zip(epochs(app), b)))
            await wait_for(
                pilot,
                lambda: (
                    "terminal too small" not in (t := screen_text(app))
                    and "w=1000" in t
                    and header(app).startswith("RUNNING")
                ),
            )
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0

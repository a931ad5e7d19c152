"""Faults in the live app: a diverging run, exports that fail (missing folder, permission denied,
full disk), a history file on a full disk, a terminal shrunk to nothing. The app reports each,
keeps running, keeps its data, and recovers once the fault is gone."""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path

from textual.drivers.headless_driver import HeadlessDriver
from textual.events import Resize
from textual.geometry import Size
from ui_helpers import epochs, notifications, press, screen_text, wait_for

import mlp_tui.export as export_module
from mlp_tui.export import HISTORY_COLUMNS, iter_history, parse_history_line

SIZE = (160, 45)


class FaultyOs:
    """Stands in for the `os` module inside mlp_tui.export: the named calls fail."""

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


async def resize(pilot, width: int, height: int) -> None:
    """`pilot.resize_terminal` without its wait for an idle process (never, with runs busy)."""
    app = pilot.app
    size = Size(width, height)
    if isinstance(app._driver, HeadlessDriver):
        app._driver._size = size
    app.post_message(Resize(size, size))
    await pilot.pause(0.1)


def _tmp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


async def test_a_diverged_run_stops_alone_and_is_shown(live_app):
    # At lr 1000 and depth 3 the width-1000 net blows up to NaN within a few epochs; width 5 only
    # bounces around (measured on iris, seed 0).
    app = live_app(widths=(5, 1000), depth=3, lr=1000.0, speed=300)
    async with app.run_test(size=SIZE) as pilot:
        small, wide = app.session.runs
        await wait_for(pilot, lambda: wide.status == "diverged", timeout=20)
        assert small.status == "running"
        frozen = len(wide.history)
        last = wide.history.last()
        assert last.status == "diverged" and last.train_loss != last.train_loss  # NaN
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

    async def export(key: str = "e") -> str:
        """Press the key and return the notification it brings."""
        shown = len(app._notifications)
        await press(pilot, key)
        await wait_for(pilot, lambda: len(app._notifications) > shown)
        assert len(app._notifications) == shown + 1
        return notifications(app).splitlines()[-1]

    async def export_fails(reason: str) -> None:
        message = await export()
        assert message.startswith("export failed: ") and reason in message, message
        assert message.endswith("press e to retry")
        assert app.is_running

    async def export_works() -> list[dict]:
        message = await export()
        assert message == f"final table written to {target}"
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
        monkeypatch.setattr(export_module, "os", FaultyOs(replace=denied))
        await export_fails("Permission denied")
        assert list(csv.DictReader(target.open())) == first
        assert _tmp_files(target.parent) == []

        # 3. The disk is full (ENOSPC surfaces at fsync): same.
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(export_module, "os", FaultyOs(fsync=full))
        await export_fails("No space left on device")
        assert list(csv.DictReader(target.open())) == first
        assert _tmp_files(target.parent) == []

        # The runs never noticed; their data is intact and still growing.
        grown = epochs(app)
        assert all(int(r["epochs"]) <= n for r, n in zip(first, grown))
        await wait_for(pilot, lambda: all(a > b for a, b in zip(epochs(app), grown)))
        for run in app.session.runs:
            cols = run.history.read()
            assert len(cols) == len(run.history) and all(x == x for x in cols.train_loss)

        # The fault is gone: the retry writes the current table.
        monkeypatch.setattr(export_module, "os", os)
        rows = await export_works()
        assert all(int(r["epochs"]) > int(f["epochs"]) for r, f in zip(rows, first))
        assert _tmp_files(target.parent) == []


async def test_history_export_key_reports_a_full_disk(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(export_module, "os", FaultyOs(fsync=full))
        await press(pilot, "h")
        await wait_for(pilot, lambda: len(app._notifications) == 1)
        assert notifications(app) == "history export failed: No space left on device"
        assert list(tmp_path.iterdir()) == []  # neither the file nor a temp file
        monkeypatch.setattr(export_module, "os", os)
        await press(pilot, "h")
        await wait_for(pilot, lambda: len(app._notifications) == 2)
        written = list(tmp_path.glob("mlp-tui-history-*.csv"))
        assert len(written) == 1 and written[0].name in notifications(app)
        assert {row["run"] for row in iter_history(written[0])} == {0, 1, 2}


async def test_history_file_on_a_full_disk_keeps_whole_lines_and_catches_up(
    live_app, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    history = Path("h.csv")
    app = live_app(history=history, speed=300)
    async with app.run_test(size=SIZE) as pilot:
        recorder = app.session.recorder
        await wait_for(pilot, lambda: recorder.rows_written >= 30)
        disk = FullDisk()
        monkeypatch.setattr(export_module, "os", disk)
        await wait_for(pilot, lambda: disk.failures >= 3 and recorder.error is not None)
        assert "No space left on device" in recorder.error
        await wait_for(pilot, lambda: "No space left on device" in screen_text(app))  # header
        # Cut back to whole lines: every line parses, nothing torn at the end.
        text = history.read_text()
        assert text.endswith("\n")
        for line in text.splitlines()[1:]:
            parse_history_line(line, "csv")
        stuck = recorder.rows_written
        # Training goes on, in memory; nothing lands in the file while the disk is full.
        await wait_for(pilot, lambda: sum(epochs(app)) > stuck + 60)
        assert recorder.rows_written == stuck

        disk.full = False  # space again: the next flush writes every pending row
        await wait_for(pilot, lambda: recorder.error is None and recorder.rows_written > stuck)
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    lines = history.read_text().splitlines()
    assert lines[0] == ",".join(HISTORY_COLUMNS)
    rows = list(iter_history(history))
    for run in app.session.runs:
        got = [r["epoch"] for r in rows if r["run"] == run.index]
        assert got == list(range(1, len(run.history) + 1))  # no gap, no duplicate


async def test_tiny_terminal_and_back_never_crashes(live_app):
    app = live_app(speed=300)
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
                    and "RUNNING" in t
                ),
            )
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0

"""Signals against real processes: the headless runner and the TUI (under a pseudo-terminal) end
with the conventional status (128 + signal), a complete history file, and a restored terminal.

Every process is started at once by one module fixture (start-up, mostly importing torch, is the
cost), and each gets its signal once its history file has streamed a few dozen rows.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlp_tui.export import HISTORY_COLUMNS, parse_history_line

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ptys")

ROWS_BEFORE_SIGNAL = 60  # data rows in the history file before the signal is sent
ENTER_ALT, LEAVE_ALT = b"\x1b[?1049h", b"\x1b[?1049l"
COLS, LINES = 120, 40


@dataclass
class Child:
    name: str
    sig: int
    tui: bool
    history: Path
    trigger: str = "rows"  # "rows": after ROWS_BEFORE_SIGNAL rows; "alt": on entering the TUI
    proc: subprocess.Popen | None = None
    master: int = -1
    slave: int = -1
    tty_attrs: list | None = None
    tty_attrs_after: list | None = None
    output: bytearray = field(default_factory=bytearray)
    ready_at: float | None = None
    rows_at_signal: int = -1
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""


# Headless SIGTERM, SIGINT, SIGHUP and SIGKILL are covered by test_headless.py's interrupted runs.
CHILDREN = [
    ("tui-term", signal.SIGTERM, True, ".csv", "rows"),
    ("tui-hup", signal.SIGHUP, True, ".jsonl", "rows"),
    # The signal lands while the app is still starting (it has just entered the alternate
    # screen, and may not have mounted yet).
    ("tui-early-term", signal.SIGTERM, True, ".csv", "alt"),
]


def _data_rows(path: Path) -> int:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return max(0, data.count(b"\n") - (path.suffix == ".csv"))


def _start(child: Child, cwd: Path, extra: tuple[str, ...] = ()) -> None:
    cmd = [sys.executable, "-m", "mlp_tui", "--epochs", "1000000", "--speed", "300"]
    cmd += ["--history", str(child.history), *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    if not child.tui:
        child.proc = subprocess.Popen(
            [*cmd, "--headless"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return
    child.master, child.slave = os.openpty()
    fcntl.ioctl(child.slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLS, 0, 0))
    child.tty_attrs = termios.tcgetattr(child.slave)
    env.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(LINES))
    child.proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=child.slave,
        stdout=child.slave,
        stderr=child.slave,
        start_new_session=True,
    )


def _drain(children: list[Child], timeout: float) -> None:
    """Read whatever the TUIs wrote, so that none ever blocks on a full terminal."""
    fds = {c.master: c for c in children if c.master >= 0}
    if not fds:
        time.sleep(timeout)
        return
    ready, _, _ = select.select(list(fds), [], [], timeout)
    for fd in ready:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:  # EIO once the child is gone and the slave side is closed
            chunk = b""
        fds[fd].output += chunk


@pytest.fixture(scope="module")
def signalled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signals")
    children = [
        Child(name, sig, tui, folder / f"{name}{suffix}", trigger)
        for name, sig, tui, suffix, trigger in CHILDREN
    ]
    try:
        for c in children:
            _start(c, folder)
        deadline = time.monotonic() + 90
        pending = list(children)
        while pending:
            assert time.monotonic() < deadline, [c.name for c in pending]
            _drain(children, 0.02)
            for c in list(pending):
                if c.proc.poll() is not None:
                    pytest.fail(f"{c.name} ended early ({c.proc.returncode}): {bytes(c.output)}")
                if c.ready_at is None:
                    ready = (
                        ENTER_ALT in c.output
                        if c.trigger == "alt"
                        else _data_rows(c.history) >= ROWS_BEFORE_SIGNAL
                    )
                    if ready:
                        c.ready_at = time.monotonic()
                # Keep streaming a little, so the signal lands at an arbitrary point of a write.
                delay = 0.0 if c.trigger == "alt" else 0.3
                if c.ready_at is not None and time.monotonic() >= c.ready_at + delay:
                    c.rows_at_signal = _data_rows(c.history)
                    c.proc.send_signal(c.sig)
                    pending.remove(c)
        while any(c.proc.poll() is None for c in children):
            assert time.monotonic() < deadline, "a signalled process did not end"
            _drain(children, 0.02)
        for c in children:
            if c.tui:
                _drain([c], 0.05)  # the last bytes
                c.tty_attrs_after = termios.tcgetattr(c.slave)
            else:
                c.stdout, c.stderr = c.proc.communicate(timeout=30)
            c.returncode = c.proc.returncode
        yield {c.name: c for c in children}
    finally:
        for c in children:
            if c.proc is not None and c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()
            for fd in (c.master, c.slave):
                if fd >= 0:
                    os.close(fd)


def _check_history(path: Path, at_least: int) -> dict[int, int]:
    """Every line is whole and parses; each life of each run holds epochs 1, 2, 3, ...; at least
    `at_least` rows (what the file held when the signal was sent). Returns {run: last epoch}."""
    fmt = "csv" if path.suffix == ".csv" else "jsonl"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), "a torn last line"
    lines = text.splitlines()
    if fmt == "csv":
        assert lines.pop(0) == ",".join(HISTORY_COLUMNS)
    rows = [parse_history_line(line, fmt) for line in lines]
    assert len(rows) >= at_least > 0
    lives: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in rows:
        lives[(row["run"], row["seed"])].append(row["epoch"])
    assert sorted({run for run, _ in lives}) == [0, 1, 2]
    for life, epochs in lives.items():
        assert epochs == list(range(1, len(epochs) + 1)), life
    return {run: len(epochs) for (run, _), epochs in lives.items()}


def _assert_terminal_restored(c: Child) -> None:
    out = bytes(c.output)
    assert b"Traceback" not in out
    if ENTER_ALT in out:
        # The last alternate-screen switch leaves it, and the cursor is shown again after it.
        assert out.rfind(LEAVE_ALT) > out.rfind(ENTER_ALT), out[-400:]
        assert b"\x1b[?25h" in out[out.rfind(LEAVE_ALT) :]
    assert c.tty_attrs_after == c.tty_attrs, "the terminal was left in raw mode"


@pytest.mark.parametrize(("name", "status"), [("tui-term", 143), ("tui-hup", 129)])
def test_tui_signal_exits_128_plus_n_and_restores_the_terminal(signalled, name, status):
    c = signalled[name]
    assert c.returncode == status, bytes(c.output)[-2000:]
    assert ENTER_ALT in c.output
    _assert_terminal_restored(c)
    _check_history(c.history, c.rows_at_signal)


def test_tui_signal_during_start_up_still_restores_the_terminal(signalled):
    c = signalled["tui-early-term"]
    assert c.returncode == 143, bytes(c.output)[-2000:]
    _assert_terminal_restored(c)
    # The history file holds whole rows only (perhaps none yet).
    text = c.history.read_text(encoding="utf-8")
    assert text.startswith(",".join(HISTORY_COLUMNS) + "\n")
    assert text.endswith("\n")
    for line in text.splitlines()[1:]:
        parse_history_line(line, "csv")


def test_tui_exits_when_its_terminal_vanishes(tmp_path):
    """A dropped SSH session: the terminal is gone (writes fail) and SIGHUP arrives. The app
    must still save the history and the final table and end, with status 129."""
    history, export = tmp_path / "h.jsonl", tmp_path / "final.csv"
    child = Child("vanish", signal.SIGHUP, True, history, "rows")
    _start(child, tmp_path, ("--export", str(export)))
    proc = child.proc
    try:
        deadline = time.monotonic() + 60
        while _data_rows(history) < ROWS_BEFORE_SIGNAL:
            assert time.monotonic() < deadline and proc.poll() is None
            _drain([child], 0.02)
        os.close(child.master)  # the terminal goes away: every write now fails
        os.close(child.slave)
        child.master = child.slave = -1
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(timeout=15) == 129
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _check_history(history, ROWS_BEFORE_SIGNAL)
    rows = export.read_text().splitlines()
    assert len(rows) == 4 and all(",stopped," in r for r in rows[1:])

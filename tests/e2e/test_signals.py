"""Signals against the TUI (`mlp_tui.tui.app.run_app`, under a pseudo-terminal): it ends with the
conventional status (128 + signal), a complete history file and a restored terminal.

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
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import check_history_file, cli_command

from mlp_tui.persist.table import read_table

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ptys")

ROWS_BEFORE_SIGNAL = 60  # data rows in the history file before the signal is sent
ENTER_ALT, LEAVE_ALT = b"\x1b[?1049h", b"\x1b[?1049l"
COLS, LINES = 120, 40


@dataclass
class Child:
    name: str
    sig: int
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


# Headless SIGTERM, SIGINT, SIGHUP and SIGKILL: test_headless_signals.py.
CHILDREN = [
    ("tui-term", signal.SIGTERM, ".csv", "rows"),
    ("tui-hup", signal.SIGHUP, ".jsonl", "rows"),
    ("tui-int", signal.SIGINT, ".csv", "rows"),  # `kill -INT`: Ctrl-C is a key in raw mode
    # The signal lands while the app is still starting (it has just entered the alternate
    # screen, and may not have mounted yet).
    ("tui-early-term", signal.SIGTERM, ".csv", "alt"),
]


def _data_rows(path: Path) -> int:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return max(0, data.count(b"\n") - (path.suffix == ".csv"))


def _start(child: Child, cwd: Path, extra: tuple[str, ...] = ()) -> None:
    cmd = [*cli_command(), "--epochs", "1000000", "--speed", "300"]
    cmd += ["--history", str(child.history), *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
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
        Child(name, sig, folder / f"{name}{suffix}", trigger)
        for name, sig, suffix, trigger in CHILDREN
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
            _drain([c], 0.05)  # the last bytes
            c.tty_attrs_after = termios.tcgetattr(c.slave)
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


def _check_history(path: Path, at_least: int) -> None:
    """The shared checker, with at least `at_least` rows (what the file held when the signal
    was sent), from every run."""
    assert at_least > 0
    lives = check_history_file(path, min_rows=at_least)
    assert sorted(run for run, _ in lives) == [0, 1, 2]


def _assert_terminal_restored(c: Child) -> None:
    out = bytes(c.output)
    if ENTER_ALT in out:
        # The last alternate-screen switch leaves it, and the cursor is shown again after it.
        assert out.rfind(LEAVE_ALT) > out.rfind(ENTER_ALT), out[-400:]
        assert b"\x1b[?25h" in out[out.rfind(LEAVE_ALT) :]
    assert c.tty_attrs_after == c.tty_attrs, "the terminal was left in raw mode"


@pytest.mark.parametrize(
    ("name", "status"), [("tui-term", 143), ("tui-hup", 129), ("tui-int", 130)]
)
def test_tui_signal_exits_128_plus_n_and_restores_the_terminal(signalled, name, status):
    c = signalled[name]
    assert c.returncode == status, bytes(c.output)[-2000:]
    assert ENTER_ALT in c.output
    assert b"Traceback" not in c.output
    _assert_terminal_restored(c)
    _check_history(c.history, c.rows_at_signal)


def test_tui_signal_during_start_up_still_restores_the_terminal(signalled):
    c = signalled["tui-early-term"]
    assert c.returncode == 143, bytes(c.output)[-2000:]
    _assert_terminal_restored(c)
    # The history file holds its header and whole rows only (perhaps none yet).
    check_history_file(c.history, min_rows=0)


def test_tui_signal_during_start_up_prints_no_traceback(signalled):
    c = signalled["tui-early-term"]
    assert b"Traceback" not in c.output and b"Error" not in c.output, bytes(c.output)[-2000:]


def test_tui_exits_when_its_terminal_vanishes(tmp_path):
    """A dropped SSH session: the terminal is gone (writes fail) and SIGHUP arrives. The app
    must still save the history and the final table and end, with status 129."""
    history, export = tmp_path / "h.jsonl", tmp_path / "final.csv"
    child = Child("vanish", signal.SIGHUP, history, "rows")
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
        assert proc.wait(timeout=30) == 129
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _check_history(history, ROWS_BEFORE_SIGNAL)
    rows = read_table(export)
    assert [(r["width"], r["status"]) for r in rows] == [
        (5, "stopped"),
        (100, "stopped"),
        (1000, "stopped"),
    ]

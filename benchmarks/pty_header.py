"""What a user waits for: wall time from exec to the first drawn header, in a real terminal.

`mlp-tui` (the installed console script, the default experiment) is started on a fresh pty of
160x45 with an empty config folder; the time runs from just before the spawn to the moment the
bytes it wrote hold the header's state word (`LOADING TORCH` or `RUNNING`, escape sequences
taken out). Then `q` ends it. Nothing is imported in this process: every cost the user pays
(interpreter, imports, the app's first frame) is in the figure.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Sequence

ANSI = re.compile(rb"\x1b(\[[0-9;?<>=$ ]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)")
STATES = (b"LOADING TORCH", b"RUNNING")  # the header's first word, whichever comes first
SIZE = (45, 160)  # rows, columns


def first_header_s(command: Sequence[str], timeout: float = 60.0) -> float:
    """Seconds from spawning `command` on a new pty to its first drawn header."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    with tempfile.TemporaryDirectory(prefix="mlp-tui-pty-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        env.update(TERM="xterm-256color", XDG_CONFIG_HOME=home, COLUMNS=str(SIZE[1]),
                   LINES=str(SIZE[0]))
        t0 = time.monotonic()
        proc = subprocess.Popen(list(command), stdin=slave, stdout=slave, stderr=slave, cwd=home,
                                env=env, start_new_session=True)
        os.close(slave)
        try:
            shown = _wait_for_header(master, t0 + timeout)
            os.write(master, b"q")
            _drain_until_exit(master, proc, time.monotonic() + timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
    return shown - t0


def _wait_for_header(master: int, deadline: float) -> float:
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.005)
        if not ready:
            continue
        try:
            seen += os.read(master, 1 << 16)
        except OSError:  # the child is gone
            break
        plain = ANSI.sub(b"", seen)
        if any(state in plain for state in STATES):
            return time.monotonic()
    raise RuntimeError(f"no header within the time allowed: {ANSI.sub(b'', seen)[-300:]!r}")


def _drain_until_exit(master: int, proc: subprocess.Popen, deadline: float) -> None:
    """Keep reading (a child blocked on a full pty never exits) until it has exited."""
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 1 << 16)
            except OSError:
                break

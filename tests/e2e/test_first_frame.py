"""The first frame comes before torch (#23): `mlp-tui` on a real pty draws its header, `LOADING
TORCH…`, before the experiment is built, then `RUNNING` once it trains. Order only, no timing
(the figure is benchmarks/pty_header.py's)."""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import sys
import time

import pytest
from helpers import WAIT_S, cli_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ptys")
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=$ ]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)")


def test_the_header_says_loading_torch_before_the_runs_train(tmp_path):
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env.update(TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.Popen([*cli_command(), "--epochs", "5000"], stdin=slave, stdout=slave,
                            stderr=slave, cwd=tmp_path, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 6 * WAIT_S
        while b"RUNNING" not in ANSI.sub(b"", seen) and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                seen += os.read(master, 1 << 16)
        plain = ANSI.sub(b"", seen)
        assert b"RUNNING" in plain, plain[-500:]
        assert b"LOADING TORCH" in plain and plain.index(b"LOADING TORCH") < plain.index(b"RUNNING")
        os.write(master, b"q")
        end = time.monotonic() + 6 * WAIT_S
        while proc.poll() is None and time.monotonic() < end:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        assert proc.wait(WAIT_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)

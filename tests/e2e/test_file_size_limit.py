"""A whole `mlp-tui --headless` run under a file-size limit (`ulimit -f`, RLIMIT_FSIZE): a full
disk anyone can make, no root or tmpfs needed. Nothing kills the process (Python ignores
SIGXFSZ, so a write past the limit fails with EFBIG); the history keeps every whole line that
fits and says how many rows it lost, the export fails whole and says so, and the exit status is 1.
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess

from helpers import check_history_file, cli_command

LIMIT = 4096  # bytes any one file may hold: a dozen history rows, not the table of 64 runs
RUNS, EPOCHS = 64, 20


def _limited() -> None:
    """In the child, before it runs mlp-tui: its files stop at LIMIT bytes."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def test_a_file_size_limit_keeps_whole_lines_says_what_is_lost_and_exits_1(tmp_path):
    argv = ["--headless", "--speed", "0", "--epochs", str(EPOCHS), "--widths", "5,100"]
    argv += ["--repeats", str(RUNS // 2)]
    argv += ["--history", "h.jsonl", "--export", "t.csv"]
    proc = subprocess.run(
        [*cli_command(), *argv],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited,
    )
    too_large = os.strerror(errno.EFBIG)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)  # not killed by SIGXFSZ
    assert "Traceback" not in proc.stderr
    assert f"cannot write h.jsonl: {too_large}" in proc.stderr  # said while it happened
    lost = [line for line in proc.stderr.splitlines() if "rows could not be saved" in line]
    assert len(lost) == 1 and lost[0].startswith("mlp-tui: error: history file h.jsonl: ")
    assert f"mlp-tui: error: --export t.csv: {too_large}" in proc.stderr.splitlines()

    # The history: whole lines, each life's epochs from 1 with no gap, as many as fit.
    history = tmp_path / "h.jsonl"
    lives = check_history_file(history)
    longest = max(len(line) + 1 for line in history.read_text().splitlines())
    assert LIMIT - longest < history.stat().st_size <= LIMIT
    rows = sum(map(len, lives.values()))
    assert f": {RUNS * EPOCHS - rows} rows could not be saved (" in lost[0]
    # The export failed as a whole: no table, no configuration beside it, no temp file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.jsonl"]
    # Training itself never noticed: the table on stdout (a pipe) has every run to its end.
    table = proc.stdout.split("\n\n")[0].splitlines()[1:]  # then the means over seeds
    assert len(table) == RUNS
    assert all(f" {EPOCHS}/{EPOCHS} " in row and " finished " in row for row in table), table

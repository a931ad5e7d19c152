"""Without a terminal on both ends (`mlp-tui < /dev/null | cat`, a cron job, a CI step) the app
runs headless: exit 0, the final table on stdout, one note on stderr, no traceback. Also the
process-level ends of the text face: stdout on a full disk, and `--help` into a pipe."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import DATA, check_history_file, cli_command

from mlp_tui.persist.table import read_table

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="ptys")

TRAIN = [*cli_command(), "--epochs", "20", "--speed", "0"]
REPLAY = [*cli_command(), "replay", str(DATA / "iris_seed0.jsonl")]
# name: (command, stdin is a terminal, stdout is a terminal)
CASES = {
    "devnull-to-pipe": (TRAIN, False, False),  # mlp-tui < /dev/null | cat
    "terminal-to-pipe": (TRAIN, True, False),  # mlp-tui | cat, typed at a terminal
    "devnull-to-terminal": (TRAIN, False, True),  # mlp-tui < /dev/null, at a terminal
    "replay-devnull-to-pipe": (REPLAY, False, False),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every case started at once: {name: (returncode, stdout, stderr)}."""
    folder = tmp_path_factory.mktemp("no-tty")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env["TERM"] = "xterm-256color"
    procs, fds = {}, []
    try:
        for name, (cmd, tty_in, tty_out) in CASES.items():
            master = slave = -1
            if tty_in or tty_out:
                master, slave = os.openpty()
                fds += [master, slave]
            procs[name] = (
                subprocess.Popen(
                    cmd,
                    cwd=folder,
                    env=env,
                    stdin=slave if tty_in else subprocess.DEVNULL,
                    stdout=slave if tty_out else subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                ),
                master,
                tty_out,
            )
        out: dict[str, tuple[int, str, str]] = {}
        deadline = time.monotonic() + 120
        terminal_output = {name: bytearray() for name in procs}
        for name, (proc, master, tty_out) in procs.items():
            if tty_out:  # read the terminal while the process runs
                while proc.poll() is None or select.select([master], [], [], 0)[0]:
                    assert time.monotonic() < deadline, name
                    if select.select([master], [], [], 0.05)[0]:
                        try:
                            terminal_output[name] += os.read(master, 1 << 16)
                        except OSError:
                            break
            stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if tty_out:
                stdout = bytes(terminal_output[name]).replace(b"\r\n", b"\n")
            out[name] = (proc.returncode, stdout.decode(), stderr.decode())
        yield out
    finally:
        for proc, _, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for fd in fds:
            os.close(fd)


@pytest.mark.parametrize("name", [n for n in CASES if not n.startswith("replay")])
def test_training_without_a_terminal_runs_headless(results, name):
    code, stdout, stderr = results[name]
    assert code == 0, stderr
    assert stderr == ("mlp-tui: not a terminal, running headless\n"
                      "mlp-tui: 3 runs finished, health ok\n")
    assert "\x1b[" not in stdout  # no TUI, no progress lines: only the table
    table = stdout.splitlines()
    assert len(table) == 4, stdout
    assert table[0].split()[:3] == ["width", "seed", "epochs"]
    for line, width in zip(table[1:], ("5", "100", "1000")):
        cells = line.split()
        assert cells[0] == width and cells[2] == "20/20" and "finished" in cells


def test_replay_without_a_terminal_prints_the_table(results):
    code, stdout, stderr = results["replay-devnull-to-pipe"]
    assert code == 0, stderr
    assert stderr.startswith("mlp-tui: not a terminal, running headless\nmlp-tui: ")
    assert stderr.count("\n") == 2 and "error" not in stderr  # then the closing summary
    table = stdout.splitlines()
    assert "final loss" in table[0] and len(table) >= 2
    assert "Traceback" not in stdout + stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_on_a_full_disk_still_writes_the_files_and_fails(tmp_path):
    """`mlp-tui --headless ... > /dev/full`: the files come first, so they are whole; the lost
    table is said on stderr and the exit status is 1 (a file, here stdout, was not written)."""
    argv = ["--headless", "--speed", "0", "--epochs", "30"]
    argv += ["--export", "t.csv", "--history", "h.jsonl"]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*cli_command(), *argv],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ("mlp-tui: error: standard output: No space left on device\n"
                           "mlp-tui: wrote t.csv, t.config.toml, h.jsonl\n"
                           "mlp-tui: 3 runs finished, health ok\n")
    rows = read_table(tmp_path / "t.csv")
    assert [(r["width"], r["epochs_done"], r["status"]) for r in rows] == [
        (5, 30, "finished"),
        (100, 30, "finished"),
        (1000, 30, "finished"),
    ]
    lives = check_history_file(tmp_path / "h.jsonl", min_rows=90)
    assert {key: len(rows) for key, rows in lives.items()} == {(0, 0): 30, (1, 0): 30, (2, 0): 30}


def test_help_into_a_pipe_exits_0_without_torch_or_sklearn():
    proc = subprocess.run(
        [*cli_command(), "--help"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stderr == ""
    for flag in ("--widths", "--epochs", "--speed", "--headless", "--export", "--history"):
        assert flag in proc.stdout
    check = (
        "import sys\n"
        "from mlp_tui.cli.main import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn'))\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

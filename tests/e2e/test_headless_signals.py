"""Headless runs stopped by a signal while they stream a history: SIGKILL leaves whole lines
(but perhaps a torn tail), SIGTERM, SIGINT and SIGHUP end with 128 + signal, a complete file
and a final table that says `stopped` and matches the file."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import check_history_file, cli_command, wait_until

from mlp_tui.persist.reader import HistoryReader

INTERRUPTS = {
    "kill": (signal.SIGKILL, ".csv"),
    "term": (signal.SIGTERM, ".jsonl"),
    "int": (signal.SIGINT, ".csv"),
    "hup": (signal.SIGHUP, ".jsonl"),
}
ROWS_BEFORE_SIGNAL = 60
WIDTH_RUN = {"5": 0, "100": 1, "1000": 2}  # the default widths, in run order


def _data_lines(path: Path) -> int:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return 0
    return max(0, text.count(b"\n") - (path.suffix == ".csv"))


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """Four long headless runs started together (to share the start-up cost), each stopped by
    its signal once it has streamed history for a while:
    {name: (returncode, stdout, stderr, history path, rows when signalled)}."""
    folder = tmp_path_factory.mktemp("interrupted")
    procs = {}
    try:
        for name, (_, suffix) in INTERRUPTS.items():
            path = folder / f"{name}{suffix}"
            cmd = [*cli_command(), "--headless", "--epochs", "1000000", "--speed", "200"]
            proc = subprocess.Popen(
                [*cmd, "--history", str(path)],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            procs[name] = (proc, path)
        for name, (proc, path) in procs.items():
            assert wait_until(
                lambda pr=proc, p=path: (
                    _data_lines(p) >= ROWS_BEFORE_SIGNAL or pr.poll() is not None
                ),
                60,
                0.05,
            ), name
            assert proc.poll() is None, (name, proc.communicate())
        time.sleep(0.5)  # keep streaming: the signal lands at an arbitrary point of a write
        at_signal = {}
        for name, (proc, path) in procs.items():
            at_signal[name] = _data_lines(path)
            proc.send_signal(INTERRUPTS[name][0])
        results = {}
        for name, (proc, path) in procs.items():
            out, err = proc.communicate(timeout=30)
            results[name] = (proc.returncode, out, err, path, at_signal[name])
        yield results
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _check(path: Path, allow_torn_tail: bool, at_least: int) -> dict[int, int]:
    """The shared checker, plus: every run is there with some epochs. Returns {run: epochs}."""
    lives = check_history_file(path, allow_torn_tail=allow_torn_tail, min_rows=at_least)
    assert sorted(run for run, _ in lives) == [0, 1, 2]
    assert all(len(rows) >= 1 for rows in lives.values())
    return {run: len(rows) for (run, _), rows in lives.items()}


def _last_status(path: Path) -> dict[int, str]:
    """Each run's status as its last row in the file states it."""
    with HistoryReader(path) as reader:
        rows = reader.read_new()
        assert not reader.more
    return {row["run"]: str(row["status"]) for row in rows}


def _table(out: str) -> dict[int, tuple[int, str]]:
    """{run: (epochs done, status)} from the text table on stdout."""
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0].split()[:3] == ["width", "seed", "epochs"], out
    table = {}
    for line in lines[1:]:
        cells = line.split()
        done, _total = cells[2].split("/")
        table[WIDTH_RUN[cells[0]]] = (int(done), cells[-3])
    return table


def test_sigkill_leaves_a_parseable_history(interrupted):
    code, _, _, path, at_signal = interrupted["kill"]
    assert code == -signal.SIGKILL
    _check(path, allow_torn_tail=True, at_least=at_signal)


@pytest.mark.parametrize(("name", "status"), [("term", 143), ("int", 130), ("hup", 129)])
def test_a_signal_exits_128_plus_n_with_a_complete_history(interrupted, name, status):
    """SIGHUP is a dropped SSH session. Everything trained before the stop reached the file,
    and a replay of it says each run was stopped."""
    code, out, err, path, at_signal = interrupted[name]
    assert code == status, err
    assert "Traceback" not in err
    epochs = _check(path, allow_torn_tail=False, at_least=at_signal)
    table = _table(out)
    assert table == {run: (epochs[run], "stopped") for run in (0, 1, 2)}
    assert _last_status(path) == {0: "stopped", 1: "stopped", 2: "stopped"}

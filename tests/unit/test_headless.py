"""Headless mode end to end: the acceptance run, and history files that survive signals."""

from __future__ import annotations

import io
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest
from engine_reference import assert_close, cli_command, plain_loop, wait_until

from mlp_tui.config import ExperimentConfig
from mlp_tui.export import HISTORY_COLUMNS, iter_history, parse_history_line, read_table
from mlp_tui.headless import run_headless


def test_acceptance_run_matches_the_plain_loop(tmp_path):
    proc = subprocess.run(
        [
            *cli_command(),
            "--headless",
            "--widths",
            "5,100,1000",
            "--epochs",
            "100",
            "--seed",
            "0",
            "--speed",
            "0",
            "--export",
            "final.csv",
            "--history",
            "hist.csv",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    table = proc.stdout.splitlines()
    assert len(table) == 4 and "final loss" in table[0]

    final = read_table(tmp_path / "final.csv")
    assert len(final) == 3
    assert [r["width"] for r in final] == [5, 100, 1000]
    assert {(r["epochs"], r["status"], r["seed"]) for r in final} == {(100, "finished", 0)}

    rows = list(iter_history(tmp_path / "hist.csv"))
    assert len(rows) == 300
    by_width = defaultdict(list)
    for row in rows:
        by_width[row["width"]].append(row)
    for width, final_row in zip((5, 100, 1000), final):
        got = by_width[width]
        assert [r["epoch"] for r in got] == list(range(1, 101))
        losses, accs = plain_loop(width, 0, 100)
        assert_close([r["train_loss"] for r in got], losses)
        assert_close([r["train_acc"] for r in got], accs)
        assert final_row["final_train_loss"] == got[-1]["train_loss"]
        assert final_row["best_train_loss"] == min(r["train_loss"] for r in got)
    assert (tmp_path / "hist.csv").read_text().endswith("\n")


def test_run_headless_in_process_writes_table_export_and_history(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    cfg = ExperimentConfig(widths=(5, 20), epochs=15, speed=0, val_split=0.2, seed=1)
    status = run_headless(cfg, tmp_path / "final.md", tmp_path / "hist.jsonl", out, err)
    assert status == 0
    assert err.getvalue() == ""  # not a terminal: no progress lines
    lines = out.getvalue().splitlines()
    assert "val loss" in lines[0] and len(lines) == 3
    final = read_table(tmp_path / "final.md")
    assert [(r["width"], r["epochs"], r["status"]) for r in final] == [
        (5, 15, "finished"),
        (20, 15, "finished"),
    ]
    assert all(0.0 <= r["final_val_acc"] <= 1.0 for r in final)
    rows = list(iter_history(tmp_path / "hist.jsonl"))
    assert len(rows) == 30


# --- interrupted writers ----------------------------------------------------------------------

INTERRUPTS = {
    "kill": (signal.SIGKILL, ".csv"),
    "term": (signal.SIGTERM, ".jsonl"),
    "int": (signal.SIGINT, ".csv"),
    "hup": (signal.SIGHUP, ".jsonl"),
}


def _data_lines(path: Path) -> int:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return 0
    return max(0, text.count(b"\n") - (path.suffix == ".csv"))


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """Four long headless runs started together (to share the start-up cost), each stopped by
    its signal once it has streamed history for a while: {name: (process, history path)}."""
    folder = tmp_path_factory.mktemp("interrupted")
    procs = {}
    try:
        for name, (_, suffix) in INTERRUPTS.items():
            path = folder / f"{name}{suffix}"
            procs[name] = (
                subprocess.Popen(
                    [
                        *cli_command(),
                        "--headless",
                        "--epochs",
                        "1000000",
                        "--speed",
                        "200",
                        "--history",
                        str(path),
                    ],
                    cwd=folder,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                path,
            )
        for name, (proc, path) in procs.items():
            assert wait_until(
                lambda pr=proc, p=path: _data_lines(p) >= 60 or pr.poll() is not None, 60, 0.05
            ), name
            assert proc.poll() is None, (name, proc.communicate())
        time.sleep(0.5)  # keep streaming: the signal lands at an arbitrary point of a write
        for name, (proc, _) in procs.items():
            proc.send_signal(INTERRUPTS[name][0])
        results = {}
        for name, (proc, path) in procs.items():
            out, err = proc.communicate(timeout=30)
            results[name] = (proc.returncode, out, err, path)
        yield results
    finally:
        for proc, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _check_history_file(path: Path, allow_torn_tail: bool) -> list[dict]:
    """Every whole line parses; epochs of each run life run 1, 2, 3, ... without a gap."""
    fmt = "csv" if path.suffix == ".csv" else "jsonl"
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    tail = lines.pop()  # "" when the file ends with a newline
    if not allow_torn_tail:
        assert tail == ""
    if fmt == "csv":
        assert lines.pop(0) == ",".join(HISTORY_COLUMNS)
    rows = [parse_history_line(line, fmt) for line in lines]
    assert rows == list(iter_history(path))
    lives = defaultdict(list)
    for row in rows:
        lives[(row["run"], row["seed"])].append(row["epoch"])
    assert sorted(run for run, _ in lives) == [0, 1, 2]
    for epochs in lives.values():
        assert epochs == list(range(1, len(epochs) + 1))
        assert len(epochs) >= 20
    return rows


def test_sigkill_leaves_a_parseable_history(interrupted):
    code, _, _, path = interrupted["kill"]
    assert code == -signal.SIGKILL
    _check_history_file(path, allow_torn_tail=True)


def test_sigterm_exits_143_with_a_complete_history(interrupted):
    code, out, err, path = interrupted["term"]
    assert code == 143, err
    rows = _check_history_file(path, allow_torn_tail=False)
    table = out.splitlines()
    assert len(table) == 4 and all("stopped" in line for line in table[1:])
    # Everything trained before the stop reached the file.
    last = {row["run"]: row["epoch"] for row in rows}
    for line in table[1:]:
        width, seed, epochs = line.split()[:3]
        run = {"5": 0, "100": 1, "1000": 2}[width]
        assert last[run] == int(epochs)


def test_sigint_exits_130_with_a_complete_history(interrupted):
    code, out, err, path = interrupted["int"]
    assert code == 130, err
    assert "Traceback" not in err
    _check_history_file(path, allow_torn_tail=False)
    assert len(out.splitlines()) == 4


def test_sighup_exits_129_with_a_complete_history(interrupted):
    """A dropped SSH session: workers stop, the history is whole, the table says `stopped`."""
    code, out, err, path = interrupted["hup"]
    assert code == 129, err
    assert "Traceback" not in err
    rows = _check_history_file(path, allow_torn_tail=False)
    last = {row["run"]: row["epoch"] for row in rows}
    table = out.splitlines()
    assert len(table) == 4 and all("stopped" in line for line in table[1:])
    for line in table[1:]:
        width, _seed, epochs = line.split()[:3]
        assert last[{"5": 0, "100": 1, "1000": 2}[width]] == int(epochs)

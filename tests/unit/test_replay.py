"""Replay of a recorded history: same final table as the live run; follow picks up new rows."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mlp_tui.cli import main
from mlp_tui.config import ExperimentConfig
from mlp_tui.export import HistoryFormatError
from mlp_tui.headless import run_headless
from mlp_tui.replay import ReplaySession

DATA = Path(__file__).parent.parent / "data"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_replay_reproduces_the_live_export(tmp_path, capsys, suffix):
    hist, live, again = tmp_path / f"h{suffix}", tmp_path / "live.csv", tmp_path / "replay.csv"
    cfg = ExperimentConfig(speed=0, epochs=150, val_split=0.2)
    assert run_headless(cfg, live, hist, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert main(["replay", str(hist), "--headless", "--export", str(again)]) == 0
    assert again.read_text() == live.read_text()
    assert capsys.readouterr().out.count("finished") == 3


def test_replay_of_a_diverged_run_keeps_nan_and_status():
    session = ReplaySession(DATA / "diverged.jsonl")
    statuses = {r.width: r.status for r in session.runs}
    assert statuses == {5: "stalled", 100: "diverged", 1000: "diverged"}
    rows = {r.width: r for r in session.summaries()}
    assert rows[100].epochs == 11 and str(rows[100].final_train_loss) == "nan"


def test_replay_rejects_a_garbage_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"run": 0, "epoch": "x"}\n')
    with pytest.raises(HistoryFormatError):
        ReplaySession(bad)


def test_follow_picks_up_rows_appended_after_it_started(tmp_path):
    hist = tmp_path / "h.jsonl"
    lines = (DATA / "iris_seed0.jsonl").read_text().splitlines(keepends=True)
    hist.write_text("".join(lines[:30]))
    session = ReplaySession(hist, follow=True, poll_s=0.02)
    session.start()
    try:
        first = sum(len(r.history) for r in session.runs)
        assert first == 30
        assert all(r.status == "running" for r in session.runs)
        with hist.open("a") as f:
            f.write("".join(lines[30:200]))
            f.write(lines[200][:10])  # a torn line: not read until its newline arrives
            f.flush()
            deadline = time.monotonic() + 5
            while sum(len(r.history) for r in session.runs) < 200 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sum(len(r.history) for r in session.runs) == 200
            f.write(lines[200][10:] + "".join(lines[201:]))
        deadline = time.monotonic() + 5
        while not session.all_ended and time.monotonic() < deadline:
            time.sleep(0.02)
        assert session.all_ended
        assert [len(r.history) for r in session.runs] == [120, 120, 120]
    finally:
        session.stop()


def test_follow_headless_ends_when_every_run_has_ended(tmp_path, capsys):
    """`replay --follow --headless` on a file another writer is still appending to."""
    hist = tmp_path / "h.csv"
    cfg = ExperimentConfig(speed=300, epochs=300, widths=(5, 100))
    writer = threading.Thread(
        target=run_headless,
        args=(cfg, None, hist),
        kwargs={"stdout": io.StringIO(), "stderr": io.StringIO()},
    )
    writer.start()
    try:
        deadline = time.monotonic() + 20
        while (not hist.exists() or hist.stat().st_size < 200) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert main(["replay", "--follow", "--headless", str(hist)]) == 0
    finally:
        writer.join(30)
    out = capsys.readouterr().out
    assert out.count("finished") == 2
    assert "300" in out


def test_replay_module_runs_without_textual_for_headless(tmp_path):
    code = (
        "import sys; from mlp_tui.replay import ReplaySession; "
        f"ReplaySession({str(DATA / 'iris_seed0.jsonl')!r}).summaries(); "
        "print(any(m.startswith('textual') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

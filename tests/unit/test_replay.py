"""ReplaySession: a recorded history replayed whole, or followed while another writer appends to
it. Old recordings still read; a replay of a live run's history reproduces the live export
exactly; following picks up rows, totals and statuses, and starts over (saying so) when the file
is truncated or replaced."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from helpers import DATA, wait_equal, wait_until

from mlp_tui.core.contract import Unsupported
from mlp_tui.core.schema import Health, Status
from mlp_tui.persist.codec import HistoryFormatError
from mlp_tui.persist.table import write_table
from mlp_tui.report.summary import summarize
from mlp_tui.session.replay import ReplaySession

LIVE_CONFIGS = {
    "val": dict(widths=(5, 100, 1000), epochs=150, val_split=0.2),
    "diverging": dict(widths=(5,), depth=4, lr=1e4, epochs=200),
}


def _lines(name: str) -> list[str]:
    return (DATA / name).read_text().splitlines(keepends=True)


def _epochs(session: ReplaySession) -> int:
    return sum(len(r.history) for r in session.runs)


@pytest.fixture
def follow():
    """Start followed sessions; each is stopped at teardown."""
    made: list[ReplaySession] = []

    def make(path, poll_s: float = 0.02) -> ReplaySession:
        session = ReplaySession(path, follow=True, poll_s=poll_s)
        made.append(session)
        session.start()
        return session

    yield make
    for session in made:
        assert session.stop(5.0), "the follow thread did not stop"


# --- recorded files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, epochs, has_val", [("iris_seed0.jsonl", 120, False), ("iris_val.jsonl", 150, True)]
)
def test_old_recordings_replay_whole(name, epochs, has_val):
    session = ReplaySession(DATA / name)
    assert session.kind == "replay" and session.ended and session.problem is None
    assert session.widths == (5, 100, 1000) and session.has_val is has_val
    last = {}
    for line in _lines(name):
        row = json.loads(line)
        last[row["run"]] = row
    for run in session.runs:
        # No `epochs` column in old files: the total is what was recorded.
        assert len(run.history) == run.total == epochs and run.meta["epochs"] is None
        assert (run.status, run.health) == (Status.FINISHED, Health.OK)
        row = summarize(run)
        assert row["epochs_done"] == epochs
        assert row["final_train_loss"] == last[run.index]["train_loss"]
        assert row["final_train_acc"] == last[run.index]["train_acc"]
        assert (row["final_val_loss"] is not None) is has_val
        assert row["seconds"] == last[run.index]["elapsed_s"]


def test_an_old_diverged_recording_keeps_nan_and_its_stalled_run():
    """Old files wrote a flat loss as a status, "stalled": now it is the health."""
    session = ReplaySession(DATA / "diverged.jsonl")
    states = {r.width: (r.status, r.health) for r in session.runs}
    assert states == {
        5: (Status.STOPPED, Health.STALLED),  # the recording ended while it trained
        100: (Status.DIVERGED, Health.OK),
        1000: (Status.DIVERGED, Health.OK),
    }
    rows = {r.width: summarize(r) for r in session.runs}
    assert rows[100]["epochs_done"] == 11 and math.isnan(rows[100]["final_train_loss"])
    assert rows[1000]["epochs_done"] == 6 and rows[5]["epochs_done"] == 120
    stalled = session.runs[0].history.read().health
    assert stalled[0] is Health.OK and stalled[-1] is Health.STALLED
    followed = ReplaySession(DATA / "diverged.jsonl", follow=True)
    assert followed.runs[0].status is Status.RUNNING and not followed.ended
    followed.stop()


def test_garbage_and_empty_files_are_refused(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"run": 0, "epoch": "x"}\n')
    with pytest.raises(HistoryFormatError):
        ReplaySession(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(HistoryFormatError, match="no history rows"):
        ReplaySession(empty)
    waiting = ReplaySession(empty, follow=True)  # following waits for rows instead
    assert waiting.runs == [] and not waiting.ended
    assert "waiting for rows in empty.jsonl" in waiting.describe()
    waiting.stop()


def test_a_replay_offers_no_controls():
    session = ReplaySession(DATA / "iris_seed0.jsonl")
    assert session.controls == frozenset() and session.config is None
    for control in (session.toggle, session.restart):
        with pytest.raises(Unsupported):
            control()


# --- the live export, reproduced ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
@pytest.mark.parametrize("cfg", list(LIVE_CONFIGS))
def test_a_replay_reproduces_the_live_export(make_runner, tmp_path, suffix, cfg):
    history, live = tmp_path / f"h{suffix}", tmp_path / "live.csv"
    runner = make_runner(export=live, history=history, speed=0, **LIVE_CONFIGS[cfg])
    runner.start()
    assert wait_until(lambda: runner.session.ended, timeout=60)
    assert runner.finish() == 0, runner.errors
    session = ReplaySession(history)
    replayed = [summarize(r) for r in session.runs]
    assert write_table(tmp_path / "again.csv", replayed).read_text() == live.read_text()
    for fmt in ("json", "md"):
        mine = write_table(tmp_path / f"live.{fmt}", runner.summaries()).read_text()
        assert write_table(tmp_path / f"again.{fmt}", replayed).read_text() == mine
    want = Status.FINISHED if cfg == "val" else Status.DIVERGED
    assert [r["status"] for r in replayed] == [want] * len(LIVE_CONFIGS[cfg]["widths"])


# --- following -------------------------------------------------------------------------------


def test_follow_picks_up_rows_appended_after_it_started(tmp_path, follow):
    hist = tmp_path / "h.jsonl"
    lines = _lines("iris_seed0.jsonl")
    hist.write_text("".join(lines[:30]))
    session = follow(hist)
    assert session.kind == "follow" and _epochs(session) == 30
    assert all(r.status is Status.RUNNING for r in session.runs) and not session.ended
    assert [r.total for r in session.runs] == [30]  # no `epochs` column: the rows so far
    with hist.open("a") as f:
        f.write("".join(lines[30:200]))
        f.write(lines[200][:10])  # a torn line: not read until its newline arrives
        f.flush()
        wait_equal(
            lambda: [(len(r.history), r.total, r.status) for r in session.runs],
            [(120, 120, Status.FINISHED), (80, 80, Status.RUNNING)],
        )
        assert not session.ended
        f.write(lines[200][10:] + "".join(lines[201:]))
    assert wait_until(lambda: session.ended)
    assert [(len(r.history), r.total, r.status) for r in session.runs] == [
        (120, 120, Status.FINISHED)
    ] * 3
    assert session.problem is None


@pytest.mark.e2e  # a real training writer, followed to its end
def test_follow_a_live_writer_until_every_run_ends(make_runner, tmp_path, follow):
    path = tmp_path / "h.csv"
    runner = make_runner(history=path, speed=200, epochs=300, widths=(5, 100))
    session = follow(path)  # the file holds only the header so far
    assert session.runs == [] and not session.ended
    runner.start()
    seen: list[tuple] = []

    def mid_run() -> bool:
        seen[:] = [(r.total, len(r.history), r.status) for r in session.runs]
        return len(seen) == 2 and all(0 < n < 300 for _, n, _ in seen)

    assert wait_until(mid_run, timeout=30), seen
    # The total comes from the `epochs` column, not from the rows read so far.
    assert [(total, status) for total, _, status in seen] == [(300, Status.RUNNING)] * 2
    assert wait_until(lambda: runner.session.ended, timeout=60)
    assert runner.finish() == 0, runner.errors
    assert wait_until(lambda: session.ended)
    assert [(r.total, len(r.history), r.status) for r in session.runs] == [
        (300, 300, Status.FINISHED)
    ] * 2
    assert session.problem is None


def test_truncation_and_rotation_start_over_and_say_so(tmp_path, follow):
    """Each new content lacks a run the old one had: what was read before must be dropped."""
    path = tmp_path / "h.jsonl"
    path.write_text("".join(_lines("iris_seed0.jsonl")))
    session = follow(path)
    assert session.widths == (5, 100, 1000) and session.problem is None

    with path.open("w") as f:  # truncated and rewritten in place
        f.write("".join(_lines("diverged.jsonl")[:50]))
    assert wait_until(lambda: "truncated" in (session.problem or ""))
    assert str(path) in session.problem
    wait_equal(
        lambda: [(r.width, r.meta["depth"], len(r.history)) for r in session.runs],
        [(5, 4, 45), (100, 4, 5)],
    )

    rotated = tmp_path / "new.jsonl"
    rotated.write_text("".join(_lines("iris_val.jsonl")[:20]))
    os.replace(rotated, path)  # log rotation: a new file under the same name
    assert wait_until(lambda: "replaced" in (session.problem or ""))
    wait_equal(
        lambda: [(r.width, r.meta["depth"], len(r.history)) for r in session.runs], [(5, 1, 20)]
    )
    assert session.has_val


def test_the_replay_modules_import_no_textual():
    code = (
        "import sys\n"
        "from mlp_tui.session.replay import ReplaySession\n"
        "from mlp_tui.report.summary import summarize\n"
        f"s = ReplaySession({str(DATA / 'iris_seed0.jsonl')!r})\n"
        "assert [summarize(r)['epochs_done'] for r in s.runs] == [120] * 3\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class Clock:
    """A clock the test moves: staleness without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_followed_run_with_no_new_epoch_reads_waiting_not_running(tmp_path):
    """#23: a writer that paused leaves its runs `waiting` (with the time since the last epoch)
    after STALE_S, never RUNNING with a rate; the next epoch makes them running again."""
    from mlp_tui.core.schema import STALE_S

    lines = (DATA / "iris_seed0.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "live.jsonl"
    path.write_text("".join(lines[:60]))  # run 0, epochs 1..60, still running
    clock = Clock()
    session = ReplaySession(path, follow=True, clock=clock)
    run = session.runs[0]
    assert run.status is Status.RUNNING and run.epochs_per_s is not None
    assert run.waiting_s is None
    clock.now += STALE_S + 9
    assert run.status is Status.WAITING and not run.status.ended and not session.ended
    assert run.epochs_per_s is None and run.waiting_s == pytest.approx(STALE_S + 9)
    with path.open("a") as f:
        f.write(lines[60])
    session.read_all()
    assert run.status is Status.RUNNING and run.waiting_s is None and len(run.history) == 61
    session.stop()

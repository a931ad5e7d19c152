"""Headless mode in process: the acceptance run, the files it writes, and a failing stdout.
Headless runs stopped by signals are in tests/e2e/test_headless_signals.py."""

from __future__ import annotations

import errno
import io
from collections import defaultdict

import pytest
from helpers import assert_close, check_history_file, plain_loop, wait_until

from mlp_tui.cli.main import main
from mlp_tui.faces.headless import run_headless
from mlp_tui.persist.table import read_table


def test_acceptance_run_matches_the_plain_loop(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["--headless", "--widths", "5,100,1000", "--epochs", "100", "--seed", "0"]
    argv += ["--speed", "0", "--export", "final.csv", "--history", "hist.csv"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    # not a terminal: no progress lines, only the closing summary (#23)
    assert err == ("mlp-tui: wrote final.csv, final.config.toml, hist.csv\n"
                   "mlp-tui: 3 runs finished, health ok\n")
    table = out.splitlines()
    assert len(table) == 4 and "final loss" in table[0]

    final = read_table(tmp_path / "final.csv")
    assert [r["width"] for r in final] == [5, 100, 1000]
    assert {(r["epochs_done"], r["status"], r["seed"]) for r in final} == {(100, "finished", 0)}

    lives = check_history_file(tmp_path / "hist.csv", min_rows=300)
    assert sorted(lives) == [(0, 0), (1, 0), (2, 0)]
    for run, (width, row) in enumerate(zip((5, 100, 1000), final)):
        got = lives[(run, 0)]
        assert len(got) == 100 and {r["width"] for r in got} == {width}
        losses, accs = plain_loop(width, 0, 100)
        assert_close([r["train_loss"] for r in got], losses)
        assert_close([r["train_acc"] for r in got], accs)
        assert row["final_train_loss"] == got[-1]["train_loss"]
        assert row["best_train_loss"] == min(r["train_loss"] for r in got)


@pytest.mark.parametrize(("export", "history"), [("final.md", "hist.jsonl"), ("t.json", "h.csv")])
def test_run_headless_writes_table_export_and_history(make_runner, tmp_path, export, history):
    runner = make_runner(
        export=tmp_path / export,
        history=tmp_path / history,
        widths=(5, 20),
        epochs=15,
        speed=0,
        val_split=0.2,
        seed=1,
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_headless(runner, out, err) == 0
    sidecar = (tmp_path / export).with_suffix(".config.toml")
    assert err.getvalue() == (f"mlp-tui: wrote {tmp_path / export}, {sidecar}, "
                              f"{tmp_path / history}\nmlp-tui: 2 runs finished, health ok\n")
    lines = out.getvalue().splitlines()
    assert "val loss" in lines[0] and len(lines) == 3
    final = read_table(tmp_path / export)
    assert [(r["width"], r["epochs_done"], r["status"]) for r in final] == [
        (5, 15, "finished"),
        (20, 15, "finished"),
    ]
    assert all(0.0 <= r["final_val_acc"] <= 1.0 for r in final)
    lives = check_history_file(tmp_path / history, min_rows=30)
    by_width = defaultdict(list)
    for rows in lives.values():
        by_width[rows[0]["width"]] += rows
    rel = 1e-3 if export.endswith(".md") else 0  # Markdown rounds to 4 significant digits
    for r in final:  # the table and the history tell the same story
        last = by_width[r["width"]][-1]
        assert r["final_train_loss"] == pytest.approx(last["train_loss"], rel=rel, abs=0)
        assert r["final_val_loss"] == pytest.approx(last["val_loss"], rel=rel, abs=0)


class FullStream(io.StringIO):
    """Standard output on a full disk (`> /dev/full`): a write or a flush raises ENOSPC."""

    def __init__(self, fail_on: str) -> None:
        super().__init__()
        self.fail_on = fail_on

    def _full(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def write(self, text: str) -> int:
        if self.fail_on == "write":
            self._full()
        return super().write(text)

    def flush(self) -> None:
        if self.fail_on == "flush":
            self._full()


@pytest.mark.parametrize("fail_on", ["write", "flush"])
def test_a_full_stdout_still_leaves_the_export_and_exits_non_zero(make_runner, tmp_path, fail_on):
    export = tmp_path / "t.csv"
    runner = make_runner(export=export, widths=(5, 7), epochs=4, speed=0)
    err = io.StringIO()
    code = run_headless(runner, FullStream(fail_on), err)
    assert code != 0
    assert err.getvalue() == ("mlp-tui: error: standard output: No space left on device\n"
                              f"mlp-tui: wrote {export}, {export.with_suffix('.config.toml')}\n"
                              "mlp-tui: 2 runs finished, health ok\n")
    rows = read_table(export)
    assert [(r["width"], r["epochs_done"], r["status"]) for r in rows] == [
        (5, 4, "finished"),
        (7, 4, "finished"),
    ]


def test_an_export_that_cannot_be_written_exits_1_and_says_so(make_runner, tmp_path):
    """The table still goes to stdout; the lost file is named on stderr."""
    export = tmp_path / "gone" / "t.csv"  # the folder vanished after the CLI's check
    runner = make_runner(export=export, widths=(5,), epochs=3, speed=0)
    out, err = io.StringIO(), io.StringIO()
    assert run_headless(runner, out, err) == 1
    assert len(out.getvalue().splitlines()) == 2
    message = err.getvalue()
    assert message.startswith(f"mlp-tui: error: --export {export}: ") and message.count("\n") == 2
    assert message.endswith("\nmlp-tui: 1 run finished, health ok\n")  # nothing said to be written
    assert not export.parent.exists()


def test_headless_ends_naming_the_runs_that_are_not_ok(make_runner, tmp_path):
    """#23: `--lr 1000 --headless` says which runs went bad on stderr, and what was written;
    a completed experiment with bad runs still exits 0 (a finding, not a failure)."""
    runner = make_runner(export=tmp_path / "t.csv", widths=(5, 7), lr=1000.0, epochs=60, speed=0)
    out, err = io.StringIO(), io.StringIO()
    assert run_headless(runner, out, err) == 0
    lines = err.getvalue().splitlines()
    assert lines == [f"mlp-tui: wrote {tmp_path / 't.csv'}, {tmp_path / 't.config.toml'}",
                     "mlp-tui: 2 runs finished; 2 of 2 runs not ok: w=5 diverging, w=7 diverging"]
    assert {r["health"] for r in read_table(tmp_path / "t.csv")} == {"diverging"}


def test_an_early_end_says_where_each_run_stopped(make_runner, tmp_path):
    """Issue 36: a quit at epoch 162 of 1000 never reads `3 runs, health ok`: the closing line
    says the runs stopped, and where; runs that ended apart are named one by one."""
    runner = make_runner(export=tmp_path / "mid.csv", widths=(5, 7), epochs=100_000, speed=500)
    runner.start()
    assert wait_until(lambda: all(len(r.history) >= 20 for r in runner.session.runs))
    runner.session.toggle(5)  # w=5 pauses; w=7 goes on, so the two stop at different epochs
    assert wait_until(lambda: len(runner.session.runs[1].history)
                      > len(runner.session.runs[0].history) + 5)
    assert runner.finish() == 0
    at = [len(r.history) for r in runner.session.runs]
    assert runner.summary()[-1] == (
        f"2 runs: 2 stopped (w=5 at epoch {at[0]} of 100000, w=7 at epoch {at[1]} of 100000), "
        "health ok")


def test_the_closing_line_names_each_way_of_ending(make_runner):
    """Finished runs are counted; a stop at one shared epoch is said once."""
    runner = make_runner(widths=(5, 7), epochs=30, speed=0)
    runner.start()
    assert wait_until(lambda: runner.session.ended)
    runner.finish()
    assert runner.summary() == ["2 runs finished, health ok"]
    runner = make_runner(widths=(5, 7), epochs=100_000, speed=0)
    runner.session.toggle()  # paused before the first epoch: both stop at the same place
    runner.start()
    runner.finish()
    assert runner.summary() == ["2 runs stopped before epoch 1 of 100000, health ok"]

"""The Python API (issue #38): keywords checked as the command line checks its flags, the same
error lines, results as DataFrames in the files' columns, a configuration that trains again, an
interrupt that returns what was computed, progress lines, and the TUI's result on quit."""

from __future__ import annotations

import _thread
import contextlib
import io
import threading

import numpy as np
import pandas as pd
import pytest

import mlp_tui
from mlp_tui.api import train as api_train
from mlp_tui.api.options import SettingError, invocation
from mlp_tui.cli.main import main as cli_main
from mlp_tui.core.task import CLASSIFICATION, REGRESSION
from mlp_tui.faces import progress as progress_face
from mlp_tui.faces.progress import GroupProgress, NotebookLines, TerminalLines, line

# The same bad experiment for both faces: the keywords and the flags that mean it.
BAD = [
    (dict(widths=[5, -1]), ["--widths", "5,-1"]),
    (dict(epochs=0), ["--epochs", "0"]),
    (dict(lr=[0.1, 0.1]), ["--lr", "0.1,0.1"]),
    (dict(val_split=1.5), ["--val-split", "1.5"]),
    (dict(task="regression"), ["--task", "regression"]),
    (dict(optimizer="rmsprop"), ["--optimizer", "rmsprop"]),
    (dict(stack=True, optimizer="adam"), ["--stack", "--optimizer", "adam"]),
    (dict(widths=[5, 100], seeds=[1]), ["--widths", "5,100", "--seeds", "1"]),
    (dict(dataset="nope"), ["--dataset", "nope"]),
    (dict(workers=2), ["--workers", "2"]),
    (dict(history="h.txt"), ["--history", "h.txt"]),
]


def cli_line(argv: list[str]) -> str:
    """What `mlp-tui ARGV` says on stderr for a bad value, after `mlp-tui: error: `."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli_main(argv) == 2
    text = err.getvalue()
    assert text.startswith("mlp-tui: error: ") and text.count("\n") == 1, text
    return text.removeprefix("mlp-tui: error: ").rstrip("\n")


@pytest.mark.parametrize(("keywords", "argv"), BAD, ids=[a[0] for _, a in BAD])
def test_a_bad_setting_raises_the_command_lines_line(keywords, argv):
    with pytest.raises(SettingError) as caught:
        mlp_tui.train(**keywords)
    assert str(caught.value) == cli_line(argv)
    exc = caught.value
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    frames = [tb.tb_frame.f_code.co_filename for tb in _frames(exc.__traceback__)]
    assert not any("/engine/" in f or "/session/" in f for f in frames), frames


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def test_an_unknown_keyword_is_named_with_the_likely_one():
    with pytest.raises(SettingError, match=r"unknown setting 'widht'; did you mean widths\?"):
        mlp_tui.train(widht=[5])
    with pytest.raises(SettingError, match="--standardize: expected True or False"):
        mlp_tui.train(standardize="yes")


def test_keywords_are_the_declared_settings_floats_exact_lists_grids():
    inv = invocation(dict(widths=(5, 100), lr=[0.123456789, np.float64(0.01)],
                          depth=np.int64(2), standardize=True), speed=0.0)
    cfg = inv.config
    assert cfg.widths == (5, 100) and cfg.lr == (0.123456789, 0.01) and cfg.depth == 2
    assert cfg.standardize is True and cfg.speed == 0.0
    assert invocation({}).config.speed == 20.0  # monitor(): the command line's pace


def test_train_returns_frames_in_the_files_columns():
    result = mlp_tui.train(widths=[5, 100], epochs=6, val_split=0.2, progress=False)
    assert list(result.history.columns) == list(CLASSIFICATION.history_columns)
    assert list(result.final.columns) == list(CLASSIFICATION.table_columns)
    assert len(result.history) == 12 and result.history["train_loss"].dtype == np.float64
    assert result.final["width"].tolist() == [5, 100]
    assert result.final["status"].tolist() == ["finished", "finished"]
    assert result.config.widths == (5, 100) and result.config.speed == 0.0
    assert not result.interrupted and result.errors == ()


def test_regression_frames_hold_the_tasks_metrics():
    result = mlp_tui.train(dataset="diabetes", standardize=True, widths=[8], epochs=3,
                           val_split=0.2, progress=False)
    assert list(result.history.columns) == list(REGRESSION.history_columns)
    assert result.history["val_r2"].notna().all()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_read_history_is_the_same_frame_as_train(tmp_path, suffix):
    result = mlp_tui.train(widths=[5, 100], epochs=5, val_split=0.2, progress=False)
    path = result.write_history(tmp_path / f"h{suffix}")
    pd.testing.assert_frame_equal(mlp_tui.read_history(path), result.history)


def test_read_history_of_a_tensorboard_log(tmp_path):
    pytest.importorskip("tensorboard")
    logdir = tmp_path / "tb"
    result = mlp_tui.train(widths=[5, 100], epochs=5, tensorboard=logdir, progress=False)
    read = mlp_tui.read_history(logdir)
    assert len(read) == 10 and read["name"].str.contains("_w5_|_w100_").all()
    for width in (5, 100):
        mine = result.history[result.history["width"] == width]["train_loss"].to_numpy()
        name = read["name"].str.contains(f"_w{width}_")
        assert np.array_equal(read[name]["train_loss"].to_numpy(), mine)


def test_the_config_trains_the_same_runs_again(tmp_path):
    first = mlp_tui.train(widths=[5], epochs=8, lr=0.05, progress=False)
    toml = first.write_config(tmp_path / "run.config.toml")
    assert "lr = 0.05" in toml.read_text()
    again = mlp_tui.train(config=toml, progress=False)
    same = mlp_tui.train(config=first.config, progress=False)
    for other in (again, same):
        assert np.array_equal(other.history["train_loss"], first.history["train_loss"])


def test_an_interrupt_stops_the_runs_and_returns_what_was_computed():
    # 2,000 epochs at 100 a second: 20 s if the interrupt were lost; it comes after 1 s.
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    try:
        result = mlp_tui.train(widths=[5, 100], epochs=2000, speed=100, progress=False)
    finally:
        timer.cancel()
    assert result.interrupted
    assert 0 < len(result.history) < 4000
    assert set(result.final["status"]) == {"stopped"}


def test_progress_draws_one_line_per_group_and_nothing_when_off(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(api_train, "output_for", lambda: TerminalLines(out))
    mlp_tui.train(widths=[5, 100], repeats=2, epochs=5, progress=True)
    last = out.getvalue().rsplit("\x1b[F", 1)[-1].split("\n")
    drawn = [ln.removeprefix("\x1b[2K") for ln in last if ln]
    assert len(drawn) == 2 and drawn[0].startswith("w=5 ") and drawn[1].startswith("w=100")
    assert all("10/10" in ln and "done" in ln for ln in drawn)
    monkeypatch.setattr(api_train, "output_for", lambda: pytest.fail("asked for an output"))
    mlp_tui.train(widths=[5], epochs=2, progress=False)


def test_a_lines_eta_is_the_time_left_at_its_pace():
    assert line(GroupProgress("w=5", 25, 100, 0.5, False), 10.0, 3).endswith("ETA 0:30")
    assert "[#####---------------]" in line(GroupProgress("w=5", 25, 100, 0.5, False), 1, 3)
    assert line(GroupProgress("w=5", 100, 100, 0.5, True), 65.0, 3).endswith("done 1:05")
    assert line(GroupProgress("w=5", 0, 100, None, False), 0.0, 3).endswith("ETA ?")


def test_a_notebook_gets_one_output_area_updated_in_place():
    shown = []

    class Handle:
        def update(self, obj, raw):
            shown.append(("update", obj["text/plain"]))

    def display(obj, raw, display_id):
        assert raw and display_id
        shown.append(("display", obj["text/plain"]))
        return Handle()

    lines = NotebookLines(display)
    lines(["a", "b"])
    lines(["c"])
    assert shown == [("display", "a\nb"), ("update", "c")]
    assert progress_face.output_for(io.StringIO()) is None  # not a terminal, not a notebook


def test_monitor_returns_the_same_result_when_the_user_quits(monkeypatch):
    from textual.app import App

    from mlp_tui.tui.app import MlpTuiApp

    async def quit_when_done(pilot):
        runner = pilot.app.runner
        for _ in range(600):  # up to 30 s
            if runner.session.runs and runner.session.ended:
                break
            await pilot.pause(0.05)
        await pilot.press("q")

    def run_headless(self, **_kw):
        return App.run(self, headless=True, size=(120, 40), auto_pilot=quit_when_done)

    monkeypatch.setattr(api_train, "_terminal", lambda: True)
    monkeypatch.setattr(MlpTuiApp, "run", run_headless)
    result = mlp_tui.monitor(widths=[5, 100], epochs=5, speed=0)
    assert isinstance(result, mlp_tui.TrainResult) and not result.interrupted
    assert result.final["status"].tolist() == ["finished", "finished"]
    assert list(result.history.columns) == list(CLASSIFICATION.history_columns)
    assert len(result.history) == 10


def test_monitor_without_a_terminal_says_to_use_train(monkeypatch):
    monkeypatch.setattr(api_train, "_terminal", lambda: False)
    with pytest.raises(RuntimeError, match="use mlp_tui.train"):
        mlp_tui.monitor(widths=[5], epochs=2)


def test_read_history_orders_a_file_whose_runs_interleave_as_train_does(tmp_path):
    """A live --history file interleaves its runs' rows as the recorder wrote them (CI once
    compared such a file with train() under load, and the order differed, not the numbers)."""
    result = mlp_tui.train(widths=[5, 100], epochs=4, progress=False)
    path = result.write_history(tmp_path / "h.csv")
    header, *rows = path.read_text().splitlines()
    first, second = rows[:4], rows[4:]
    woven = [r for pair in zip(first, second) for r in pair]  # run 0, run 1, run 0, ...
    path.write_text("\n".join([header, *woven]) + "\n")
    pd.testing.assert_frame_equal(mlp_tui.read_history(path), result.history)

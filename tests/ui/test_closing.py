"""What the app says once the terminal is back (#23): quitting names the files written and each
run whose health is not ok, on stderr, like headless does."""

from __future__ import annotations

import re

from helpers import WAIT_S, wait_until

from mlp_tui.core.schema import Health
from mlp_tui.tui import app as app_module


def test_quitting_the_tui_ends_with_the_summary_on_stderr(live_app, tmp_path, monkeypatch,
                                                          capsys):
    app = live_app(export=tmp_path / "q.csv", widths=(5,), lr=1000.0, epochs=60, speed=0)
    runner = app.runner

    def run(self) -> None:  # the app's life in short: train to the end, then `q`
        runner.start()
        assert wait_until(lambda: runner.session.ended, WAIT_S)

    monkeypatch.setattr(app_module.MlpTuiApp, "run", run)
    assert runner.session.runs[0].health is Health.OK  # nothing trained yet
    assert app_module.run_app(runner) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"mlp-tui: wrote {tmp_path / 'q.csv'}, {tmp_path / 'q.config.toml'}",
                   "mlp-tui: 1 run finished; 1 of 1 runs not ok: w=5 diverging"]


async def test_a_followed_file_gone_quiet_reads_waiting_in_the_header_and_rows(tmp_path):
    """#23: `replay --follow` of a history whose writer paused: after STALE_S the header and the
    rows say `waiting` and how long ago the last epoch came, never RUNNING with a rate."""
    from helpers import DATA
    from ui_helpers import drawn, header, screen_text, wait_for

    from mlp_tui.core.schema import STALE_S
    from mlp_tui.runner import Outputs, Runner
    from mlp_tui.session.replay import ReplaySession
    from mlp_tui.tui.app import MlpTuiApp

    lines = (DATA / "iris_seed0.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "live.jsonl"
    path.write_text("".join(lines[:60]))
    now = [1000.0]
    runner = Runner(ReplaySession(path, follow=True, clock=lambda: now[0]), Outputs())
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await drawn(pilot)
            assert header(app).startswith("RUNNING") and re.search(r"\d ep/s", screen_text(app))
            now[0] += STALE_S + 10
            await wait_for(pilot, lambda: "13s ago" in screen_text(app))
            head = header(app)
            assert head.startswith("WAITING  last epoch 13s ago · follow"), head
            text = screen_text(app)
            assert "running" not in text.lower() and not re.search(r"\d ep/s", text)
            assert " waiting " in text
    finally:
        runner.finish()


async def test_the_header_never_says_ended_above_a_row_that_says_running(live_app):
    """#23: at thousands of epochs a second the header read ALL RUNS ENDED while a row still
    read `running` until the next frame: the word and the rows change together."""
    from ui_helpers import drawn, header, wait_for

    app = live_app(widths=(5, 7), epochs=400, speed=0)
    async with app.run_test(size=(160, 45)) as pilot:
        await drawn(pilot)
        app._next_frame = float("inf")  # no frame after this one: only the header's ticks
        await wait_for(pilot, lambda: header(app).startswith("ALL RUNS ENDED"))
        shown = [row.status for row, _cells in app.table._shown.values()]
        assert len(shown) == 2 and all(s.ended for s in shown), shown


async def test_the_first_frame_comes_before_torch_and_training_start_behind_it(monkeypatch,
                                                                                tmp_path):
    """#23: a deferred live session (what the TUI gets) draws its frame and header at once,
    `LOADING TORCH…`, while the experiment (torch, scikit-learn, the data) is built behind it;
    a run key meanwhile says why it waits; then the runs appear and train."""
    import threading

    from ui_helpers import drawn, header, notifications, press, wait_for

    from mlp_tui.core.config import ExperimentConfig, validate
    from mlp_tui.runner import LOADING_NOTHING, Outputs, Runner
    from mlp_tui.session import live
    from mlp_tui.tui.app import MlpTuiApp

    monkeypatch.chdir(tmp_path)  # where `e` would write
    gate = threading.Event()
    built = live.Experiment

    def slow_experiment(cfg):  # the imports, held until the test lets them finish
        assert gate.wait(WAIT_S)
        return built(cfg)

    monkeypatch.setattr(live, "Experiment", slow_experiment)
    session = live.LiveSession(validate(ExperimentConfig(epochs=10_000, speed=50)), deferred=True)
    runner = Runner(session, Outputs())
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await drawn(pilot)
            assert header(app).startswith("LOADING TORCH…  iris · depth 1"), header(app)
            assert session.loading and not session.runs and not session.ended
            for key in ("p", "c"):  # nothing to pause or reconfigure yet: said, not silent
                await press(pilot, key)
                assert notifications(app)[-1] == "still loading torch and the data: a moment"
            for key in ("e", "E"):  # no table of runs that do not exist yet
                await press(pilot, key)
                assert notifications(app)[-1] == LOADING_NOTHING
            assert not runner.written
            gate.set()
            await wait_for(pilot, lambda: header(app).startswith("RUNNING"))
            assert len(session.runs) == 3 and not session.loading
            await wait_for(pilot, lambda: all(len(r.history) > 0 for r in session.runs))
    finally:
        gate.set()
        runner.finish()


def test_a_deferred_session_that_cannot_start_ends_and_says_why(monkeypatch):
    """The build behind the first frame fails (say the data cannot be read any more): the
    session ends, the header's problem and the exit message say why, the status is 1."""
    from mlp_tui.core.config import ExperimentConfig, validate
    from mlp_tui.runner import Outputs, Runner
    from mlp_tui.session import live

    def broken(cfg):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(live, "Experiment", broken)
    session = live.LiveSession(validate(ExperimentConfig()), deferred=True)
    runner = Runner(session, Outputs())
    runner.start()
    assert wait_until(lambda: session.ended, WAIT_S)
    assert not session.loading and not session.runs
    assert runner.problem == "could not start: OSError: [Errno 5] Input/output error"
    assert runner.finish() == 1 and runner.errors == [runner.problem]

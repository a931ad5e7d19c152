"""What the app says once the terminal is back (#23): quitting names the files written and each
run whose health is not ok, on stderr, like headless does."""

from __future__ import annotations

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
                   "mlp-tui: 1 of 1 runs not ok: w=5 diverging"]

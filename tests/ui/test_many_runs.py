"""A thousand replayed runs stay usable: every run has its table row, the plot draws the 16
widths around the cursor and follows only those, and the cursor moves the plot's window."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import send, wait_for

from mlp_tui.core.schema import Status
from mlp_tui.persist.codec import encode_rows
from mlp_tui.runner import Runner
from mlp_tui.session.replay import ReplaySession
from mlp_tui.tui.app import MlpTuiApp
from mlp_tui.view import MAX_PLOTTED

RUNS, EPOCHS = 1000, 3  # the runs are the load; three epochs give each a curve


def _status(epoch: int) -> str:
    return Status.FINISHED.value if epoch == EPOCHS else Status.RUNNING.value


def _history(path: Path) -> Path:
    meta = dict(dataset="iris", depth=1, repeat=0, seed=0, optimizer="sgd", lr=0.1,
                batch_size=0, val_split=0.0, standardize=False, epochs=EPOCHS, threads=1,
                device="cpu", val_loss=None, val_acc=None, health="ok")
    rows = [
        {**meta, "run": i, "width": i + 1, "epoch": e, "train_loss": 1.0 / e + i * 1e-3,
         "train_acc": 0.5, "elapsed_s": 0.01 * e, "status": _status(e)}
        for i in range(RUNS)
        for e in range(1, EPOCHS + 1)
    ]
    path.write_text(encode_rows(rows, "jsonl"))
    return path


async def test_a_thousand_runs_plot_the_widths_around_the_cursor(tmp_path):
    runner = Runner(ReplaySession(_history(tmp_path / "many.jsonl")))
    app = MlpTuiApp(runner)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.table.row_count == RUNS)
        await wait_for(pilot, lambda: len(app.plot.spec.series) == MAX_PLOTTED)
        assert [s.label for s in app.plot.spec.series][:2] == ["w=1", "w=2"]
        assert len(app.monitor.tracks) == MAX_PLOTTED  # only the plotted runs are followed
        app.table.move_cursor(row=500)
        await send(pilot, "down")
        await wait_for(pilot, lambda: "w=502" in [s.label for s in app.plot.spec.series])
        labels = [s.label for s in app.plot.spec.series]
        assert len(labels) == MAX_PLOTTED and "w=1" not in labels
        assert len(app.monitor.tracks) == MAX_PLOTTED
        await send(pilot, "q")
        await wait_for(pilot, lambda: not app.is_running)
    assert runner.finish() == 0

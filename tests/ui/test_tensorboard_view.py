"""A TensorBoard log directory written by a plain SummaryWriter script (not by mlp-tui), replayed
in the TUI: one row per run folder named by it, the scalar tags as the metrics `m` cycles
through, each tag drawn at its own steps."""

from __future__ import annotations

import numpy as np
import pytest
from ui_helpers import drawn, header, press, screen_text, wait_for

from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.tensorboard import TensorBoardSession
from mlp_tui.tui.app import MlpTuiApp

pytest.importorskip("tensorboard")


def write_logdir(root):
    """Two runs; 'Loss/train' every 2 steps from 0, 'eval/acc' every 10 steps from 0."""
    from torch.utils.tensorboard import SummaryWriter

    for name, k in (("baseline", 1.0), ("big_lr/seed1", 2.0)):
        w = SummaryWriter(str(root / name))
        for step in range(0, 100, 2):
            w.add_scalar("Loss/train", k / (step + 1), step)
            if step % 10 == 0:
                w.add_scalar("eval/acc", step / 100, step)
        w.close()
    return root


async def test_tags_are_the_metrics_and_steps_the_x_axis(tmp_path):
    runner = Runner(TensorBoardSession(write_logdir(tmp_path / "logs")), Outputs())
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await drawn(pilot)
            assert app.session.metrics == ("Loss/train", "eval/acc")
            # every point: sampled for a plot wider than the data (the screen's may group them)
            spec = app.monitor.plot_spec(max_points=1000)
            assert [s.label for s in spec.series] == ["baseline", "big_lr/seed1"]
            assert spec.x_label == "step" and spec.title.startswith("Loss/train")
            first = spec.series[0]
            assert np.array_equal(first.x, np.arange(0, 100, 2))
            y = 10**first.y if spec.log else first.y  # a log plot holds log10 values
            assert np.allclose(y, 1.0 / (np.arange(0, 100, 2) + 1))
            await press(pilot, "m")
            spec = app.monitor.plot_spec(max_points=1000)
            assert spec.title.startswith("eval/acc")
            assert np.array_equal(spec.series[1].x, np.arange(0, 100, 10))
            assert not spec.log
            assert np.allclose(spec.series[1].y, np.arange(0, 100, 10) / 100)
            await press(pilot, "m")
            assert app.plot.spec.title.startswith("Loss/train")  # m cycles through the tags only
            await wait_for(pilot, lambda: "big_lr/seed1" in (t := screen_text(app))
                           and "baseline" in t)
            assert "w=1" not in screen_text(app)  # no made-up width
            assert app.is_running
    finally:
        runner.finish()


async def test_every_view_key_on_a_log_keeps_the_app_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `e` and `E` write files here
    runner = Runner(TensorBoardSession(write_logdir(tmp_path / "logs")), Outputs())
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for key in ("left", "left", "right", "end", "escape", "x", "x", "w", "a", "w", "z",
                        "z", "z", "s", "S", "l", "o", "g", "g", "b", "v", "v", "p", "r", "e",
                        "E", "question_mark", "escape", "0"):
                await press(pilot, key)
            assert app.is_running and app.return_code is None
            assert app.plot.spec.title.startswith("Loss/train")
    finally:
        runner.finish()
    assert [p.name for p in tmp_path.glob("mlp-tui-*.csv")]  # the exports were written


async def test_a_damaged_event_file_is_said_in_the_header(tmp_path):
    """A record whose length claims gigabytes: the events before it are drawn, the header
    names the file and the byte (the whole line: a wide terminal)."""
    from hostile_files import event_records, frame, write_event_file

    write_event_file(tmp_path / "logs" / "run", event_records(range(10)),
                     tail=frame(b"x" * 10, length=16 << 30)[:12])
    runner = Runner(TensorBoardSession(tmp_path / "logs"), Outputs())
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(400, 30)) as pilot:
            await pilot.pause(0.3)
            top = header(app)
            assert "events.out.tfevents.1700000000.host.1.0: damaged at byte 458: a record " \
                   "claims 16 GiB, over the 64 MiB limit for an event record" in top, top
            assert "the events before it are shown" in top
            assert len(app.session.runs[0].history) == 10
    finally:
        runner.finish()

"""Replayed history files: what a file says is shown as data, never as markup, and extreme
values neither crash the plot nor the keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ui_helpers import drawn, header, notifications, press, screen_lines, screen_text, wait_for

from mlp_tui.core.schema import Status

EPOCHS = 30


def write_history(
    path: Path,
    dataset: str = "iris",
    acc_at: dict[int, float] | None = None,
    loss_at: dict[int, float] | None = None,
) -> Path:
    """A two-run JSONL history, written by hand (not by the code under test)."""
    lines = []
    for run, width in enumerate((5, 100)):
        for epoch in range(1, EPOCHS + 1):
            acc = 0.3 + epoch / 100
            if run == 0 and acc_at and epoch in acc_at:
                acc = acc_at[epoch]
            loss = (loss_at or {}).get(epoch, 1.0 / epoch) if run == 0 else 1.0 / epoch
            lines.append(json.dumps({
                "run": run, "dataset": dataset, "width": width, "depth": 1, "repeat": 0,
                "seed": 0, "optimizer": "sgd", "lr": 0.1, "epochs": EPOCHS, "epoch": epoch,
                "train_loss": loss, "train_acc": acc, "elapsed_s": epoch / 100,
                "status": "finished" if epoch == EPOCHS else "running", "health": "ok",
            }))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("dataset", ["[bold]x[/]", "[/bogus]", "[red]w=5[/red] [link=x]y"])
async def test_markup_in_a_dataset_name_shows_literally(replay_app, tmp_path, dataset):
    app = replay_app(write_history(tmp_path / "h.jsonl", dataset))
    async with app.run_test(size=(160, 45)) as pilot:
        await drawn(pilot)
        assert header(app).startswith(f"ALL RUNS ENDED  replay · {dataset} · depth 1 · ")
        await press(pilot, "question_mark", "escape", "m", "g")  # other redraws: no crash
        await wait_for(pilot, lambda: app.monitor.settings.grid)
        assert app.is_running and app.return_code is None
        assert header(app).startswith(f"ALL RUNS ENDED  replay · {dataset} · ")
        assert notifications(app) == []


async def test_metric_then_log_on_an_accuracy_of_1e300(replay_app, tmp_path):
    app = replay_app(write_history(tmp_path / "h.jsonl", acc_at={10: 1e300}))
    async with app.run_test(size=(120, 40)) as pilot:
        await drawn(pilot)
        await press(pilot, "m")
        assert app.monitor.settings.metric == "acc"
        auto = app.plot.spec
        # accuracy is never made log automatically (#23), however far 1e300 lies from 0.3
        assert not auto.log and auto.y_range == (pytest.approx(0.31), 1e300)
        await press(pilot, "l")
        spec = app.plot.spec
        assert spec.log and spec.y_range[1] == pytest.approx(300)
        await press(pilot, "l")
        spec = app.plot.spec
        assert not spec.log and spec.y_range == (pytest.approx(0.31), 1e300)
        assert app.is_running
        text = "\n".join(screen_lines(app))
        assert "1e+300" in text and "train accuracy" in text
        await press(pilot, "s", "x", "g")  # and the other views still draw
        await wait_for(pilot, lambda: "w=100" in screen_text(app))
        assert app.is_running
        assert [r.status for r in app.session.runs] == [Status.FINISHED] * 2


# Drives the app in a child process: a crash inside plotext's C++ code aborts the process.
DRIVE = """
import asyncio, sys
from mlp_tui.tui.app import MlpTuiApp
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.replay import ReplaySession

async def main(path, width, height, keys):
    runner = Runner(ReplaySession(path), Outputs())
    app = MlpTuiApp(runner)
    async with app.run_test(size=(width, height)) as pilot:
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.2)
        assert app.is_running
    runner.finish()
    print("alive")

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]))
"""


@pytest.mark.e2e  # a child process per case
@pytest.mark.parametrize(
    ("history", "size", "keys"),
    [
        ({"acc_at": {10: 1e300}}, (120, 40), ["m", "l", "o"]),
        ({"loss_at": {10: 1e9}}, (80, 24), ["l"]),  # a short plot clips outliers by itself
    ],
    ids=["accuracy-1e300-m-l-o", "loss-1e9-80x24-l"],
)
def test_a_huge_value_outside_a_clipped_range_does_not_crash(tmp_path, history, size, keys):
    path = write_history(tmp_path / "h.jsonl", **history)
    done = subprocess.run(
        [sys.executable, "-c", DRIVE, str(path), str(size[0]), str(size[1]), *keys],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "alive", done.stderr[-2000:]

"""The Python API against the command line, in processes of their own (issue #38's acceptance):
the same experiment's train losses bit for bit, and `import mlp_tui` loading nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from helpers import cli_command

import mlp_tui

HEAVY = ("torch", "pandas", "textual", "numpy", "sklearn", "plotext", "rich")


def test_train_matches_the_headless_command_line_bit_for_bit(tmp_path):
    history = tmp_path / "h.csv"
    done = subprocess.run(
        [*cli_command(), "--headless", "--speed", "0", "--widths", "5,100", "--epochs", "50",
         "--val-split", "0.2", "--history", str(history)],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    cli = mlp_tui.read_history(history)
    api = mlp_tui.train(widths=[5, 100], epochs=50, val_split=0.2, progress=False).history
    assert len(api) == len(cli) == 100
    for column in ("train_loss", "val_loss", "train_acc", "val_acc"):
        a, c = api[column].to_numpy(), cli[column].to_numpy()
        assert np.array_equal(a.view(np.uint64), c.view(np.uint64)), column  # every bit
    timing = ["elapsed_s"]
    assert api.drop(columns=timing).equals(cli.drop(columns=timing))


def test_import_mlp_tui_loads_nothing_heavy_and_is_instant():
    code = (
        "import sys, time, json; t = time.perf_counter(); import mlp_tui; "
        "s = time.perf_counter() - t; names = dir(mlp_tui); "
        f"print(json.dumps([s, [m for m in {HEAVY!r} if m in sys.modules], names]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    seconds, loaded, names = json.loads(done.stdout)
    assert loaded == []
    assert {"train", "monitor", "read_history", "TrainResult", "SettingError"} <= set(names)
    assert seconds < 0.5  # about 5 ms here; the bound only tells lazy from not

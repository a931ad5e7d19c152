"""`--tensorboard DIR`: the event files mlp-tui writes open in tensorboard's own reader, one
folder per life (configuration and seed in its name), every epoch present with the values the
runs hold, the settings as hyperparameters; without the package, one line and exit 2."""

from __future__ import annotations

import pytest
from helpers import wait_until
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlp_tui.cli.main import main
from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.persist import tensorboard as tb
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.live import LiveSession


def _runner(folder, **fields):
    session = LiveSession(validate(ExperimentConfig(**fields)))
    return Runner(session, Outputs(tensorboard=folder))


def _read(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every event
    acc.Reload()
    return acc


def test_every_epoch_of_every_life_is_in_its_own_folder(tmp_path):
    folder = tmp_path / "tb"
    runner = _runner(folder, widths=(5, 100), epochs=300, speed=300, val_split=0.2)
    try:
        runner.start()
        session = runner.session
        assert wait_until(lambda: all(len(r.history) >= 5 for r in session.runs), 60)
        session.restart(5)  # width 5's next life: seed 1, a folder of its own
        session.set_speed(0)
        assert wait_until(lambda: session.ended, 120)
    finally:
        assert runner.finish() == 0, runner.errors
    lives = session.lives()
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(tb.life_folder(life.meta) for life in lives)
    assert "run0_iris_w5_d1_sgd_lr0.1_bs0_seed1" in names and len(names) == 3
    for life in lives:
        acc = _read(folder / tb.life_folder(life.meta))
        assert set(acc.Tags()["scalars"]) == {"train_loss", "train_acc", "val_loss", "val_acc",
                                              "grad_norm", "weight_norm"}  # no sharpness read
        cols = life.history.read()
        for metric in ("train_loss", "val_acc"):
            events = acc.Scalars(metric)
            assert [e.step for e in events] == list(range(1, len(cols) + 1))
            assert [e.value for e in events] == pytest.approx(cols[metric], rel=1e-6)
        assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")
    # The life the restart cut short ended `stopped` (issue 36); the other two ran to the end.
    assert [life.ended for life in lives] == [Status.STOPPED, Status.FINISHED, Status.FINISHED]
    assert [len(life.history) == 300 for life in lives] == [False, True, True]


def test_hyperparameters_are_the_runs_settings(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    folder = tmp_path / "tb"
    runner = _runner(folder, widths=(7,), epochs=5, speed=0, lr=0.05, optimizer="adam")
    runner.start()
    assert wait_until(lambda: runner.session.ended, 60)
    assert runner.finish() == 0
    (run,) = folder.iterdir()
    content = _read(run).PluginTagToContent("hparams")["_hparams_/session_start_info"]
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert info.hparams["width"].number_value == 7
    assert info.hparams["optimizer"].string_value == "adam"
    assert info.hparams["lr"].number_value == pytest.approx(0.05)
    assert len(_read(run).Scalars("train_loss")) == 5
    assert "val_loss" not in _read(run).Tags()["scalars"]  # no validation set: no tag


def test_a_second_invocation_into_the_same_folder_gets_new_folders(tmp_path):
    folder = tmp_path / "tb"
    for _ in range(2):
        runner = _runner(folder, widths=(5,), epochs=3, speed=0)
        runner.start()
        assert wait_until(lambda r=runner: r.session.ended, 60)
        assert runner.finish() == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "run0_iris_w5_d1_sgd_lr0.1_bs0_seed0", "run0_iris_w5_d1_sgd_lr0.1_bs0_seed0-2"
    ]


def test_without_the_package_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(tb, "tensorboard_missing", lambda: True)
    assert main(["--headless", "--tensorboard", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mlp-tui: error: --tensorboard: needs the tensorboard package: "
        "pip install 'mlp-tui[tensorboard]'\n"
    )
    assert not (tmp_path / "tb").exists()


def test_a_file_is_not_a_log_folder(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["--headless", "--tensorboard", str(tmp_path / "f")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err

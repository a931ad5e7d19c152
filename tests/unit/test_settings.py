"""The run settings, declared once (core/settings.py): every consumer agrees with the table, and
what users already rely on (flags, columns, folder names, the header) did not move."""

from __future__ import annotations

from dataclasses import fields

import pytest
import tomllib

from mlp_tui.cli.args import parse_args
from mlp_tui.cli.parser import build_parser
from mlp_tui.core.config import ExperimentConfig, run_meta, validate
from mlp_tui.core.config_file import effective_toml
from mlp_tui.core.schema import RUN_FIELDS
from mlp_tui.core.settings import (
    FORM_SETTINGS,
    GRID_FIELDS,
    GRID_FLAGS,
    GRID_SHORT,
    SETTINGS,
    describe,
    recorded_values,
)
from mlp_tui.persist.tensorboard import life_folder

GRID = ExperimentConfig(depth=(1, 2), lr=(0.1, 0.01), optimizer=("sgd", "adam"),
                        batch_size=(0, 32), val_split=0.2, repeats=2)


def test_the_config_has_one_field_per_setting_with_its_default():
    assert [(f.name, f.default) for f in fields(ExperimentConfig)] == [
        (s.name, s.default) for s in SETTINGS
    ]


def test_every_setting_is_a_flag_with_its_help_and_default():
    actions = {a.option_strings[0]: a for a in build_parser()._actions if a.option_strings}
    for s in SETTINGS:
        action = actions[s.flag]
        assert action.help == s.help and action.dest == s.name
        if not s.switch:
            assert s.parse(action.default) == s.default, s.name


def test_the_command_line_builds_every_setting():
    argv = ["--depth", "1,2", "--lr", "0.1,0.01", "--optimizer", "sgd,adam",
            "--batch-size", "0,32", "--val-split", "0.2", "--repeats", "2"]
    assert parse_args(argv).config == validate(GRID)
    assert parse_args([]).config == validate(ExperimentConfig())


def test_the_grid_is_what_was_declared_so():
    assert GRID_FIELDS[:4] == ("depth", "lr", "optimizer", "batch_size")
    assert GRID_FLAGS["batch_size"] == "--batch-size"
    assert [GRID_SHORT[f] for f in GRID_FIELDS[:4]] == ["d", "lr", "opt", "batch"]
    assert [s.name for s in FORM_SETTINGS] == [
        "widths", "depth", "epochs", "lr", "optimizer", "weight_decay", "momentum", "dropout",
        "label_noise", "val_split", "speed"
    ]


def test_the_run_columns_keep_the_order_files_have_always_had():
    assert [f.name for f in RUN_FIELDS][:14] == [
        "run", "dataset", "width", "depth", "repeat", "seed", "optimizer", "lr", "batch_size",
        "val_split", "standardize", "epochs", "threads", "device",
    ]
    assert {f.name: f.kind for f in RUN_FIELDS}["standardize"] is bool


def test_the_sidecar_holds_every_set_setting_and_reads_back(tmp_path):
    cfg = validate(GRID)
    written = tomllib.loads(effective_toml(cfg))
    # Unset, left out: no --target, no --seeds, no --task (the data's own is read again)
    assert set(written) == {s.flag[2:] for s in SETTINGS} - {"target", "seeds", "task"}
    assert written["batch-size"] == [0, 32]
    path = tmp_path / "c.toml"
    path.write_text(effective_toml(cfg))
    assert parse_args(["--config", str(path)]).config == cfg


def test_a_tensorboard_folder_names_the_configuration_as_before():
    meta = run_meta(validate(GRID).points()[3], 3, 5, 1, 7, "cpu")
    assert life_folder(meta) == "run3_iris_w5_d1_adam_lr0.1_bs32_seed7"
    meta["dataset"] = "/data/my set.csv"
    assert life_folder(meta).startswith("run3_my_set_w5_")


@pytest.mark.parametrize("cfg, header", [
    (ExperimentConfig(), ["iris", "depth 1", "sgd lr 0.1", "100 epochs"]),
    (ExperimentConfig(repeats=3, stack=True),
     ["iris", "depth 1", "sgd lr 0.1", "100 epochs", "mean±std of 3 seeds, stacked"]),
    (GRID, ["iris", "depth 1,2", "sgd/adam lr 0.1,0.01", "batch full,32", "100 epochs",
            "validation", "mean±std of 2 seeds", "96 runs"]),
])
def test_one_description_of_a_configuration(cfg, header):
    assert validate(cfg).describe() == header


def test_a_recording_is_described_like_the_configuration_it_ran():
    cfg = validate(GRID)
    metas = [run_meta(p, i, w, 0, 0, "cpu") for i, (p, w) in
             enumerate((p, w) for p in cfg.points() for w in cfg.widths)]
    values = recorded_values(metas) | {"repeats": (cfg.repeats,)}
    assert describe(values, cfg.n_runs) == cfg.describe()
    assert describe(recorded_values([{"run": 0}])) == []  # a foreign log says nothing


@pytest.mark.parametrize("argv, line", [
    (["--depth", "0"], "--depth: must be between 1 and 64, got 0"),
    (["--lr", "0"], "--lr: must be above 0 and at most 10000, got 0.0"),
    (["--optimizer", "sgd,rmsprop"],
     "--optimizer: unknown value 'rmsprop' (choose from sgd, adam)"),
    (["--speed", "0.001"],
     "--speed: must be 0 (unthrottled) or between 0.01 and 1e+06 epochs a second, got 0.001"),
    (["--val-split", "1"], "--val-split: must be in [0, 1), got 1.0"),
    (["--device", "tpu"], "--device: unknown value 'tpu' (choose from auto, cpu, cuda)"),
    (["--seeds", "1,-2"], "--seeds: must be between 0 and 9223372036854775807, got -2"),
])
def test_the_declared_checks_say_what_they_always_said(argv, line):
    with pytest.raises(ValueError) as err:
        parse_args(argv)
    assert str(err.value) == line


@pytest.mark.parametrize("changes, line", [
    ({"optimizer": "rmsprop"}, "--optimizer: unknown optimizer 'rmsprop' (choose from sgd, adam)"),
    ({"device": "tpu"}, "--device: unknown device 'tpu' (choose from auto, cpu, cuda)"),
    ({"lr": (0.1, -1.0)}, "--lr: must be above 0 and at most 10000, got -1.0"),
    ({"epochs": 1.5}, "--epochs: expected a whole number, got 1.5"),
    ({"widths": ()}, "--widths: at least one width is needed"),
    ({"speed": float("nan")},
     "--speed: must be 0 (unthrottled) or between 0.01 and 1e+06 epochs a second, got nan"),
])
def test_a_config_built_in_code_is_checked_by_the_same_declarations(changes, line):
    with pytest.raises(ValueError) as err:
        validate(ExperimentConfig(**changes))
    assert str(err.value) == line


def test_a_setting_left_unset_by_default_reads_and_checks_none():
    """What a later `--task classification|regression` (inferred when omitted) needs."""
    from mlp_tui.core.settings import Setting
    from mlp_tui.core.values import Choice, ConfigError

    task = Setting("task", Choice(("classification", "regression"), "task"), None, "help")
    assert task.parse("") is None and task.text(None) == "" and task.check(None) is None
    assert task.parse("Regression") == "regression"
    with pytest.raises(ConfigError, match="unknown task 'ranking'"):
        task.check("ranking")

"""Grids: comma lists for --depth/--lr/--optimizer/--batch-size, the product of runs, limits."""

from __future__ import annotations

import pytest

from mlp_tui.cli.args import parse_args
from mlp_tui.core.config import MAX_RUNS, ConfigError, ExperimentConfig, validate
from mlp_tui.core.grid import group_name


def _cfg(*argv: str) -> ExperimentConfig:
    return parse_args([*argv, "--headless"]).config


def test_lists_make_the_product_of_runs():
    cfg = _cfg("--widths", "5,10", "--depth", "1,3", "--lr", "0.1,0.01,1",
               "--optimizer", "sgd,adam", "--batch-size", "0,16", "--repeats", "3")
    assert cfg.depth == (1, 3) and cfg.lr == (0.1, 0.01, 1.0)
    assert cfg.optimizer == ("sgd", "adam") and cfg.batch_size == (0, 16)
    assert cfg.grid_axes() == ("depth", "lr", "optimizer", "batch_size")
    points = cfg.points()
    assert len(points) == 2 * 3 * 2 * 2
    assert cfg.n_runs == 2 * len(points) * 3
    combos = {(p.depth, p.lr, p.optimizer, p.batch_size) for p in points}
    assert len(combos) == len(points)
    assert all(isinstance(p.depth, int) and isinstance(p.lr, float) for p in points)


def test_single_values_stay_scalars():
    cfg = _cfg("--depth", "2", "--lr", "0.5")
    assert cfg.depth == 2 and cfg.lr == 0.5 and cfg.grid_axes() == ()
    assert cfg.points() == [cfg]
    assert validate(ExperimentConfig(depth=(4,))).depth == 4


@pytest.mark.parametrize(
    ("argv", "flag", "words"),
    [
        (["--depth", "1,1"], "--depth", "listed twice"),
        (["--depth", "1,,2"], "--depth", "empty entry"),
        (["--depth", "1,99"], "--depth", "between 1 and 64"),
        (["--lr", "0.1,nan"], "--lr", "finite"),
        (["--optimizer", "sgd,rmsprop"], "--optimizer", "unknown value"),
        (["--batch-size", "8,-1"], "--batch-size", "between 0"),
        (["--depth", ",".join(str(d) for d in range(1, 18))], "--depth", "at most 16 values"),
    ],
)
def test_bad_lists_name_the_flag(argv, flag, words):
    with pytest.raises(ConfigError) as err:
        _cfg(*argv)
    assert err.value.flag == flag and words in err.value.problem


def test_run_limit_allows_256_and_refuses_above_the_cap():
    cfg = _cfg("--widths", ",".join(str(w) for w in range(1, 17)), "--depth", "1,2,3,4",
               "--repeats", "4")
    assert cfg.n_runs == 256 <= MAX_RUNS
    with pytest.raises(ConfigError) as err:
        _cfg("--widths", ",".join(str(w) for w in range(1, 17)), "--depth", "1,2,3,4,5,6,7",
             "--repeats", "15")
    assert f"at most {MAX_RUNS} runs" in str(err.value)
    assert "16 widths x 7 depths x 15 seeds make 1680" in str(err.value)


def test_bad_list_on_the_command_line_is_one_line(capsys):
    from mlp_tui.cli.main import main

    assert main(["--lr", "0.1,0.1", "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lr" in err and "Traceback" not in err


def test_group_names_name_only_what_varies():
    assert group_name(5, {}) == "w=5"
    assert group_name(5, {"depth": 2, "lr": 0.01}) == "w=5 d=2 lr=0.01"
    assert group_name(7, {"optimizer": "adam", "batch_size": 16}) == "w=7 opt=adam batch=16"


def test_experiment_trains_each_point(make_experiment):
    exp = make_experiment(widths=(5, 10), depth=(1, 2), lr=(0.1, 0.01), epochs=3, speed=0)
    metas = [r.meta for r in exp.runs]
    assert len(metas) == 8 and [m["run"] for m in metas] == list(range(8))
    assert {(m["width"], m["depth"], m["lr"]) for m in metas} == {
        (w, d, lr) for w in (5, 10) for d in (1, 2) for lr in (0.1, 0.01)
    }
    assert exp.runs[3].group == "w=5 d=2 lr=0.01"
    assert exp.runs[3].label == "w=5 d=2 lr=0.01"
    exp.start()
    assert exp.wait(60)
    losses = [r.history.read(2, 3)["train_loss"][0] for r in exp.runs]
    assert len(set(losses)) == 8  # each point trained with its own depth and lr
    # the capacity view draws one line per depth x lr, each over both widths
    from mlp_tui.report.capacity import capacity_points, line_label, varying

    points = capacity_points(exp.runs)
    keys = varying(points)
    assert keys == ("depth", "lr")
    lines = {line_label(p.line, keys): [] for p in points}
    for p in points:
        lines[line_label(p.line, keys)].append(p.width)
    assert sorted(lines) == [  # the table's words: d=1, not depth=1 (issue 36, item 6)
        "d=1 lr=0.01", "d=1 lr=0.1", "d=2 lr=0.01", "d=2 lr=0.1"
    ]
    assert all(widths == [5, 10] for widths in lines.values())
    # the same point alone gives the same numbers
    alone = make_experiment(widths=(5,), depth=2, lr=0.01, epochs=3, speed=0)
    alone.start()
    assert alone.wait(60)
    assert alone.runs[0].history.read(2, 3)["train_loss"][0] == losses[3]


def test_controls_apply_to_one_group(make_experiment):
    exp = make_experiment(widths=(5,), depth=(1, 2), repeats=2, epochs=10**6, speed=50)
    exp.start()
    exp.toggle("w=5 d=2")
    assert [r.paused for r in exp.runs] == [False, False, True, True]
    exp.restart("w=5 d=1")
    assert [r.seed for r in exp.runs] == [2, 3, 0, 1]


def test_headless_table_names_each_runs_configuration(capsys):
    from mlp_tui.cli.main import main

    assert main(["--widths", "5", "--depth", "1,2", "--lr", "0.1,0.01", "--epochs", "3",
                 "--speed", "0", "--headless"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["width", "depth", "lr"]
    assert [line.split()[:3] for line in lines[1:5]] == [
        ["5", "1", "0.1"], ["5", "1", "0.01"], ["5", "2", "0.1"], ["5", "2", "0.01"]
    ]

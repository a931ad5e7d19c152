"""`--config sweep.toml`: the flags' own names (either spelling), lists or comma strings, the
command line winning, one line and exit 2 for anything wrong; the effective configuration
written next to every export, in a form --config reads back."""

from __future__ import annotations

import pytest
import tomllib
from helpers import wait_until

from mlp_tui.cli.args import parse_args
from mlp_tui.cli.main import main
from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.config_file import effective_toml
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.live import LiveSession


def toml(tmp_path, text: str, name: str = "sweep.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_files_flags_and_the_command_line_winning(tmp_path):
    f = toml(tmp_path, 'widths = [5, 100]\nval_split = 0.2\nbatch-size = 16\n'
                       'optimizer = "adam"\nstandardize = true\nlr = 0.01\n')
    cfg = parse_args(["--config", f]).config
    assert (cfg.widths, cfg.val_split, cfg.batch_size, cfg.optimizer, cfg.standardize,
            cfg.lr) == ((5, 100), 0.2, 16, "adam", True, 0.01)
    cfg = parse_args(["--lr", "0.5", f"--config={f}", "--widths", "7"]).config
    assert (cfg.widths, cfg.lr, cfg.optimizer) == ((7,), 0.5, "adam")


def test_a_comma_string_works_like_a_list(tmp_path):
    f = toml(tmp_path, 'widths = "5,100"\n')
    assert parse_args(["--config", f]).config.widths == (5, 100)


BAD = {
    "unknown key": ("epoch = 3\n", "--config: ", "unknown key 'epoch'; did you mean 'epochs'?"),
    "far key": ("colour = 3\n", "--config: ", "unknown key 'colour' (known: backend,"),
    "bad value": ('depth = "deep"\n', "--depth: ", "expected a whole number, got 'deep'"),
    "out of range": ("epochs = 0\n", "--epochs: ", "must be between 1"),
    "not TOML": ("widths = [5,\n", "--config: ", "not valid TOML"),
    "switch not bool": ("standardize = 1\n", "--config: ", "standardize must be true or false"),
    "bool for a value": ("depth = true\n", "--config: ", "depth is not a switch"),
    "table": ("[lr]\nx = 1\n", "--config: ", "lr must be a number, a word or a list"),
    "config in config": ('config = "x.toml"\n', "--config: ", "unknown key 'config'"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_files_are_one_line_and_exit_2(name, tmp_path, capsys):
    text, flag, problem = BAD[name]
    assert main(["--config", toml(tmp_path, text), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mlp-tui: error: {flag}") and problem in err


def test_a_missing_file_and_a_wrong_suffix(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "none.toml")]) == 2
    assert "none.toml: No such file or directory" in capsys.readouterr().err
    assert main(["--config", toml(tmp_path, "", "a.ini")]) == 2
    assert "expected a .toml file" in capsys.readouterr().err


def _run_to_end(tmp_path, cfg, **outputs):
    runner = Runner(LiveSession(validate(cfg)), Outputs(**outputs))
    runner.start()
    assert wait_until(lambda: runner.session.ended, 60)
    assert runner.finish() == 0, runner.errors
    return runner


def test_every_export_gets_its_configuration_beside_it(tmp_path, monkeypatch):
    cfg = ExperimentConfig(widths=(5, 9), epochs=4, speed=0, val_split=0.2, lr=0.05)
    runner = _run_to_end(tmp_path, cfg, export=tmp_path / "r.csv",
                         capacity=tmp_path / "cap.md")
    written = tmp_path / "r.config.toml"
    assert tomllib.loads(written.read_text())["widths"] == [5, 9]
    assert (tmp_path / "cap.config.toml").read_text() == written.read_text()
    again = parse_args(["--config", str(written)]).config  # it reads back as the same runs
    assert again == runner.session.config
    monkeypatch.chdir(tmp_path / ".")
    runner.outputs = Outputs()
    message = runner.export_table()  # the `e` key without --export: a new file here
    (made,) = tmp_path.glob("mlp-tui-results*.csv")
    assert made.name in message
    assert (tmp_path / (made.stem + ".config.toml")).exists()


def test_a_data_files_classes_are_recorded(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,label\n" + "".join(f"{i},{['dog', 'cat'][i % 2]}\n" for i in range(8)))
    cfg = validate(ExperimentConfig(dataset=str(data), target="label", widths=(3,)))
    written = tomllib.loads(effective_toml(cfg))
    assert written["classes"] == ["cat", "dog"] and written["target"] == "label"
    assert written["dataset"] == str(data)
    f = toml(tmp_path, effective_toml(cfg))
    assert parse_args(["--config", f]).config == cfg  # `classes` is ignored on reading

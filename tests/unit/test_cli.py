"""Command line, good input: what parses to what, and the parser's shape. Bad input is
test_hostile_inputs.py's one table; `--help` as a process is in tests/e2e/test_not_a_terminal.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from mlp_tui import __version__
from mlp_tui.cli.args import Invocation, ReplayInvocation, parse_args
from mlp_tui.cli.main import main
from mlp_tui.cli.parser import build_parser
from mlp_tui.core.config import MAX_LR, MAX_SPEED, MAX_THREADS, MIN_SPEED, ExperimentConfig


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Output paths are probed in their folder: keep every probe in a scratch folder."""
    monkeypatch.chdir(tmp_path)


def test_good_invocation_parses_to_a_config():
    inv = parse_args(
        [
            *("--widths", " 7, 3 "),
            *("--dataset", "Breast-Cancer"),
            *("--optimizer", "ADAM"),
            *("--epochs", "12"),
            *("--lr", "0.5"),
            *("--seed", "9"),
            *("--val-split", "0.25"),
            "--standardize",
            *("--repeats", "2"),
            *("--speed", "0"),
            *("--depth", "3"),
            *("--batch-size", "16"),
            *("--device", "CPU"),
            *("--threads", "0"),
            "--headless",
            *("--export", "t.md"),
            *("--history", "h.jsonl"),
            "--force",
        ]
    )
    assert isinstance(inv, Invocation)
    assert inv.config == ExperimentConfig(
        dataset="breast_cancer",
        widths=(7, 3),
        depth=3,
        epochs=12,
        lr=0.5,
        optimizer="adam",
        batch_size=16,
        seed=9,
        val_split=0.25,
        standardize=True,
        device="cpu",
        speed=0.0,
        repeats=2,
        threads=0,
    )
    assert inv.headless and inv.force
    assert inv.export.name == "t.md" and inv.history.name == "h.jsonl"


def test_no_arguments_give_the_default_config():
    inv = parse_args([])
    assert inv == Invocation(ExperimentConfig(), False, None, None, False)


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["--lr", str(MAX_LR)], "lr", MAX_LR),
        (["--lr", "1e-3"], "lr", 1e-3),
        (["--speed", str(MIN_SPEED)], "speed", MIN_SPEED),
        (["--speed", str(MAX_SPEED)], "speed", MAX_SPEED),
        (["--speed", "0.0"], "speed", 0.0),
        (["--threads", str(MAX_THREADS)], "threads", MAX_THREADS),
        (["--threads", "0"], "threads", 0),
        (["--batch-size", "100000000"], "batch_size", 10**8),  # more than any dataset: full batch
        (["--widths", "1"], "widths", (1,)),
        (["--val-split", "0.5"], "val_split", 0.5),
        (["--depth", "64"], "depth", 64),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_values_at_the_bounds_are_accepted(argv, field, value):
    assert getattr(parse_args(argv).config, field) == value


@pytest.mark.parametrize("content", ["", None])
def test_an_empty_or_missing_history_needs_no_force(tmp_path, content):
    path = tmp_path / "h.csv"
    if content is not None:
        path.write_text(content)
    inv = parse_args(["--history", str(path)])
    assert inv.history == path and not inv.force


def test_an_existing_history_is_accepted_with_force(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("old rows\n")
    inv = parse_args(["--history", str(path), "--force"])
    assert inv.history == path and inv.force
    assert path.read_text() == "old rows\n"  # parsing writes nothing; the recorder truncates


def test_replay_invocation(tmp_path):
    hist = tmp_path / "h.csv"
    hist.write_text("")
    inv = parse_args(["replay", str(hist), "--follow", "--headless", "--export", "t.json"])
    assert inv == ReplayInvocation(hist, True, True, inv.export)
    assert inv.export.name == "t.json"
    assert parse_args(["replay", str(hist)]) == ReplayInvocation(hist, False, False, None)


def test_every_config_field_has_its_flag_and_default():
    """A setting of ExperimentConfig that no flag reaches, or whose flag defaults to another
    value, would make the command line and the settings form disagree."""
    parser = build_parser()
    flags = {s for action in parser._actions for s in action.option_strings}
    for f in dataclasses.fields(ExperimentConfig):
        assert "--" + f.name.replace("_", "-") in flags, f.name
    assert parse_args([]).config == ExperimentConfig()


def test_every_flag_is_documented_and_help_exits_0(capsys):
    parser = build_parser()
    options = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
    assert all(a.help for a in parser._actions)
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    for option in options:
        assert option in out, option


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlp-tui {__version__}"


@pytest.mark.parametrize(("text", "value"), [("1e6", 10**6), ("2.5E3", 2500), ("20000.0", 20000)])
def test_a_whole_number_in_scientific_notation_is_a_whole_number(text, value):
    """#23: `--epochs 1e6` is a whole number; so are the other integer flags' values."""
    inv = parse_args(["--epochs", text, "--seed", text])
    assert (inv.config.epochs, inv.config.seed) == (value, value)
    assert type(inv.config.epochs) is int

"""Command-line validation: every bad value is one line naming the flag, exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from engine_reference import cli_command

from mlp_tui import __version__
from mlp_tui.cli import Invocation, ReplayInvocation, main, parse_args
from mlp_tui.config import ExperimentConfig

BAD = [
    (["--widths", "5,,100"], "--widths"),
    (["--widths", "abc"], "--widths"),
    (["--widths", "5,5"], "--widths"),
    (["--widths", "0"], "--widths"),
    (["--widths", ",".join(str(i) for i in range(1, 18))], "--widths"),
    (["--widths", "2000000000"], "--widths"),  # more memory than any machine has
    (["--depth", "0"], "--depth"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "1e3"], "--epochs"),
    (["--epochs"], "--epochs"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "1e400"], "--lr"),
    (["--optimizer", "rmsprop"], "--optimizer"),
    (["--dataset", "mnist"], "--dataset"),
    (["--batch-size", "-1"], "--batch-size"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**63)], "--seed"),
    (["--val-split", "1.0"], "--val-split"),
    (["--val-split", "0.01"], "--val-split"),  # too few samples to stratify
    (["--repeats", "0"], "--repeats"),
    (["--device", "tpu"], "--device"),
    (["--speed", "-5"], "--speed"),
    (["--speed", "inf"], "--speed"),
    (["--export", "final.txt"], "--export"),
    (["--export", ""], "--export"),
    (["--export", "/no/such/folder/final.csv"], "--export"),
    (["--history", "hist.json"], "--history"),
    (["--export", "same.csv", "--history", "same.csv"], "--history"),
    (["--bogus"], "--bogus"),
    (["replay", "missing.csv"], "FILE"),
    (["replay", "notes.txt"], "FILE"),
]


@pytest.mark.parametrize(("argv", "flag"), BAD, ids=[" ".join(a) or "-" for a, _ in BAD])
def test_bad_invocation_is_one_line_naming_the_flag(argv, flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("mlp-tui: error: ")
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert flag in err
    assert "Traceback" not in err


def test_a_folder_as_export_path_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.csv").mkdir()
    assert main(["--export", "out.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--export" in err and "directory" in err


def test_good_invocation_parses_to_a_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inv = parse_args(
        [
            "--widths",
            " 7, 3 ",
            "--dataset",
            "Breast-Cancer",
            "--optimizer",
            "ADAM",
            "--epochs",
            "12",
            "--lr",
            "0.5",
            "--seed",
            "9",
            "--val-split",
            "0.25",
            "--standardize",
            "--repeats",
            "2",
            "--speed",
            "0",
            "--headless",
            "--export",
            "t.md",
            "--history",
            "h.jsonl",
        ]
    )
    assert isinstance(inv, Invocation)
    assert inv.config == ExperimentConfig(
        dataset="breast_cancer",
        widths=(7, 3),
        epochs=12,
        lr=0.5,
        optimizer="adam",
        seed=9,
        val_split=0.25,
        standardize=True,
        repeats=2,
        speed=0.0,
    )
    assert inv.headless and inv.export.name == "t.md" and inv.history.name == "h.jsonl"
    defaults = parse_args([])
    assert defaults.config == ExperimentConfig() and not defaults.headless
    assert defaults.export is None and defaults.history is None


def test_replay_invocation(tmp_path):
    hist = tmp_path / "h.csv"
    hist.write_text("")
    inv = parse_args(["replay", str(hist), "--follow", "--headless"])
    assert isinstance(inv, ReplayInvocation)
    assert inv.file == hist and inv.follow and inv.headless and inv.export is None


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlp-tui {__version__}"


def test_help_exits_0_without_torch_or_sklearn():
    proc = subprocess.run([*cli_command(), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr == ""
    for flag in ("--widths", "--epochs", "--speed", "--headless", "--export", "--history"):
        assert flag in proc.stdout
    check = (
        "import sys\n"
        "from mlp_tui.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn'))\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

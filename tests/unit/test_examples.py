"""The recipes in examples/ parse and validate as documented (docs/double_descent.md)."""

from __future__ import annotations

from pathlib import Path

from mlp_tui.cli.args import parse_args

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_double_descent_recipe_is_the_documented_sweep():
    inv = parse_args(["--config", str(EXAMPLES / "double_descent.toml")])
    cfg = inv.config
    assert len(cfg.widths) == 16 and cfg.widths[0] == 2 and cfg.widths[-1] == 1024
    assert (cfg.label_noise, cfg.val_split, cfg.repeats, cfg.epochs) == (0.2, 0.3, 8, 3000)
    assert inv.backend == "process" and inv.face.capacity == Path("double_descent.csv")

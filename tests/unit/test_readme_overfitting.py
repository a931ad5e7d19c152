"""The README's "watch overfitting" command shows overfitting: at least one width is flagged
in the `overfitting` column by the end (issue 36, item 7: `--val-split 0.2 --epochs 500`
flagged none)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from mlp_tui.cli.parser import build_parser
from mlp_tui.view.rows import overfit_since

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readmes_overfitting_command_flags_a_width(make_experiment):
    line = next(ln for ln in README.read_text().splitlines() if "watch overfitting" in ln)
    argv = shlex.split(re.sub(r"\s+#.*", "", line))[1:]
    args = vars(build_parser().parse_args(argv))
    exp = make_experiment(val_split=float(args["val_split"]), epochs=int(args["epochs"]), speed=0)
    exp.start()
    assert exp.wait(120)
    flagged = [r.width for r in exp.runs if overfit_since(r) is not None]
    assert flagged, [(r.width, r.history.best("val_loss")) for r in exp.runs]

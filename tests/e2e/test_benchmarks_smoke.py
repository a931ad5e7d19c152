"""Smoke test of the benchmarks: `python benchmarks/run.py --quick` runs every figure at tiny
sizes (targets not enforced) and prints all of them in one table; so does `--only process,grid`
for the figures that start worker processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = (
    "engine overhead",
    "TUI overhead",
    "redraw cost vs history",
    "redraw cost, cursor/band/capacity",
    "key latency",
    "memory",
    "start-up: --help",
    "start-up: first header in a pty",
    "start-up: first frame",
    "stack: width 5 x 32 seeds",
)
OPT_IN = ("process: bare/mlp-tui", "process: TUI overhead", "process: key latency",
          "grid: UI tick p95", "grid: RSS growth")


def test_quick_benchmarks_run_every_figure():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a hang, not a slow machine: no time bound beyond it (rates are benchmarks')
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in FIGURES:
        assert name in proc.stdout, f"{name!r} missing from:\n{proc.stdout}"
    assert "ERROR" not in proc.stderr, proc.stderr


def test_quick_opt_in_figures_run():
    """The figures that start processes (named in --only): the process backend and the 256-run
    grid."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "process,grid"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # as above, and under the suite's per-test limit (pyproject.toml)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in OPT_IN:
        assert name in proc.stdout, f"{name!r} missing from:\n{proc.stdout}"

"""Smoke test of the benchmarks: `python benchmarks/run.py --quick` runs every figure at tiny
sizes (targets not enforced) and prints all of them in one table."""

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
    "start-up: first frame",
)


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

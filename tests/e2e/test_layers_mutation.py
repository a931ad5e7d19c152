"""The layers contract can fail: a copy of the package with one forbidden import added to the
engine is reported broken by the same contracts (import-linter over the real import graph)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())", "--no-cache"]


def _lint(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    shutil.copytree(ROOT / "mlp_tui", tmp_path / "mlp_tui")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "mlp_tui" / module
    target.write_text(target.read_text() + f"\n\ndef _sneaky():\n    {line}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        LINT, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("engine/data.py", "import textual  # noqa", "never import a UI"),
        ("engine/run.py", "from mlp_tui import view  # noqa", "Layers"),
        ("engine/step.py", "from mlp_tui.persist import table  # noqa", "Layers"),
        ("session/live.py", "from mlp_tui.tui import app  # noqa", "Layers"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    proc = _lint(tmp_path, module, line)
    assert proc.returncode != 0, proc.stdout
    assert f"{broken}" in proc.stdout and "BROKEN" in proc.stdout, proc.stdout[-2000:]


def test_the_unchanged_copy_keeps_every_contract(tmp_path):
    proc = _lint(tmp_path, "engine/data.py", "pass")
    assert proc.returncode == 0, proc.stdout[-2000:]

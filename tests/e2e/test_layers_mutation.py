"""The import contracts can fail: a copy of the package with one forbidden import added is
reported broken by the same contracts (import-linter over the real import graph), a type-only
import (`if TYPE_CHECKING:`) included."""

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
TYPE_ONLY = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    {line}\n"


def _lint(tmp_path: Path, module: str, line: str, type_only: bool = False,
          pyproject: str | None = None) -> subprocess.CompletedProcess:
    shutil.copytree(ROOT / "mlp_tui", tmp_path / "mlp_tui")
    (tmp_path / "pyproject.toml").write_text(pyproject or (ROOT / "pyproject.toml").read_text())
    target = tmp_path / "mlp_tui" / module
    added = TYPE_ONLY.format(line=line) if type_only else f"\n\ndef _sneaky():\n    {line}\n"
    target.write_text(target.read_text() + "\n\n" + added)
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
        ("core/schema.py", "from mlp_tui.core import config  # noqa", "No cycle"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    proc = _lint(tmp_path, module, line)
    assert proc.returncode != 0, proc.stdout
    assert f"{broken}" in proc.stdout and "BROKEN" in proc.stdout, proc.stdout[-2000:]


def test_a_type_only_upward_import_breaks_the_layers(tmp_path):
    """The import persist/recorder.py once made for its types (the session contract, then in
    session/base.py): counted, it breaks the layers; with type-checking imports left out, as
    pyproject.toml once did, the same import went unseen."""
    line = "from mlp_tui.session.replay import ReplaySession  # noqa"
    proc = _lint(tmp_path / "counted", "persist/recorder.py", line, type_only=True)
    assert proc.returncode != 0, proc.stdout
    assert "Layers: each folder imports only the folders below it BROKEN" in proc.stdout
    assert "mlp_tui.persist.recorder -> mlp_tui.session.replay" in proc.stdout, proc.stdout[-2000:]
    old = (ROOT / "pyproject.toml").read_text().replace(
        "exclude_type_checking_imports = false", "exclude_type_checking_imports = true"
    )
    hidden = _lint(tmp_path / "hidden", "persist/recorder.py", line, type_only=True, pyproject=old)
    assert hidden.returncode == 0, hidden.stdout[-2000:]


def test_the_unchanged_copy_keeps_every_contract(tmp_path):
    proc = _lint(tmp_path, "engine/data.py", "pass")
    assert proc.returncode == 0, proc.stdout[-2000:]

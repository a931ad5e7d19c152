"""Import hygiene: the engine never pulls in Textual, the CLI never pulls in torch."""

from __future__ import annotations

import subprocess
import sys

ENGINE_SIDE = [
    "mlp_tui.engine.trainer",
    "mlp_tui.engine.data",
    "mlp_tui.engine.model",
    "mlp_tui.engine.history",
    "mlp_tui.engine.recorder",
    "mlp_tui.engine.summary",
    "mlp_tui.engine.health",
    "mlp_tui.export",
    "mlp_tui.headless",
    "mlp_tui.config",
]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_engine_side_modules_never_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {ENGINE_SIDE!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith('textual'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_cli_import_pulls_in_no_torch():
    code = (
        "import sys\n"
        "import mlp_tui.cli\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn', "
        "'textual'))\n"
        "assert not heavy, heavy\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr

"""The layers, checked over the real import graph (import-linter reads every import statement,
lazy ones inside functions included): faces over the runner over sessions over files over the
engine, and no UI or plotting library below the faces. The contracts live in pyproject.toml."""

from __future__ import annotations

import ast
from pathlib import Path

import importlinter.cli

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mlp_tui"


def test_import_contracts_hold(capsys):
    status = importlinter.cli.lint_imports(
        config_filename=str(ROOT / "pyproject.toml"), no_cache=True
    )
    assert status == 0, capsys.readouterr().out[-3000:]


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_modules_and_engine_functions_stay_small():
    """No module in mlp_tui over 400 lines; no function in the engine over 60."""
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().count("\n")
        assert lines <= 400, f"{path.relative_to(ROOT)}: {lines} lines"
    for path in (PACKAGE / "engine").rglob("*.py"):
        for fn in _functions(ast.parse(path.read_text())):
            length = fn.end_lineno - fn.lineno + 1
            assert length <= 60, f"{path.name}:{fn.name} is {length} lines"


def test_status_names_are_literals_in_the_schema_only():
    from mlp_tui.core.schema import Health, Status

    names = {s.value for s in Status} | {h.value for h in Health}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "schema.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in names:
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")

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


# Other libraries' private names that mlp-tui uses, each for want of a public equivalent:
# (file under mlp_tui/, the expression as written) -> why.
FOREIGN_PRIVATE = {
    ("engine/optim.py", "torch._foreach_add_"): "one fused update of every parameter (hot loop)",
    ("engine/stack_step.py", "torch._foreach_add_"): "the same, for every seed of a stack",
    ("engine/instruments.py", "torch._foreach_norm"): "every gradient's and weight's norm in one "
    "call (the hot loop's gradient norm)",
    ("runner.py", "os._exit"): "documented: end now, the terminal gone (exit watchdog)",
    ("session/process_pool.py", "os._exit"): "documented: a worker whose parent died ends now",
    ("session/process_pool.py", "self._manager._process"): "a manager's process (pid, exit code)",
    ("core/config_file.py", "parser._actions"): "argparse lists its options nowhere else",
    ("persist/tb_reader.py", "acc._generator"): "tensorboard's EventAccumulator takes no loader "
    "of ours otherwise (its own record reader allocates what a length claims)",
    ("tui/figure.py", "plotext._kernel.terminal"): "a plotext figure of its own",
    ("tui/figure.py", "term._master"): "... rather than plotext's global one",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _reaches(tree: ast.AST):
    """Every private name taken from another object or module: `obj._x` where obj is not
    `self`, `cls` or `super()`, and imports of a private name or from a private module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            base = (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                    and owner.func.id == "super")
            if not (own or base):
                yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            module = node.module or ""
            if any(_private(part) for part in module.split(".")):
                yield node.lineno, module
            for alias in node.names:
                if _private(alias.name):
                    yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(_private(part) for part in alias.name.split(".")):
                    yield node.lineno, alias.name


def test_no_file_reaches_into_another_objects_private_names():
    """A private name (`_x`) is used by its own object (`self._x`, `cls._x`) or its own module
    only: Run's invariants stay in run.py, a module's helpers in their module."""
    found, used = [], set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        for line, what in _reaches(ast.parse(path.read_text())):
            if (rel, what) in FOREIGN_PRIVATE:
                used.add((rel, what))
            else:
                found.append(f"{rel}:{line}: {what}")
    assert not found, found
    assert used == set(FOREIGN_PRIVATE), set(FOREIGN_PRIVATE) - used  # none is stale


def test_the_private_access_check_can_fail():
    code = "from m import _hidden\nrun._lock\nself._ok\nsuper()._hook()\nimport a._b\n"
    assert sorted(w for _, w in _reaches(ast.parse(code))) == ["a._b", "m._hidden", "run._lock"]

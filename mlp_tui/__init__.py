"""mlp-tui: a terminal training monitor for PyTorch MLPs.

From Python: `mlp_tui.train(widths=[5, 100], epochs=50)` trains as the command line does and
returns DataFrames; `mlp_tui.monitor(...)` opens the TUI on the same settings;
`mlp_tui.read_history(path)` reads a history file or a TensorBoard log (docs/python.md).
They are imported on first use (module `__getattr__`): `import mlp_tui` loads no torch, pandas
or Textual, and `mlp-tui --help` stays instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "train": "mlp_tui.api.train",
    "monitor": "mlp_tui.api.train",
    "read_history": "mlp_tui.api.read",
    "TrainResult": "mlp_tui.api.result",
    "SettingError": "mlp_tui.api.options",
}
__all__ = ["SettingError", "TrainResult", "__version__", "monitor", "read_history", "train"]

if TYPE_CHECKING:  # for type checkers and editors; never run
    from mlp_tui.api.options import SettingError
    from mlp_tui.api.read import read_history
    from mlp_tui.api.result import TrainResult
    from mlp_tui.api.train import monitor, train


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlp_tui' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

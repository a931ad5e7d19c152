"""What `train()` and `monitor()` return: the runs as DataFrames, the effective configuration,
and whether the user cut them short."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.config_file import effective_toml
from mlp_tui.core.contract import LifeRecord
from mlp_tui.core.task import Task
from mlp_tui.persist.files import write_atomic
from mlp_tui.persist.recorder import encode_history, history_format

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TrainResult:
    """`history`: one row per epoch of every life (a history file's columns); `final`: one row
    per run (the `--export` table's columns); `config`: the configuration that trained them, as
    the sidecar `.config.toml` writes it (`write_config`), and as `train(config=...)` takes it
    back; `interrupted`: a KeyboardInterrupt (or quitting the TUI) stopped the runs early, and
    the frames hold what was computed; `errors`: runs that failed, files not written;
    `models`: with `save_models=DIR`, the weights files written (each with a .json beside it:
    `torch.load` then `nn.Sequential(...).load_state_dict`)."""

    history: pd.DataFrame
    final: pd.DataFrame
    config: ExperimentConfig | None
    interrupted: bool = False
    errors: tuple[str, ...] = ()
    task: Task | None = field(default=None, repr=False)
    models: tuple[Path, ...] = ()  # `save_models=DIR`: each life's best and last .pt files
    lives: tuple[LifeRecord, ...] = field(default=(), repr=False)

    def config_toml(self) -> str:
        """The configuration as a --config file (`mlp-tui --config FILE` trains it again)."""
        if self.config is None:
            raise ValueError("a recording has no configuration")
        return effective_toml(self.config)

    def write_config(self, path: str | Path) -> Path:
        """Write `config_toml()` to `path` (atomically); returns the path."""
        return write_atomic(Path(path), self.config_toml())

    def write_history(self, path: str | Path) -> Path:
        """The history as `--history` writes it (.csv or .jsonl): `mlp-tui replay` opens it."""
        path = Path(path)
        return write_atomic(path, encode_history(list(self.lives), history_format(path),
                                                 self.task))

    def __repr__(self) -> str:
        runs, epochs = len(self.final), len(self.history)
        cut = ", interrupted" if self.interrupted else ""
        bad = f", {len(self.errors)} errors" if self.errors else ""
        return f"TrainResult({runs} runs, {epochs} history rows{cut}{bad})"

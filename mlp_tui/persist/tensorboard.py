"""`--tensorboard DIR`: every life's per-epoch metrics and settings as TensorBoard event files,
written from a thread of its own while the runs go (the engine never writes files).

One sub-folder per life, named by its configuration and seed, so a restart (a new seed) gets its
own. Scalars are tagged with the metric names of the run's task (`train_loss`, `val_acc`...),
the step is the epoch; the life's settings (`schema.RUN_FIELDS`) are its hyperparameters. The
writer is PyTorch's `torch.utils.tensorboard.SummaryWriter`, which needs the `tensorboard`
package (the `mlp-tui[tensorboard]` extra), imported only here and only when asked for.
"""

from __future__ import annotations

import importlib.util
import math
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from mlp_tui.core.schema import RUN_FIELDS
from mlp_tui.core.settings import SETTING
from mlp_tui.core.task import INSTRUMENT_NAMES
from mlp_tui.core.text import reason

if TYPE_CHECKING:
    from mlp_tui.core.contract import LifeRecord, Session

INSTALL_HINT = "needs the tensorboard package: pip install 'mlp-tui[tensorboard]'"
CHUNK = 4096  # epochs read from a history at once


def tensorboard_missing() -> bool:
    """True when the writer cannot be imported (checked before anything trains)."""
    return importlib.util.find_spec("tensorboard") is None


def life_folder(meta: dict[str, object]) -> str:
    """A sub-folder name that says the configuration and the seed of one life: the run, then
    each run column's part (the width, and each setting's declared `folder` part), the seed last
    (`run0_iris_w5_d1_sgd_lr0.1_bs0_seed0`)."""
    parts = [f"run{meta['run']}"]
    for f in RUN_FIELDS:
        setting = SETTING.get(f.name)
        if f.name == "width":
            parts.append(f"w{meta['width']}")
        elif setting is not None and setting.folder is not None and f.name in meta:
            parts.append(setting.folder(meta[f.name]))
    parts.append(f"seed{meta['seed']}")
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", "_".join(p for p in parts if p))


def hparams(meta: dict[str, object]) -> dict[str, object]:
    """The settings as TensorBoard accepts them (numbers, strings and booleans)."""
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in meta.items()}


class _LifeWriter:
    """The writer of one life and how far it got."""

    def __init__(self, folder: Path, life: LifeRecord, has_val: bool) -> None:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams as hparam_summaries

        self.folder = folder
        self.writer = SummaryWriter(log_dir=str(folder))
        fields = life.history.task.metric_fields
        self.metrics = [m.name for m in fields if has_val or not m.val]
        exp, ssi, sei = hparam_summaries(hparams(life.meta), {m: math.nan for m in self.metrics})
        for summary in (exp, ssi, sei):
            self.writer.file_writer.add_summary(summary)
        self.written = 0
        self.closed = False

    def write(self, life: LifeRecord) -> None:
        while self.written < len(life.history):
            cols = life.history.read(self.written, self.written + CHUNK)
            for i in range(len(cols)):
                epoch = cols.start + i + 1
                for m in self.metrics:
                    value = cols[m][i]
                    if value is not None and not (value != value and m in INSTRUMENT_NAMES):
                        self.writer.add_scalar(m, value, global_step=epoch)
            self.written += len(cols)
        self.writer.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()


class TensorBoardRecorder:
    """Polls the session's lives and writes what is new, like `HistoryRecorder`."""

    def __init__(self, session: Session, folder: Path, interval: float = 0.5) -> None:
        self.session = session
        self.folder = Path(folder)
        self.interval = interval
        self.folder.mkdir(parents=True, exist_ok=True)  # OSError: the CLI says it in one line
        self.error: str | None = None
        self._writers: dict[int, _LifeWriter] = {}
        self._taken: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tensorboard", daemon=True)

    @property
    def folders(self) -> list[Path]:
        return [w.folder for w in self._writers.values()]

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            try:
                for life in self.session.lives():
                    self._write(life)
            except (OSError, ValueError, RuntimeError) as exc:  # a full disk: say it, go on
                self.error = f"--tensorboard {self.folder}: {reason(exc)}"

    def _write(self, life: LifeRecord) -> None:
        w = self._writers.get(life.key)
        if w is None:
            w = self._writers[life.key] = _LifeWriter(
                self._new_folder(life.meta), life, life.history.has_val
            )
        if w.closed:
            return
        w.write(life)
        if life.ended is not None or life.history.closed:
            w.close()

    def _new_folder(self, meta: dict[str, object]) -> Path:
        """The life's folder; a name already used (here or by an earlier invocation into the
        same DIR) gets a suffix, so two lives never share an event file's folder."""
        base = life_folder(meta)
        name, n = base, 1
        while name in self._taken or (self.folder / name).exists():
            n += 1
            name = f"{base}-{n}"
        self._taken.add(name)
        return self.folder / name

    def close(self) -> str | None:
        """Stop the thread, write what is left, close every file; a one-line error or None."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        self.flush()
        with self._lock:
            for w in self._writers.values():
                try:
                    w.close()
                except (OSError, ValueError, RuntimeError) as exc:
                    self.error = self.error or f"--tensorboard {self.folder}: {exc}"
        return self.error

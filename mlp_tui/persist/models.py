"""`--save-models DIR`: each life's best and last weights as plain `state_dict` files.

A file loads into `nn.Sequential` of `Linear`, `ReLU` (and `Dropout`) without mlp-tui; a JSON
beside it says the run's settings, seed, the epoch and the values recorded there. The weights
are recomputed by retraining the life from its seed (`engine.weights`: deterministic, bit for
bit), in this recorder's thread, once the life has ended; a life cut short by `q`, Ctrl-C or a
restart is saved as far as it got.

Which weights: *best* is the epoch of the lowest validation loss (the lowest train loss without
a validation set). A validation loss is measured after its epoch's update, a train loss before
it, so best-by-validation saves the weights after the best epoch's update, best-by-train the
weights that epoch's train loss was measured at (after the epoch before). *last* is the weights
after the last recorded epoch's update.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlp_tui.core.settings import GRID_FIELDS
from mlp_tui.core.text import reason
from mlp_tui.persist.tensorboard import life_folder

if TYPE_CHECKING:
    from mlp_tui.core.contract import LifeRecord, Session


def chosen_epochs(life: LifeRecord) -> dict[str, tuple[int, int, str]]:
    """name -> (the epoch whose row the file describes, the epochs of updates its weights
    hold, what chose it)."""
    history, n = life.history, len(life.history)
    by_val = history.best("val_loss")[1]
    out: dict[str, tuple[int, int, str]] = {}
    if by_val is not None:
        out["best"] = (by_val, by_val, "lowest validation loss (weights after its update)")
    else:
        at = history.best("train_loss")[1]
        if at is not None:
            out["best"] = (at, at - 1, "lowest train loss (the weights it was measured at)")
    if n:
        out["last"] = (n, n, "the last epoch (weights after its update)")
    return out


class ModelRecorder:
    """Saves each life once it has ended (and, at `close`, every life as far as it got)."""

    def __init__(self, session: Session, folder: Path, interval: float = 0.5) -> None:
        self.session = session
        self.folder = Path(folder)
        self.interval = interval
        self.folder.mkdir(parents=True, exist_ok=True)  # OSError: the CLI says it in one line
        self.error: str | None = None
        self.saved: dict[int, list[Path]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="save-models", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush(ended_only=True)

    def flush(self, ended_only: bool = False) -> None:
        with self._lock:
            for life in self.session.lives():
                if life.key in self.saved or not len(life.history):
                    continue
                if ended_only and life.ended is None and not life.history.closed:
                    continue
                try:
                    self.saved[life.key] = self._save(life)
                except (OSError, ValueError, RuntimeError) as exc:  # a full disk: say it
                    self.saved[life.key] = []
                    self.error = f"--save-models {self.folder}: {reason(exc)}"

    def _save(self, life: LifeRecord) -> list[Path]:
        import torch

        from mlp_tui.engine.weights import weights_at

        meta = life.meta
        cfg = self.session.config
        point = replace(cfg, **{f: meta[f] for f in GRID_FIELDS if f in meta},
                        widths=(int(meta["width"]),))
        chosen = chosen_epochs(life)
        weights = weights_at(point, int(meta["width"]), int(meta["seed"]),
                             [w for _, w, _ in chosen.values()])
        paths = []
        for name, (row_epoch, updates, why) in chosen.items():
            stem = f"{life_folder(meta)}_{name}"  # (a folder name holds dots: `lr0.1`)
            pt, js = self.folder / f"{stem}.pt", self.folder / f"{stem}.json"
            _atomic(pt, lambda f, s=weights[updates]: torch.save(s, f))
            note = _note(life, row_epoch, updates, why, pt.name).encode()
            _atomic(js, lambda f, t=note: f.write(t))
            paths.append(pt)
        return paths

    def close(self) -> str | None:
        """Stop polling, save every life not saved yet; a one-line error or None."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30.0)
        self.flush()
        return self.error


def _note(life: LifeRecord, epoch: int, updates: int, why: str, file: str) -> str:
    """The JSON beside a weights file: what it is and how to load it."""
    history = life.history
    row = history.read(epoch - 1, epoch).record(0)
    after = history.read(updates, updates + 1)  # the row whose train loss these weights gave
    note = {
        "file": file,
        "settings": {k: v for k, v in life.meta.items()},
        "seed": life.meta.get("seed"),
        "epoch": epoch,
        "updates": updates,
        "chosen_by": why,
        "recorded": {k: _plain(v) for k, v in row.items()},
        "train_loss_of_these_weights": after.record(0)["train_loss"] if len(after) else None,
        "load": "model = nn.Sequential(Linear, ReLU[, Dropout], ..., Linear); "
                "model.load_state_dict(torch.load(file))",
    }
    return json.dumps(note, indent=2, allow_nan=False, default=str) + "\n"


def _plain(value: object) -> object:
    """A JSON value: an enum as its word, a non-finite number as null."""
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _atomic(path: Path, write) -> None:
    """Write to a temporary file beside `path`, then rename: never a torn file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

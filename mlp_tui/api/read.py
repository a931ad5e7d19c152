"""`read_history(path)`: a recording as the DataFrame `train()` returns in `.history`.

A history file (.csv, .jsonl) is read by the same checked reader as `mlp-tui replay`; a
TensorBoard log directory by the same session as `mlp-tui replay DIR`, its lives put through the
same rows as a live session's. A log says only its steps and tags: the epoch is the step, the
settings it cannot tell are missing, the run folder is the column `name`, and tags that are not
mlp-tui metrics come after the history columns under their own names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlp_tui.api.frames import frame, history_frame, require_pandas
from mlp_tui.core.task import task_of_columns
from mlp_tui.persist.reader import HistoryReader

if TYPE_CHECKING:
    import pandas as pd

READ_BYTES = 8 << 20  # one read's budget; a large file takes several


def read_history(path: str | Path) -> pd.DataFrame:
    """One row per epoch of every life the file or log directory holds, run by run (each run's
    lives in order), as `train().history` orders them: a file interleaves its runs' rows as
    they were recorded. A damaged file raises `HistoryFormatError` (a ValueError) naming the
    line; a missing one, FileNotFoundError."""
    require_pandas()
    path = Path(path).expanduser()
    if path.is_dir():
        return _logdir_frame(path)
    rows: list[dict[str, object]] = []
    with HistoryReader(path) as reader:
        while True:
            rows += reader.read_new(READ_BYTES)
            if not reader.more:
                break
    rows.sort(key=lambda row: row.get("run", 0))  # stable: each run's rows keep their order
    task = task_of_columns(rows[0] if rows else ())
    return frame(rows, task.history_columns)


def _logdir_frame(path: Path) -> pd.DataFrame:
    from mlp_tui.session.tensorboard import TensorBoardSession

    session = TensorBoardSession(path)
    lives = session.lives()
    history = history_frame(lives, session.task)
    known = set(history.columns)
    others = [t for t in session.metrics or () if t not in known]
    names, extra = [], {t: [] for t in others}
    for run in session.runs:
        n = len(run.history)
        names += [run.name] * n
        for tag in others:
            values = list(run.history.column(tag))
            extra[tag] += [*values, *([None] * (n - len(values)))][:n]
    history["name"] = names
    for tag in others:
        history[tag] = extra[tag]
    return history

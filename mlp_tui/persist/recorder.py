"""Streams every life's new epochs into the `--history` file from a thread of its own, so the
training loop never waits on the disk.

Rows are appended as whole lines at least every `interval` seconds. When the disk is full, what
fits is written and the rest waits in the runs' histories (already in memory) for the next try,
so nothing that fits is lost and the file never holds a torn line. A life that ends other than
on its last epoch's row (failed, stopped, cut short by a restart) gets a status row repeating
that epoch's number.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from mlp_tui.core.schema import Health
from mlp_tui.core.task import ALL_METRICS, CLASSIFICATION, Task
from mlp_tui.persist.codec import csv_header, encode_rows, history_format
from mlp_tui.persist.files import AppendFile

if TYPE_CHECKING:  # the recorder reads any session's lives; it depends on no session code
    from mlp_tui.core.contract import LifeRecord, Session

CHUNK_ROWS = 16_384  # rows formatted at once: a million-epoch catch-up needs little memory


def life_rows(life: LifeRecord, start: int = 0, stop: int | None = None) -> list[dict[str, object]]:
    """History rows (one per epoch) of one life, from epoch start + 1."""
    cols = life.history.read(start, stop)
    return [{**life.meta, **cols.record(i)} for i in range(len(cols))]


def end_row(life: LifeRecord) -> dict[str, object] | None:
    """The status row a life needs when its last epoch's row does not say how it ended (a
    finished or diverged last epoch does, even when a restart later cut the run's life)."""
    if life.ended is None:
        return None
    last = life.history.last()
    if last is not None and (last["status"] is life.ended or last["status"].ended):
        return None
    row: dict[str, object] = {**life.meta, "epoch": 0 if last is None else last["epoch"]}
    row.update({m: None for m in ALL_METRICS})
    row["elapsed_s"] = None if last is None else last["elapsed_s"]
    row["status"] = life.ended
    row["health"] = Health.OK if last is None else last["health"]
    return row


def encode_history(lives: list[LifeRecord], fmt: str, task: Task = CLASSIFICATION) -> str:
    """A whole history file's text (the `H` key's export), in the task's columns."""
    columns = task.history_columns
    parts = [csv_header(columns)] if fmt == "csv" else []
    for life in lives:
        parts.append(encode_rows(life_rows(life), fmt, columns))
        end = end_row(life)
        if end is not None:
            parts.append(encode_rows([end], fmt, columns))
    return "".join(parts)


class HistoryRecorder:
    """Polls the session's lives and appends what is new."""

    def __init__(
        self, session: Session, path: Path, force: bool = False, interval: float = 0.25
    ) -> None:
        self.session = session
        self.interval = interval
        self.fmt = history_format(path)
        self.columns = session.task.history_columns
        header = csv_header(self.columns) if self.fmt == "csv" else ""
        self.file = AppendFile(Path(path), header=header, force=force)
        self.path = Path(path)
        self.rows_written = 0
        self.pending = 0  # rows computed but not yet in the file, as of the last flush
        self._cursors: dict[int, list] = {}  # life key -> [rows written, end row written]
        self._closed = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="history-recorder", daemon=True)

    @property
    def error(self) -> str | None:
        return self.file.error

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        """Write what is new, oldest life first; stop at the first row that does not fit (the
        next flush starts there, so each run's rows stay in order)."""
        with self._lock:
            if self._closed:
                return
            pending = 0
            blocked = False
            for life in self.session.lives():
                cursor = self._cursors.setdefault(life.key, [0, False])
                if not blocked:
                    blocked = not self._write_life(life, cursor)
                pending += len(life.history) - cursor[0]
                if life.ended is not None and not cursor[1] and end_row(life) is not None:
                    pending += 1  # its status row is still to be written
            self.pending = pending

    def _write_life(self, life: LifeRecord, cursor: list) -> bool:
        while cursor[0] < len(life.history):
            rows = life_rows(life, cursor[0], cursor[0] + CHUNK_ROWS)
            written = self._write(rows)
            cursor[0] += written
            if written < len(rows):
                return False
        if not cursor[1] and life.ended is not None:
            end = end_row(life)
            if end is not None and not self._write([end]):
                return False
            cursor[1] = True
        return True

    def _write(self, rows: list[dict[str, object]]) -> int:
        lines = [encode_rows([r], self.fmt, self.columns) for r in rows]
        n = self.file.write_lines(lines)
        self.rows_written += n
        return n

    def close(self) -> str | None:
        """Stop the thread, write what is left, close the file. Returns a one-line error when
        rows could not be saved."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        self.flush()
        with self._lock:
            error = self.file.error
            self.file.close()
            self._closed = True
        if self.pending:
            return f"history file {self.path}: {self.pending} rows could not be saved ({error})"
        return None


"""Streams every run's new epochs into the `--history` file from a thread of its own, so the
training loop never waits on the disk. Rows are flushed at least every `interval` seconds."""

from __future__ import annotations

import threading
from pathlib import Path

from mlp_tui.engine.history import RunHistory
from mlp_tui.engine.summary import history_rows
from mlp_tui.engine.trainer import Experiment, Run
from mlp_tui.export import HistoryWriter


class HistoryRecorder:
    """Polls the runs' histories and appends what is new; a restart's retired lives are written
    in full before the new life's first row."""

    def __init__(
        self,
        experiment: Experiment,
        path: str | Path,
        interval: float = 0.25,
        append: bool = False,
    ) -> None:
        self.experiment = experiment
        self.interval = interval
        self.writer = HistoryWriter(Path(path), append=append)
        self.error: str | None = None
        self.rows_written = 0
        self._cursors: dict[int, tuple[RunHistory, int]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="history-recorder", daemon=True)

    @property
    def path(self) -> Path:
        return self.writer.path

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        """Write every epoch recorded so far; on an error keep the rows pending and retry later."""
        with self._lock:
            if self.writer is None:
                return
            try:
                for run in self.experiment.runs:
                    self._drain(run)
                if self.error:
                    self.error = None
            except OSError as exc:
                self.error = f"history file {self.path}: {exc.strerror or exc}"

    def _drain(self, run: Run) -> None:
        # One consistent snapshot: a restart between reading `retired` and `history` (or between
        # `history` and `seed`) would otherwise write a life under the wrong seed or twice.
        with run._lock:
            retired = list(run.retired)
            current, seed = run.history, run.seed
        for old_seed, old in retired:
            self._write(run, old, old_seed)
            run.retired.popleft()
        self._write(run, current, seed)

    def _write(self, run: Run, history: RunHistory, seed: int) -> None:
        tracked, cursor = self._cursors.get(run.index, (None, 0))
        if tracked is not history:
            cursor = 0
        rows = history_rows(run, history, seed, cursor)
        if rows:
            self.writer.write(rows)
            self.rows_written += len(rows)
        self._cursors[run.index] = (history, cursor + len(rows))

    def close(self) -> None:
        """Stop the thread, write what is left, close the file."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self.flush()
        with self._lock:
            if self.writer is not None:
                self.writer.close()
                self.writer = None

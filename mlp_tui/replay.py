"""Replay a recorded `--history` file: in the TUI, headless, or following a file that another
process is still writing (`--follow`, like `tail -f`)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mlp_tui.config import DATASETS, ExperimentConfig
from mlp_tui.engine.history import RUNNING, STOPPED, RunHistory
from mlp_tui.export import (
    HistoryFormatError,
    RunSummary,
    history_format,
    parse_history_line,
    write_table,
)

TERMINAL = ("finished", "stalled", "diverged", "failed")


@dataclass
class _RunCfg:
    dataset: str
    depth: int
    optimizer: str
    lr: float
    repeats: int = 1


class ReplayRun:
    """One recorded run (its latest life), shaped like a live `Run` for the view and exports."""

    def __init__(self, index: int, row: dict) -> None:
        self.index = index
        self.width = int(row["width"])
        self.repeat = int(row.get("repeat") or 0)
        self.seed = int(row["seed"])
        self.cfg = _RunCfg(
            str(row.get("dataset") or "iris"),
            int(row.get("depth") or 1),
            str(row.get("optimizer") or "sgd"),
            float(row.get("lr") or 0.0),
        )
        self.history = RunHistory(0, has_val=row.get("val_loss") is not None)
        self.last_status = RUNNING
        self.following = False
        self.epochs_per_s = 0.0
        self.paused = False
        self.active = False
        self.error = None

    @property
    def label(self) -> str:
        return f"w={self.width}" if self.cfg.repeats == 1 else f"w={self.width}#{self.repeat}"

    @property
    def status(self) -> str:
        if self.last_status == RUNNING and not self.following:
            return STOPPED
        return self.last_status

    def add(self, row: dict) -> None:
        epoch = int(row["epoch"])
        if epoch != len(self.history) + 1 or int(row["seed"]) != self.seed:
            # A new life (a restart, or a new configuration): the view shows the latest one.
            previous = len(self.history)
            self.history.close()
            self.seed = int(row["seed"])
            self.width = int(row["width"])
            self.history = RunHistory(0, has_val=row.get("val_loss") is not None)
            if epoch != 1:
                raise HistoryFormatError(
                    f"run {self.index}: epoch {epoch} follows epoch {previous}"
                )
        self.history.append(
            float(row["train_loss"]),
            row["train_acc"],
            row.get("val_loss"),
            row.get("val_acc"),
            float(row.get("elapsed_s") or 0.0),
            _record_status(row.get("status")),
        )
        self.last_status = str(row.get("status") or RUNNING)


def _record_status(status: object) -> str:
    s = str(status or RUNNING)
    return s if s in ("running", "stalled", "diverged", "finished") else RUNNING


class ReplaySession:
    """Reads a history file (and, when following, what is appended to it later)."""

    live = False

    def __init__(self, path: Path, follow: bool = False, poll_s: float = 0.2) -> None:
        self.path = Path(path)
        self.fmt = history_format(self.path)
        self.following = follow
        self.poll_s = poll_s
        self.runs_by_index: dict[int, ReplayRun] = {}
        self._header: list[str] | None = None
        self._offset = 0
        self._line_no = 0
        self._buffer = b""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = False
        self.export_path: Path | None = None
        self.history_error: str | None = None
        self.speed = 0.0
        self.read_new()
        if not self.runs_by_index and not follow:
            raise HistoryFormatError(f"{self.path}: no history rows")
        self._cfg_runs = len(self.runs_by_index)
        self.cfg = self._make_cfg()

    # --- reading -------------------------------------------------------------------------------

    def read_new(self) -> int:
        """Parse the complete lines appended since the last call; returns how many rows."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError as exc:
            self.history_error = f"{self.path}: {exc.strerror or exc}"
            return 0
        if not chunk:
            return 0
        self._offset += len(chunk)
        data = self._buffer + chunk
        lines = data.split(b"\n")
        self._buffer = lines.pop()  # an unfinished last line waits for its newline
        count = 0
        for raw in lines:
            self._line_no += 1
            try:
                line = raw.decode("utf-8").rstrip("\r")
            except UnicodeDecodeError as exc:
                raise HistoryFormatError(
                    f"{self.path}: line {self._line_no}: not a UTF-8 text file ({exc.reason})"
                ) from None
            if not line:
                continue
            if self.fmt == "csv" and self._header is None:
                self._header = line.split(",")
                if "epoch" not in self._header or "train_loss" not in self._header:
                    raise HistoryFormatError(f"{self.path}: line 1 is not a history header")
                continue
            try:
                row = parse_history_line(line, self.fmt, self._header)
                index = int(row["run"])
                run = self.runs_by_index.get(index)
                if run is None:
                    run = ReplayRun(index, row)
                    run.following = self.following
                run.add(row)
            except (ValueError, KeyError, TypeError) as exc:
                raise HistoryFormatError(f"{self.path}: line {self._line_no}: {exc}") from None
            self.runs_by_index.setdefault(index, run)
            count += 1
        if count:
            self._update_rates()
        return count

    def _update_rates(self) -> None:
        for run in self.runs_by_index.values():
            cols = run.history.read(max(0, len(run.history) - 50))
            if len(cols) >= 2 and cols.elapsed[-1] > cols.elapsed[0]:
                run.epochs_per_s = (len(cols) - 1) / (cols.elapsed[-1] - cols.elapsed[0])

    def _make_cfg(self) -> ExperimentConfig:
        runs = self.runs
        if not runs:
            return ExperimentConfig(widths=(1,), speed=0)
        first = runs[0].cfg
        widths = tuple(dict.fromkeys(r.width for r in runs))
        repeats = max(r.repeat for r in runs) + 1
        for r in runs:
            r.cfg.repeats = repeats
        return ExperimentConfig(
            dataset=first.dataset if first.dataset in DATASETS else "iris",
            widths=widths,
            depth=first.depth,
            epochs=max(1, max(len(r.history) for r in runs)),
            lr=first.lr or 0.1,
            optimizer=first.optimizer if first.optimizer in ("sgd", "adam") else "sgd",
            seed=min(r.seed for r in runs),
            speed=0,
            repeats=repeats,
        )

    @property
    def runs(self) -> list[ReplayRun]:
        return [self.runs_by_index[i] for i in sorted(self.runs_by_index)]

    @property
    def has_val(self) -> bool:
        return any(r.history.has_val for r in self.runs)

    @property
    def done(self) -> bool:
        return all(r.status in TERMINAL or r.status == STOPPED for r in self.runs)

    @property
    def all_ended(self) -> bool:
        """Every recorded run reached its end (used to stop following)."""
        return bool(self.runs) and all(r.last_status in TERMINAL for r in self.runs)

    # --- following ------------------------------------------------------------------------------

    def start(self) -> None:
        self.started = True
        if self.following and self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="replay-follow", daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.read_new()
            except HistoryFormatError as exc:
                self.history_error = str(exc)
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
        for run in self.runs:
            run.following = False

    def summaries(self) -> list[RunSummary]:
        from mlp_tui.engine.summary import summarize_run

        return [summarize_run(r) for r in self.runs]  # type: ignore[arg-type]

    def export_table(self, path: Path | None = None) -> Path:
        from mlp_tui.session import default_export_path

        return write_table(path or self.export_path or default_export_path(), self.summaries())


def run_replay(inv, interactive: bool) -> int:
    """Entry point of `mlp-tui replay`."""
    session = ReplaySession(inv.file, follow=inv.follow)
    session.export_path = inv.export
    if inv.headless or not interactive:
        if not inv.headless:
            sys.stderr.write("mlp-tui: not a terminal, replaying headless\n")
        return _replay_headless(session, inv.export)
    from mlp_tui.app import MlpTuiApp

    app = MlpTuiApp(session)
    try:
        app.run()
    finally:
        session.stop()
    return app.return_code or 0


def _replay_headless(session: ReplaySession, export: Path | None) -> int:
    from mlp_tui.headless import text_table

    got: list[int] = []
    if session.following:
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
                previous[s] = signal.signal(s, lambda n, _f: got.append(n))
        session.start()
        try:
            while not session.all_ended and not got and not session.history_error:
                time.sleep(session.poll_s)
        finally:
            session.stop()
            for s, h in previous.items():
                signal.signal(s, h)
        session.read_new()
    rows = session.summaries()
    sys.stdout.write(text_table(rows))
    sys.stdout.flush()
    if export:
        write_table(export, rows)
    if session.history_error:
        sys.stderr.write(f"mlp-tui: error: {session.history_error}\n")
        return 1
    return 128 + got[0] if got else 0

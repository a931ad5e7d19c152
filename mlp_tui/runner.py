"""The lifecycle every face shares: files, signals, the export policy and the exit status.

The TUI, headless mode and replay all hand their session to a `Runner`: it opens the history
file before anything trains, starts the session, writes `--export` when every run has ended
(and again on quit if anything changed since), turns INT, TERM and HUP into an orderly end with
status 128 + signal, and decides the exit status. A face only renders and forwards keys.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.config_file import effective_toml, sidecar
from mlp_tui.core.contract import Session
from mlp_tui.core.limits import ExportPace
from mlp_tui.core.runs import planned_runs
from mlp_tui.core.schema import Health, Status
from mlp_tui.core.text import printable, reason
from mlp_tui.persist.files import unique_path, write_atomic
from mlp_tui.persist.recorder import HistoryRecorder, encode_history, history_format
from mlp_tui.persist.table import write_capacity, write_table
from mlp_tui.report.capacity import AT_CHOICES, capacity_points, capacity_rows
from mlp_tui.report.summary import RunSummary, endings, summarize

# The one set of signals that end a session in order (a dropped SSH session sends HUP).
HANDLED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
EXIT_GRACE_S = 2.0  # after a signal, the longest the terminal's restoration may take
STOP_TIMEOUT_S = 30.0  # workers inside torch's lazy imports must finish before the exit
# A run whose health is not ok is a finding, not a failure: the experiment completed, so the
# exit status stays 0 (a failed run, an unsaved file or a signal set it, as before).
EXIT_OK, EXIT_FAILED = 0, 1
LOADING_NOTHING = "nothing to write yet: still loading torch and the data"
SUMMARY_NAMES = 8  # runs named in the closing summary's line; the rest are counted


@dataclass(frozen=True)
class Outputs:
    """The files a session writes, as the command line named them."""

    export: Path | None = None
    history: Path | None = None
    force: bool = False  # overwrite an existing history file
    capacity: Path | None = None  # --capacity-export: loss against width, at each basis
    tensorboard: Path | None = None  # --tensorboard DIR: event files, one folder per life
    models: Path | None = None  # --save-models DIR: each life's best and last weights

    @property
    def exports(self) -> bool:
        return self.export is not None or self.capacity is not None


class Runner:
    """Owns one session's lifecycle; see the module docstring."""

    def __init__(self, session: Session, outputs: Outputs | None = None) -> None:
        self.session = session
        self.outputs = outputs or Outputs()
        self.recorder: HistoryRecorder | None = None
        self.tensorboard = None  # persist.tensorboard.TensorBoardRecorder, imported when asked
        self.signal: int | None = None
        self.errors: list[str] = []
        self._export_due = True  # runs changed since --export was last written
        self._notify: Callable[[int], None] | None = None
        self._exit_code: int | None = None
        self._pace = ExportPace()  # a served tab's e and E: rate-limited (core/limits.py)
        self.written: dict[Path, None] = {}  # every file written, in order (the summary's)
        if self.outputs.history is not None:  # refused files fail here, before any training
            self.recorder = HistoryRecorder(session, self.outputs.history, self.outputs.force)
        if self.outputs.tensorboard is not None:
            from mlp_tui.persist.tensorboard import TensorBoardRecorder

            self.tensorboard = TensorBoardRecorder(session, self.outputs.tensorboard)
        self.models = None  # persist.models.ModelRecorder, imported when asked
        if self.outputs.models is not None:
            from mlp_tui.persist.models import ModelRecorder

            self.models = ModelRecorder(session, self.outputs.models)

    def start(self) -> None:
        if self._exit_code is not None:  # finished before it started (a signal at start-up)
            return
        self.session.start()
        for writer in (self.recorder, self.tensorboard, self.models):
            if writer is not None:
                writer.start()

    # --- signals -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def signals(self, notify: Callable[[int], None]) -> Iterator[None]:
        """Handle HANDLED_SIGNALS while the face runs: the first one is noted and `notify` is
        called with it (in the main thread, between two bytecodes: keep it short)."""
        self._notify = notify
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for s in HANDLED_SIGNALS:
                previous[s] = signal.signal(s, self._on_signal)
        try:
            if self.signal is not None:
                notify(self.signal)
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.signal is None:
            self.signal = signum
            if self._notify is not None:
                self._notify(signum)

    def arm_exit_watchdog(self, code: int) -> None:
        """A dropped SSH session leaves no terminal to restore, and a writer can then block for
        ever on it. Called once everything is saved: the process ends within EXIT_GRACE_S."""
        timer = threading.Timer(EXIT_GRACE_S, os._exit, args=(code,))
        timer.daemon = True
        timer.start()

    # --- the export policy ---------------------------------------------------------------------

    def poll(self) -> str | None:
        """Call often. Writes --export when every run has ended; returns what to tell the user
        (a message for the face) or None."""
        if not self.session.ended:
            self._export_due = True
            return None
        if self._export_due and self.outputs.exports:
            self._export_due = False
            return self._export_final()
        return None

    def _export_final(self) -> str:
        said = []
        for flag, path, write, what in (
            ("--export", self.outputs.export, self._write_table, "final table"),
            ("--capacity-export", self.outputs.capacity, self.write_capacity, "capacity table"),
        ):
            if path is None:
                continue
            try:
                written = write(path)
            except (OSError, ValueError) as exc:
                message = f"{flag} {path}: {reason(exc)}"
                self.errors.append(message)
                said.append(f"export failed: {message}")
            else:
                said.append(f"{what} written to {written}")
        return "; ".join(said)

    def _write_table(self, path: Path) -> Path:
        return self._with_config(write_table(path, self.summaries()))

    def write_capacity(self, path: Path) -> Path:
        """Loss against width at each run's latest epoch and at its best validation epoch."""
        runs = self.session.runs
        rows = [row for at in AT_CHOICES for row in capacity_rows(capacity_points(runs, at), at)]
        return self._with_config(write_capacity(path, rows))

    def _with_config(self, export: Path) -> Path:
        """Every export gets the effective configuration beside it (`r.csv` -> `r.config.toml`),
        a --config file; a recorded session has none to write."""
        self.written[export] = None
        cfg = self.effective_config()
        if cfg is not None:
            self.written[write_atomic(sidecar(export), effective_toml(cfg))] = None
        return export

    def effective_config(self) -> ExperimentConfig | None:
        """The configuration that trains the rows as they are now: the speed in use (the `+`
        and `-` keys change it) and, once restarts moved seeds on, each run's own seed."""
        cfg = self.session.config
        if cfg is None:
            return None
        speed = self.session.speed
        seeds = tuple(r.seed for r in self.session.runs)
        default = tuple(cfg.seed + repeat for _w, _p, repeat in planned_runs(cfg))
        if len(seeds) != len(default) or None in seeds:  # not this plan's runs: claim no seeds
            seeds = cfg.seeds
        return replace(cfg, speed=cfg.speed if speed is None else speed,
                       seeds=() if seeds == default else seeds)

    def summaries(self) -> list[RunSummary]:
        return [summarize(r) for r in self.session.runs]

    def export_table(self) -> str:
        """The `e` key: the table as of now, to --export or a new file here; says what it wrote."""
        if self.session.loading:
            return LOADING_NOTHING
        if refused := self._pace.refusal():
            return f"table {refused}"
        rows = self.summaries()
        if self.outputs.export is not None:
            path = write_table(self.outputs.export, rows)  # OSError, FileRefused: the face says
        else:
            path = _fill(unique_path(Path("."), "mlp-tui-results", ".csv"), write_table, rows)
        self._with_config(path)
        also = ""
        if self.outputs.capacity is not None:
            also = f" (and the capacity table to {self.write_capacity(self.outputs.capacity)})"
        live = sum(1 for r in rows if not Status(r["status"]).ended)
        if live:
            return f"table written to {path}{also}, {live} of {len(rows)} runs still running"
        return f"final table written to {path}{also}"

    def export_history(self) -> str:
        """The history key: every life so far, to a new CSV file here."""
        if self.session.loading:
            return LOADING_NOTHING
        if refused := self._pace.refusal():
            return f"history {refused}"
        path = unique_path(Path("."), "mlp-tui-history", ".csv")
        text = encode_history(self.session.lives(), history_format(path), self.session.task)
        self.written[_fill(path, write_atomic, text)] = None
        return f"history written to {path}"

    @property
    def problem(self) -> str | None:
        """A fault to show while it lasts (history not saving, a followed file gone bad)."""
        if self.recorder is not None and self.recorder.error:
            return self.recorder.error
        if self.tensorboard is not None and self.tensorboard.error:
            return self.tensorboard.error
        return self.session.problem

    # --- the end -------------------------------------------------------------------------------

    def say_summary(self, stream) -> None:
        """Write the summary, a line each; a terminal that is gone (a dropped SSH session)
        loses it without changing the exit status."""
        try:
            for line in self.summary():
                stream.write(f"mlp-tui: {printable(line)}\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    def summary(self) -> list[str]:
        """What a face says when the session ends (on stderr, after the terminal is back): the
        files written, how the runs ended, and each run whose health is not ok or diverged."""
        lines = []
        files = [*self.written]
        for path in (self.outputs.history, self.outputs.tensorboard, self.outputs.models):
            if path is not None and self.session.runs:
                files.append(path)
        if files:
            lines.append("wrote " + ", ".join(str(f) for f in dict.fromkeys(files)))
        runs = list(self.session.runs)
        bad = [r for r in runs if r.health is not Health.OK or r.status is Status.DIVERGED]
        if bad:
            named = [f"{r.label} {_verdict(r)}" for r in bad[:SUMMARY_NAMES]]
            more = len(bad) - len(named)
            tail = f", and {more} more (see the table)" if more else ""
            lines.append(f"{endings(runs)}; {len(bad)} of {len(runs)} runs not ok: "
                         + ", ".join(named) + tail)
        elif runs:
            lines.append(f"{endings(runs)}, health ok")
        return lines

    def finish(self) -> int:
        """Stop every run, save what was computed, and return the exit status. Idempotent."""
        if self._exit_code is not None:
            return self._exit_code
        if not self.session.stop(STOP_TIMEOUT_S):
            self.errors.append("a worker did not stop in time")
        if self.recorder is not None:
            error = self.recorder.close()
            if error:
                self.errors.append(error)
        for writer in (self.tensorboard, self.models):
            error = writer.close() if writer is not None else None
            if error:
                self.errors.append(error)
        if self._export_due and self.outputs.exports:
            self._export_due = False
            self._export_final()
        if self.session.load_error:
            self.errors.append(self.session.load_error)
        for run in self.session.runs:  # a run that failed here (a replay reports none)
            if run.status is Status.FAILED and run.error:
                self.errors.append(f"{run.label} failed: {run.error}")
        if self.signal is not None:
            self._exit_code = 128 + int(self.signal)
        else:
            self._exit_code = EXIT_FAILED if self.errors else EXIT_OK
        return self._exit_code


def _verdict(run) -> str:
    """`diverging`, `chance`, or `diverged` (a status) where the health says no more."""
    if run.health is not Health.OK:
        return run.health.value
    return run.status.value


def _fill(reserved: Path, write, content) -> Path:
    """Write a name `unique_path` reserved; remove the empty placeholder if that fails."""
    try:
        return write(reserved, content)
    except BaseException:
        reserved.unlink(missing_ok=True)
        raise


"""A live session: the experiment, its history recorder and its exports, behind the controls the
app binds to keys. No Textual here; the app only calls these methods and renders the state."""

from __future__ import annotations

import time
from pathlib import Path

from mlp_tui.config import ExperimentConfig
from mlp_tui.engine.recorder import HistoryRecorder
from mlp_tui.engine.summary import summarize_run
from mlp_tui.engine.trainer import Experiment, Run
from mlp_tui.export import RunSummary, write_table

MAX_SPEED = 5120.0
MIN_SPEED = 1.0


def faster(speed: float) -> float:
    """Double the pace; past MAX_SPEED it becomes unthrottled (0)."""
    if speed <= 0:
        return 0.0
    return 0.0 if speed * 2 > MAX_SPEED else speed * 2


def slower(speed: float) -> float:
    """Halve the pace; from unthrottled it drops to MAX_SPEED."""
    if speed <= 0:
        return MAX_SPEED
    return max(MIN_SPEED, speed / 2)


def default_export_path(kind: str = "results", suffix: str = ".csv") -> Path:
    return Path(f"mlp-tui-{kind}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}")


class LiveSession:
    """Trains an ExperimentConfig; the app's keys map onto these methods."""

    live = True
    following = False

    def __init__(
        self,
        cfg: ExperimentConfig,
        export: Path | None = None,
        history: Path | None = None,
    ) -> None:
        self.export_path = export
        self.history_path = history
        self.auto_exported = False
        self._start(cfg)

    def _start(self, cfg: ExperimentConfig, append: bool = False) -> None:
        self.cfg = cfg
        self.experiment = Experiment(cfg, keep_retired=self.history_path is not None)
        self.recorder = (
            HistoryRecorder(self.experiment, self.history_path, append=append)
            if self.history_path
            else None
        )
        self.started = False

    def start(self) -> None:
        self.experiment.start()
        if self.recorder:
            self.recorder.start()
        self.started = True

    @property
    def has_val(self) -> bool:
        return self.cfg.val_split > 0

    @property
    def runs(self) -> list[Run]:
        return self.experiment.runs

    @property
    def speed(self) -> float:
        return self.experiment.speed

    @property
    def done(self) -> bool:
        return self.experiment.done

    @property
    def history_error(self) -> str | None:
        return self.recorder.error if self.recorder else None

    def toggle(self, width: int | None = None) -> None:
        """Pause or resume every run, or every run of one width."""
        self.experiment.toggle(width=width)

    def restart(self, width: int | None = None) -> None:
        self.auto_exported = False
        self.experiment.restart(width=width)

    def set_speed(self, speed: float) -> None:
        self.experiment.set_speed(speed)

    def summaries(self) -> list[RunSummary]:
        return [summarize_run(r) for r in self.runs]

    def export_table(self, path: Path | None = None) -> Path:
        """Write the final table now (to --export, else a timestamped CSV here)."""
        target = path or self.export_path or default_export_path()
        return write_table(target, self.summaries())

    def reconfigure(self, cfg: ExperimentConfig) -> None:
        """Stop everything and start again with a new configuration (the history file, if any,
        keeps the old rows and gets the new ones after them)."""
        self.stop()
        self._start(cfg, append=True)
        self.auto_exported = False
        self.start()

    def stop(self) -> None:
        """Stop every worker (paused ones too) and flush the history file."""
        self.experiment.stop()
        if self.recorder:
            self.recorder.close()

"""Live training in worker threads, behind the session contract."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.contract import Control, LifeRecord, Session, Unsupported
from mlp_tui.core.schema import Status
from mlp_tui.core.task import Task
from mlp_tui.core.text import failure
from mlp_tui.engine.experiment import Experiment
from mlp_tui.engine.run import Run


class LiveSession(Session):
    """Trains an ExperimentConfig, one thread per run; every control is supported.

    `deferred`: build the experiment (torch, scikit-learn, the dataset) in a thread that
    `start` begins, so that a face can draw before those imports; until it is built the session
    has no runs, says `loading`, keeps a speed change for later and refuses the run controls."""

    kind = "live"
    controls = frozenset(Control)

    def __init__(self, cfg: ExperimentConfig, deferred: bool = False) -> None:
        self._cfg = cfg
        self._speed = cfg.speed
        self.experiment: Experiment | None = None if deferred else Experiment(cfg)
        self._previous: list[Run] = []  # runs of earlier configurations (the settings form)
        self._loader: threading.Thread | None = None
        self._stopping = threading.Event()
        self.load_error: str | None = None

    @property
    def config(self) -> ExperimentConfig:
        return self._cfg

    @property
    def task(self) -> Task:
        return self._cfg.kind

    @property
    def runs(self) -> Sequence[Run]:
        return () if self.experiment is None else self.experiment.runs

    @property
    def loading(self) -> bool:
        return self.experiment is None and self.load_error is None

    @property
    def problem(self) -> str | None:
        return self.load_error

    @property
    def widths(self) -> tuple[int, ...]:
        return self.config.widths

    @property
    def has_val(self) -> bool:
        return self.config.val_split > 0

    @property
    def speed(self) -> float:
        return self._speed if self.experiment is None else self.experiment.speed

    @property
    def ended(self) -> bool:
        if self.experiment is None:
            return self.load_error is not None
        return self.experiment.done

    def describe(self) -> list[str]:
        return self.config.describe()

    def start(self) -> None:
        if self.experiment is not None:
            self.experiment.start()
        elif self._loader is None and not self._stopping.is_set():
            self._loader = threading.Thread(target=self._load, name="load", daemon=True)
            self._loader.start()

    def _load(self) -> None:
        """The deferred build: imports, data, runs; then training starts (unless stopped)."""
        try:
            experiment = Experiment(self._cfg)
        except Exception as exc:  # a face shows it; the runner ends with it
            self.load_error = f"could not start: {failure(exc)}"
            return
        if self._speed != experiment.speed:
            experiment.set_speed(self._speed)
        if not self._stopping.is_set():
            self.experiment = experiment
            experiment.start()

    def stop(self, timeout: float = 1.0) -> bool:
        self._stopping.set()
        deadline = time.monotonic() + timeout
        if self._loader is not None:
            self._loader.join(timeout)
        if self.experiment is None:
            return self._loader is None or not self._loader.is_alive()
        return self.experiment.stop(max(0.0, deadline - time.monotonic()))

    def _built(self) -> Experiment:
        if self.experiment is None:
            raise Unsupported("still loading torch and the data: a moment")
        return self.experiment

    def toggle(self, group: int | str | None = None) -> None:
        self._built().toggle(group)

    def restart(self, group: int | str | None = None) -> None:
        self._built().restart(group)

    def set_speed(self, speed: float) -> None:
        self._speed = speed
        if self.experiment is not None:
            self.experiment.set_speed(speed)

    def reconfigure(self, cfg: ExperimentConfig) -> None:
        """Stop every run and start again with a new configuration; the old runs' lives stay
        in `lives()` (a history file keeps their rows, then gets the new ones)."""
        old = self._built()
        old.stop()
        self._previous.extend(old.runs)
        self._cfg, self._speed = cfg, cfg.speed
        self.experiment = Experiment(cfg)
        self.experiment.start()

    def lives(self) -> list[LifeRecord]:
        out = []
        for run in [*self._previous, *self.runs]:
            retired, current, status = run.snapshot()
            meta = run.meta
            for life in retired:
                out.append(LifeRecord(
                    life.serial, {**meta, "seed": life.seed}, life.history, Status.STOPPED))
            # Ended only once its worker is done with it: a stop sets the status before the worker
            # has handed over its last epochs, and the end row must come after every epoch row.
            ended = status if status.ended and not run.alive else None
            seeded = {**meta, "seed": current.seed}
            out.append(LifeRecord(current.serial, seeded, current.history, ended))
        return out

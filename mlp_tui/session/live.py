"""Live training in worker threads, behind the session contract."""

from __future__ import annotations

from collections.abc import Sequence

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.contract import Control, LifeRecord, Session
from mlp_tui.engine.experiment import Experiment
from mlp_tui.engine.run import Run


def describe_config(cfg: ExperimentConfig) -> list[str]:
    """The header's facts about a configuration."""
    depth = ",".join(str(d) for d in cfg.values("depth"))
    lr = ",".join(f"{v:g}" for v in cfg.values("lr"))
    parts = [cfg.dataset, f"depth {depth}", f"{'/'.join(cfg.values('optimizer'))} lr {lr}"]
    if cfg.values("batch_size") != (0,):
        parts.append("batch " + ",".join(str(b) or "full" for b in cfg.values("batch_size")))
    parts.append(f"{cfg.epochs} epochs")
    if cfg.val_split > 0:
        parts.append(f"val split {cfg.val_split:g}")
    if cfg.repeats > 1:
        parts.append(f"{cfg.repeats} seeds/width" + (", stacked" if cfg.stack else ""))
    if cfg.grid_axes():
        parts.append(f"{cfg.n_runs} runs")
    return parts


class LiveSession(Session):
    """Trains an ExperimentConfig, one thread per run; every control is supported."""

    kind = "live"
    controls = frozenset(Control)

    def __init__(self, cfg: ExperimentConfig) -> None:
        self.experiment = Experiment(cfg)
        self._previous: list[Run] = []  # runs of earlier configurations (the settings form)

    @property
    def config(self) -> ExperimentConfig:
        return self.experiment.cfg

    @property
    def runs(self) -> Sequence[Run]:
        return self.experiment.runs

    @property
    def widths(self) -> tuple[int, ...]:
        return self.config.widths

    @property
    def has_val(self) -> bool:
        return self.config.val_split > 0

    @property
    def speed(self) -> float:
        return self.experiment.speed

    @property
    def ended(self) -> bool:
        return self.experiment.done

    def describe(self) -> list[str]:
        return describe_config(self.config)

    def start(self) -> None:
        self.experiment.start()

    def stop(self, timeout: float = 1.0) -> bool:
        return self.experiment.stop(timeout)

    def toggle(self, group: int | str | None = None) -> None:
        self.experiment.toggle(group)

    def restart(self, group: int | str | None = None) -> None:
        self.experiment.restart(group)

    def set_speed(self, speed: float) -> None:
        self.experiment.set_speed(speed)

    def reconfigure(self, cfg: ExperimentConfig) -> None:
        """Stop every run and start again with a new configuration; the old runs' lives stay
        in `lives()` (a history file keeps their rows, then gets the new ones)."""
        self.experiment.stop()
        self._previous.extend(self.experiment.runs)
        self.experiment = Experiment(cfg)
        self.experiment.start()

    def lives(self) -> list[LifeRecord]:
        out = []
        for run in [*self._previous, *self.experiment.runs]:
            retired, current, status = run.snapshot()
            meta = run.meta
            for life in retired:
                out.append(LifeRecord(life.serial, {**meta, "seed": life.seed}, life.history, None))
            # Ended only once its worker is done with it: a stop sets the status before the worker
            # has handed over its last epochs, and the end row must come after every epoch row.
            ended = status if status.ended and not run.alive else None
            seeded = {**meta, "seed": current.seed}
            out.append(LifeRecord(current.serial, seeded, current.history, ended))
        return out

"""The runs of an experiment and what every backend does with them, defined once: their order,
their seeds, their names and settings, which runs a group control reaches, what a toggle does,
and which runs train together as one unit of work. The thread backend's `engine.run.Run` and the
driver's `session.remote.RemoteRun` of the hosted backends both follow these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from mlp_tui.core.config import ExperimentConfig, run_meta
from mlp_tui.core.grid import group_name
from mlp_tui.core.history import RunHistory


def planned_runs(cfg: ExperimentConfig) -> list[tuple[int, ExperimentConfig, int]]:
    """(width, grid point, repeat) of every run, in the order runs are numbered: widths, then
    grid points (the config with single values, config.points), then seeds."""
    return [(w, p, r) for w in cfg.widths for p in cfg.points() for r in range(cfg.repeats)]


def first_seed(cfg: ExperimentConfig, index: int, repeat: int) -> int:
    """A run's first life's seed: the config's plus the repeat (seed, seed + 1, ...), or the
    run's own entry of `seeds` (an export's record of restarts)."""
    return cfg.seeds[index] if cfg.seeds else cfg.seed + repeat


def next_seed(cfg: ExperimentConfig, seed: int) -> int:
    """The seed a restart gives: the next one that no other repeat of the run's configuration
    takes (seed + repeats)."""
    return seed + cfg.repeats


class _Life(Protocol):
    seed: int
    history: RunHistory


class PlannedRun:
    """What a run of the plan shows, the thread backend's Run and the driver's RemoteRun alike:
    its names (`group`, `label`) from its width, repeat, config and the grid settings that vary
    (`grid_axes`), and its current life's seed, history and settings (`meta`)."""

    index: int
    width: int
    repeat: int
    cfg: ExperimentConfig
    grid_axes: tuple[str, ...]
    device: str
    life: _Life

    @property
    def seed(self) -> int:
        return self.life.seed

    @property
    def history(self) -> RunHistory:
        return self.life.history

    @property
    def meta(self) -> dict[str, object]:
        return run_meta(self.cfg, self.index, self.width, self.repeat, self.seed, self.device)

    @property
    def group(self) -> str:
        """The configuration this run trains, seeds aside: `w=5`, or `w=5 d=2 lr=0.01` in a grid
        (only the grid settings that vary are named)."""
        return group_name(self.width, {a: getattr(self.cfg, a) for a in self.grid_axes})

    @property
    def label(self) -> str:
        return self.group if self.cfg.repeats == 1 else f"{self.group}#{self.repeat}"

    @property
    def stack_key(self) -> tuple:
        """What a run shares with the others of its `--stack`: its width and grid point."""
        return (self.width, self.cfg)


class _Controlled(Protocol):
    width: int
    group: str
    active: bool
    paused: bool


R = TypeVar("R", bound=_Controlled)


def select(runs: Sequence[R], group: int | str | None) -> list[R]:
    """The runs a control for `group` reaches: one width's, one configuration's (its `group`
    name), or every run (None)."""
    if group is None:
        return list(runs)
    if isinstance(group, int):
        return [r for r in runs if r.width == group]
    return [r for r in runs if r.group == group]


def pauses(runs: Sequence[_Controlled]) -> bool:
    """What a toggle does to `runs`: pause them all when any of them trains unpaused (True),
    else resume them all (False)."""
    return any(r.active and not r.paused for r in runs)


def stacks(runs: list) -> list[list]:
    """`--stack`: the runs grouped by `stack_key` (they differ only by seed), in their order."""
    groups: dict[tuple, list] = {}
    for run in runs:
        groups.setdefault(run.stack_key, []).append(run)
    return list(groups.values())


def units(runs: list, stack: bool) -> list[list]:
    """The runs as units of work, in their order: with `--stack` each stack's, else one each."""
    return stacks(runs) if stack else [[run] for run in runs]

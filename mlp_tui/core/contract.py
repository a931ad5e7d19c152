"""The session contract every face (TUI, headless, browser) renders and every source implements.

A session is a set of runs and what can be done with them. Live training (threads today),
a replayed history file and a followed one are sessions; the faces and the lifecycle runner never
ask which kind they hold: they read `runs`, call the controls listed in `controls`, and wait for
`ended`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mlp_tui.core.schema import Health, Status

if TYPE_CHECKING:
    from mlp_tui.core.config import ExperimentConfig
    from mlp_tui.core.history import RunHistory


class Control(str, Enum):
    """What a user can do to a session's runs; a session lists the ones it supports."""

    PAUSE = "pause"  # pause / resume all runs or one width
    RESTART = "restart"  # a fresh life with the next seed
    SPEED = "speed"  # epochs per second
    CONFIGURE = "configure"  # edit the experiment and start again


class Unsupported(Exception):
    """A control the session does not offer; `str()` says why, for a one-line notice."""


@runtime_checkable
class RunView(Protocol):
    """One run as the faces see it: its current life, state and settings."""

    index: int
    width: int
    repeat: int
    total: int  # planned epochs

    @property
    def seed(self) -> int: ...

    @property
    def label(self) -> str: ...

    @property
    def meta(self) -> dict[str, object]:
        """The current life's settings, keyed by `schema.RUN_FIELDS`."""
        ...

    @property
    def history(self) -> RunHistory: ...

    @property
    def status(self) -> Status: ...

    @property
    def health(self) -> Health: ...

    @property
    def epochs_per_s(self) -> float | None:
        """The recent rate, or None when not known (paused, ended, not measured yet)."""
        ...

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True)
class Life:
    """A life of a run for the history file: its settings, epochs and, once ended, the status
    it ended with (None while it runs, and for a life a restart cut short)."""

    key: int  # stable while the life exists
    meta: dict[str, object]
    history: RunHistory
    ended: Status | None


@runtime_checkable
class Session(Protocol):
    """What every face drives. Controls not in `controls` raise `Unsupported`."""

    kind: str  # "live", "replay" or "follow": for people to read, never branched on
    controls: frozenset[Control]

    @property
    def runs(self) -> Sequence[RunView]: ...

    @property
    def widths(self) -> tuple[int, ...]: ...

    @property
    def has_val(self) -> bool: ...

    @property
    def config(self) -> ExperimentConfig | None:
        """The live configuration (for the settings form), None for a recorded session."""
        ...

    def describe(self) -> list[str]:
        """Short facts for the header: a recorded session's kind, dataset, depth, epochs..."""
        ...

    @property
    def speed(self) -> float | None: ...

    @property
    def ended(self) -> bool:
        """Every run has ended and no more epochs can come."""
        ...

    @property
    def problem(self) -> str | None:
        """A condition to show while it lasts (a followed file that became unreadable)."""
        ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 1.0) -> bool:
        """End every run (paused ones too); True when every worker is gone."""
        ...

    def toggle(self, group: int | str | None = None) -> None:
        """Pause or resume every run, one width's, or one grid configuration's (its name)."""
        ...

    def restart(self, group: int | str | None = None) -> None: ...

    def set_speed(self, speed: float) -> None: ...

    def reconfigure(self, cfg: ExperimentConfig) -> None: ...

    def lives(self) -> list[Life]:
        """Every life so far, oldest first, ended ones included (for history files)."""
        ...


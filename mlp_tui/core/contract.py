"""The session contract every face (TUI, headless, browser) renders and every source implements.

A session is a set of runs and what can be done with them. Live training (threads, worker
processes, Ray), a replayed history file, a followed one and a TensorBoard log directory are
sessions; the faces and the lifecycle runner never ask which kind they hold: they read `runs`,
call the controls listed in `controls`, and wait for `ended`.

Every member a face reads is declared here. A kind inherits these classes (`class
ReplaySession(Session)`): it must define the abstract members and gets the optional ones'
defaults (as harlequin's adapter declares `implements_copy`), so it overrides only what differs.
A member that some kind assigns on its instances (`self.history = ...`) is declared as a plain
attribute, since a property would refuse the assignment; the others are properties.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mlp_tui.core.history import History
from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import CLASSIFICATION, Task

if TYPE_CHECKING:
    from mlp_tui.core.config import ExperimentConfig

# What a control says on a session without controls: only `mlp-tui replay` opens those.
NOT_LIVE = "these runs are a recording; nothing trains here"


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
    width: int  # a TensorBoard run's is a stand-in key for its row (it shows `name`)
    repeat: int
    total: int | None  # planned epochs; None where nobody knows (a TensorBoard log)
    meta: dict[str, object]  # the current life's settings, keyed by `schema.RUN_FIELDS`
    history: History  # the current life's epochs
    error: str | None = None  # why the run failed
    name: str = ""  # a name of its own, shown instead of its group's (a log's run folder)

    @property
    @abstractmethod
    def seed(self) -> int | None: ...  # None: a log has no seed

    @property
    @abstractmethod
    def label(self) -> str: ...

    @property
    @abstractmethod
    def status(self) -> Status: ...

    @property
    @abstractmethod
    def health(self) -> Health: ...

    @property
    @abstractmethod
    def epochs_per_s(self) -> float | None:
        """The recent rate, or None when not known (paused, ended, not measured yet)."""

    @property
    def waiting_s(self) -> float | None:
        """Status WAITING (a followed recording gone quiet): seconds since its last epoch
        arrived; None otherwise."""
        return None


@dataclass(frozen=True)
class LifeRecord:
    """A life of a run for the history file: its settings, epochs and, once ended, the status
    it ended with (None while it runs; `stopped` for a life a restart cut short)."""

    key: int  # stable while the life exists
    meta: dict[str, object]
    history: History
    ended: Status | None


@runtime_checkable
class Session(Protocol):
    """What every face drives. Controls not in `controls` raise `Unsupported`."""

    kind: str  # "live", "replay", "follow", "tensorboard": for people to read, never branched on
    controls: frozenset[Control] = frozenset()
    config: ExperimentConfig | None = None  # the live configuration (the settings form)
    speed: float | None = None  # epochs per second per run; None for a recorded session
    problem: str | None = None  # a condition to show while it lasts (a followed file went bad)
    # The metrics `m` cycles through when the session has its own (a TensorBoard log's tags);
    # None: the schema's metrics.
    metrics: tuple[str, ...] | None = None
    x_name: str = "epoch"  # what the plot's x-axis counts (a TensorBoard log: "step")
    # What the runs predict and how they are judged: every column, cell and health word derives
    # from it (a live session's config says; a recording's columns or tags tell).
    task: Task = CLASSIFICATION
    # Still importing torch and building the runs (a deferred live session: the app's first
    # frame comes before them); `runs` is empty meanwhile.
    loading: bool = False
    load_error: str | None = None  # why a deferred session could not start (it has no runs)

    @property
    @abstractmethod
    def runs(self) -> Sequence[RunView]: ...

    @property
    @abstractmethod
    def widths(self) -> tuple[int, ...]: ...

    @property
    @abstractmethod
    def has_val(self) -> bool: ...

    @property
    @abstractmethod
    def ended(self) -> bool:
        """Every run has ended and no more epochs can come."""

    @abstractmethod
    def describe(self) -> list[str]:
        """Short facts for the header: a recorded session's kind, dataset, depth, epochs..."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self, timeout: float = 1.0) -> bool:
        """End every run (paused ones too); True when every worker is gone."""

    @abstractmethod
    def lives(self) -> list[LifeRecord]:
        """Every life so far, oldest first, ended ones included (for history files)."""

    def toggle(self, group: int | str | None = None) -> None:
        """Pause or resume every run, one width's, or one grid configuration's (its name)."""
        raise Unsupported(NOT_LIVE)

    def restart(self, group: int | str | None = None) -> None:
        """A fresh life with the next seed for every run, one width's or one configuration's."""
        raise Unsupported(NOT_LIVE)

    def set_speed(self, speed: float) -> None:
        raise Unsupported(NOT_LIVE)

    def reconfigure(self, cfg: ExperimentConfig) -> None:
        raise Unsupported(NOT_LIVE)

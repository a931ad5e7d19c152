"""A TensorBoard log directory, written by any program, as a session: replayed, or followed while
that program writes it. Each run folder is a run, its scalar tags are the metrics `m` cycles
through (`metrics`), and the step is the x-axis. Like a replayed history it offers no controls.

A log says nothing of widths or seeds: each run stands in its own row, named by its folder
(`name`), and its settings (`meta`) are left empty rather than guessed; only the seed of a
folder mlp-tui itself named (`..._seed0`) is read from its name.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from mlp_tui.core.contract import LifeRecord, RunView, Session
from mlp_tui.core.schema import RUN_FIELDS, STALE_S, Health, Status
from mlp_tui.core.settings import describe, recorded_values
from mlp_tui.core.task import ALL_METRICS, task_of_columns
from mlp_tui.core.text import printable
from mlp_tui.persist.tb_reader import LogdirError, LogdirReader
from mlp_tui.session.tag_history import TagHistory

_SERIAL = itertools.count(1)
# mlp-tui's own life folders (persist.tensorboard.life_folder): `run0_iris_w5_..._seed0`, with
# `-2`... when a name was taken. Only there is the seed known; any other log's is not guessed.
_OWN_FOLDER = re.compile(r"^run\d+_.+_seed(\d+)(?:-\d+)?$")


def folder_seed(name: str) -> int | None:
    """The seed an mlp-tui life folder's name says (its last part), else None."""
    m = _OWN_FOLDER.match(name.replace("\\", "/").rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


class TagRun(RunView):
    """One run folder of the log directory."""

    repeat = 0
    seed: int | None = None  # unknown (the table shows "-") unless the folder is mlp-tui's own
    epochs_per_s = None
    health = Health.OK

    def __init__(self, index: int, name: str, session: TensorBoardSession) -> None:
        self.index = index
        self.width = index + 1  # a stand-in key for the table's row; `name` is shown instead
        self.name = printable(name)
        self.seed = folder_seed(name)
        self.history = TagHistory()
        self.key = next(_SERIAL)
        self._session = session
        self.meta: dict[str, object] = {f.name: None for f in RUN_FIELDS}
        self.meta["run"] = index
        self.arrived = session.clock()  # when its latest points were read (staleness)

    @property
    def label(self) -> str:
        return self.name

    @property
    def total(self) -> None:
        """Unknown: a log does not say how many steps were planned."""
        return None

    @property
    def status(self) -> Status:
        """A log does not say how its runs ended: what was read is all there is (finished),
        unless the directory is followed (running until the session stops)."""
        if not self._session.live:
            return Status.FINISHED
        quiet = self._session.clock() - self.arrived >= STALE_S
        return Status.WAITING if quiet else Status.RUNNING  # followed, but nothing new

    @property
    def waiting_s(self) -> float | None:
        if self.status is not Status.WAITING:
            return None
        return self._session.clock() - self.arrived


class TensorBoardSession(Session):
    """Reads a log directory (and, when following, what is written to it later); the controls
    are the contract's defaults: none."""

    has_val = False
    x_name = "step"  # the plot's x-axis: TensorBoard's step, not an epoch

    def __init__(self, path: Path, follow: bool = False, poll_s: float = 0.5,
                 clock=time.monotonic) -> None:
        self.path = Path(path)
        self.clock = clock  # what a followed run's staleness is measured on
        self.following = follow
        self.live = follow
        self.kind = "tensorboard follow" if follow else "tensorboard"
        self.poll_s = poll_s
        self.reader = LogdirReader(self.path)  # LogdirError: the CLI says it in one line
        self._runs: list[TagRun] = []
        self._by_name: dict[str, TagRun] = {}
        self.metrics: tuple[str, ...] = ()
        self._error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.read_all()
        if not self._runs and not follow:
            why = self.reader.damage or "event files under it hold none, or are damaged"
            raise LogdirError(f"{self.path}: no TensorBoard scalars found ({why})")

    def read_all(self) -> None:
        news = self.reader.read_new()
        for name, tags in news.items():
            run = self._by_name.get(name)
            if run is None:
                run = self._by_name[name] = TagRun(len(self._runs), name, self)
                self._runs = [*self._runs, run]  # swapped whole: readers iterate the old one
            for tag, points in tags.items():
                run.history.add(tag, points.steps, points.values, points.wall)
            run.arrived = self.clock()
        if news:
            tags = {t for r in self._runs for t in r.history.tags}
            known = [m for m in ALL_METRICS if m in tags]  # an mlp-tui log's own order
            self.metrics = (*known, *sorted(tags - set(known)))
            self.task = task_of_columns(tags)

    @property
    def runs(self) -> Sequence[TagRun]:
        return self._runs

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(r.width for r in self._runs)

    def describe(self) -> list[str]:
        parts = [self.kind, printable(self.path.name or str(self.path))]
        parts += describe(recorded_values([r.meta for r in self._runs]))  # none unless known
        parts.append(f"{len(self._runs)} runs, {len(self.metrics)} scalar tags")
        return parts

    @property
    def ended(self) -> bool:
        return not self.live

    @property
    def problem(self) -> str | None:
        """A directory gone unreadable while followed, else a damaged event file."""
        damage = self.reader.damage
        return self._error or (damage and f"{damage}; the events before it are shown")

    def start(self) -> None:
        if self.following and self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="tb-follow", daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.read_all()
            except (LogdirError, OSError) as exc:
                self._error = str(exc)

    def stop(self, timeout: float = 1.0) -> bool:
        self._stop.set()
        self.live = False
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def lives(self) -> list[LifeRecord]:
        return [LifeRecord(r.key, dict(r.meta), r.history, r.status if r.status.ended else None)
                for r in self._runs]

"""Fixtures for driving the real app with Textual's pilot: a live session (training threads)
or a replayed history file, each behind the one Runner every face uses."""

from __future__ import annotations

import difflib
import functools
import html
import json
import pickle
import re
import time
from pathlib import Path

import pytest
import pytest_textual_snapshot
from helpers import DATA

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.live import LiveSession
from mlp_tui.session.replay import ReplaySession
from mlp_tui.tui.app import MlpTuiApp

_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>')


def screen_rows(svg: str) -> list[str]:
    """The text of a Textual SVG screenshot, one string per screen row."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in _TEXT.finditer(svg):
        rows.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    return ["".join(t for _, t in sorted(r)).replace("\xa0", " ") for _, r in sorted(rows.items())]


@pytest.fixture
def snap_compare(snap_compare, request):
    """The plugin's snap_compare, failing with the diff of the two screens' text: a failure on
    a machine whose HTML report nobody can open still says what differed."""

    def compare(*args, **kwargs) -> bool:
        __tracebackhide__ = True
        if snap_compare(*args, **kwargs):
            return True
        data = pickle.loads(pytest_textual_snapshot.node_to_report_path(request.node).read_bytes())
        expected, actual = screen_rows(data[1]), screen_rows(data[2])
        diff = "\n".join(difflib.unified_diff(expected, actual, "snapshot", "this run",
                                               lineterm="", n=1))
        raise AssertionError("the screen differs from its snapshot:\n"
                             + (diff or "(the same text: colours or styles differ)"))

    return compare


class RecordedTrainer:
    """Stands in for a run's kernel (engine/kernel.py): serves the epochs the default experiment
    computed once (tests/data/iris_seed0.jsonl, seed 0) through the real worker, run, session and
    app. A live screen whose numbers come from this CPU's BLAS would be a snapshot of one machine
    (docs/portability.md); these are the same on every CPU."""

    slots = 1
    rows = 16  # epochs handed over at a time, as a short buffer

    def __init__(self, cfg, data, width: int, seeds: list[int]) -> None:
        self.width, self.n = width, data.y_train.shape[0]
        self.buffered = 0
        self.stamps: list[float] = []
        self.reseed(0, seeds[0])

    def reseed(self, slot: int, seed: int) -> None:
        epochs = _recorded_epochs(seed).get(self.width)
        assert epochs, f"no recorded epochs for width {self.width}, seed {seed}"
        self.epochs, self.next = epochs, 0

    def set_active(self, slot: int, active: bool) -> None:
        pass

    def compute(self, room: int, until: float, ctl) -> float:
        while True:
            self.buffered += 1
            now = time.perf_counter()
            self.stamps.append(now)
            if self.buffered >= room or now >= until or ctl.interrupt:
                return now

    def take(self) -> tuple[list[dict[str, list]], list[float]]:
        done = self.epochs[self.next : self.next + self.buffered]
        assert len(done) == self.buffered, "asked for more epochs than were recorded"
        self.next += self.buffered
        cols = {
            "train_loss": [e["train_loss"] for e in done],
            "train_acc": [round(e["train_acc"] * self.n) for e in done],
        }
        stamps = self.stamps[: self.buffered]
        del self.stamps[: self.buffered]
        self.buffered = 0
        return [cols], stamps


@functools.cache
def _recorded_epochs(seed: int) -> dict[int, list[dict]]:
    """{width: its epochs in order} of the recorded default run."""
    by_width: dict[int, list[dict]] = {}
    for line in (DATA / "iris_seed0.jsonl").read_text().splitlines():
        epoch = json.loads(line)
        if epoch["seed"] == seed:
            by_width.setdefault(epoch["width"], []).append(epoch)
    return by_width


@pytest.fixture
def recorded_training(monkeypatch) -> None:
    """Live runs train on RecordedTrainer: the default experiment's recorded numbers."""
    monkeypatch.setattr("mlp_tui.engine.worker.kernel_for", RecordedTrainer)


@pytest.fixture
def live_app():
    """Factory: an app over a live session (config keywords, plus `export`, `history` and
    `force` for the runner's Outputs). Every runner is finished at teardown, so a failing test
    leaves no worker thread behind."""
    runners: list[Runner] = []

    def make(
        export: Path | None = None,
        history: Path | None = None,
        force: bool = False,
        quiet: bool = False,
        **cfg,
    ) -> MlpTuiApp:
        cfg.setdefault("epochs", 100_000)
        cfg.setdefault("speed", 200)
        session = LiveSession(validate(ExperimentConfig(**cfg)))
        runner = Runner(session, Outputs(export, history, force))
        runners.append(runner)
        return MlpTuiApp(runner, quiet=quiet)

    yield make
    for runner in runners:
        runner.finish()
    for runner in runners:
        assert not any(r.alive for r in runner.session.runs), "a worker thread outlived its test"


@functools.cache
def _recorded(path: Path) -> ReplaySession:
    """A file of tests/data, read once per test process: a replay only reads what it holds
    (no controls, nothing followed), so the apps of many tests can show one session."""
    return ReplaySession(path, follow=False)


@pytest.fixture
def replay_app():
    """Factory: an app replaying a history file (a name in tests/data, or a path)."""
    runners: list[Runner] = []

    def make(name: str | Path = "iris_seed0.jsonl") -> MlpTuiApp:
        path = name if isinstance(name, Path) else DATA / name
        session = _recorded(path) if path.parent == DATA else ReplaySession(path, follow=False)
        runner = Runner(session, Outputs())
        runners.append(runner)
        return MlpTuiApp(runner)

    yield make
    for runner in runners:
        runner.finish()

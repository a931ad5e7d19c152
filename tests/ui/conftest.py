"""Fixtures for driving the real app with Textual's pilot: a live session (training threads)
or a replayed history file, each behind the one Runner every face uses."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from helpers import DATA

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.live import LiveSession
from mlp_tui.session.replay import ReplaySession
from mlp_tui.tui.app import MlpTuiApp


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

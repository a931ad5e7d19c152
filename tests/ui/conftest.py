"""Fixtures for driving the real app with Textual's pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import DATA

from mlp_tui.app import MlpTuiApp
from mlp_tui.config import ExperimentConfig
from mlp_tui.replay import ReplaySession
from mlp_tui.session import LiveSession


@pytest.fixture
def live_app():
    """Factory: a MlpTuiApp over a live session; every session is stopped afterwards."""
    sessions: list[LiveSession] = []

    def make(export: Path | None = None, history: Path | None = None, **cfg) -> MlpTuiApp:
        cfg.setdefault("epochs", 100_000)
        cfg.setdefault("speed", 200)
        session = LiveSession(ExperimentConfig(**cfg), export, history)
        sessions.append(session)
        return MlpTuiApp(session)

    yield make
    for s in sessions:
        s.stop()


@pytest.fixture
def replay_app():
    def make(name: str = "iris_seed0.jsonl") -> MlpTuiApp:
        return MlpTuiApp(ReplaySession(DATA / name))

    return make

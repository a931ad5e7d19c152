"""Fixtures for the unit tests; the helpers themselves live in engine_reference.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def make_experiment():
    """Build Experiments from ExperimentConfig keywords; every one is stopped at teardown, so a
    failing test never leaves worker threads behind."""
    from mlp_tui.config import ExperimentConfig, validate
    from mlp_tui.engine.trainer import Experiment

    made = []

    def make(keep_retired: bool = False, **fields):
        exp = Experiment(validate(ExperimentConfig(**fields)), keep_retired=keep_retired)
        made.append(exp)
        return exp

    yield make
    for exp in made:
        assert exp.stop(2.0), "worker threads did not stop"

"""Fixtures for every test folder; plain helpers live in helpers.py.

Tests under tests/e2e start processes, terminals or signals: they carry the `e2e` marker, so
`pytest -m "not e2e"` runs the fast core.
"""

from __future__ import annotations

from pathlib import Path

import pytest

E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if E2E in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def config_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test (and every process it starts) gets its own empty config directory: the
    remembered view never leaks from the user's home or from one test into another."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def make_experiment():
    """Build Experiments from ExperimentConfig keywords; every one is stopped at teardown, so a
    failing test never leaves worker threads behind."""
    from mlp_tui.core.config import ExperimentConfig, validate
    from mlp_tui.engine.experiment import Experiment

    made = []

    def make(**fields):
        exp = Experiment(validate(ExperimentConfig(**fields)))
        made.append(exp)
        return exp

    yield make
    for exp in made:
        assert exp.stop(5.0), "worker threads did not stop"


@pytest.fixture
def make_runner():
    """Build a Runner over a live session from config keywords (and Outputs keywords
    `export`, `history`, `force`); each is finished at teardown."""
    from mlp_tui.core.config import ExperimentConfig, validate
    from mlp_tui.runner import Outputs, Runner
    from mlp_tui.session.live import LiveSession

    made = []

    def make(export=None, history=None, force=False, **fields):
        session = LiveSession(validate(ExperimentConfig(**fields)))
        runner = Runner(session, Outputs(export, history, force))
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.finish()

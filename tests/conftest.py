"""Fixtures for every test folder; plain helpers live in helpers.py.

Tests under tests/e2e start processes, terminals or signals: they carry the `e2e` marker, so
`pytest -m "not e2e"` runs the fast core.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

# An environment may set PYTHONDONTWRITEBYTECODE=1 (this one does): then every worker compiles
# and assert-rewrites some 170 modules again on every run, and every process a test starts
# compiles mlp_tui again. The suite keeps its bytecode (git-ignored __pycache__) regardless.
sys.dont_write_bytecode = False

# A test process builds and drops hundreds of apps over a heap of torch and Textual modules:
# with the default thresholds the collector's passes took about 5% of the fast core's CPU.
# Rarer passes here; the app's own policy (gc.freeze once mounted) is unchanged.
gc.set_threshold(50_000, 50, 1000)

# The shared helpers assert too: rewritten like test modules, a failed wait shows the values.
pytest.register_assert_rewrite("helpers", "ui_helpers")

E2E = Path(__file__).parent / "e2e"
# The tests whose assertions are numbers computed by torch's kernels (bit-identity with a plain
# loop, stacked against separate runs): `.ci/run` runs them again under other kernel paths of the
# same CPU (one OpenMP thread; MKL and ATen limited to AVX2), see docs/portability.md.
NUMERICS = (
    "unit/test_fidelity.py",
    "unit/test_optim.py",
    "unit/test_controls.py",
    "unit/test_stack.py",
    "unit/test_stack_controls.py",
    "unit/test_headless.py::test_acceptance_run_matches_the_plain_loop",
    "e2e/test_fidelity_process.py",
    "e2e/test_process_backend.py::test_numbers_match_threads_and_runs_beyond_the_pool_wait_queued",
    "e2e/test_process_backend.py::test_a_stack_is_one_unit_of_work_with_the_thread_stacks_numbers",
)


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """The fast core (`-m "not e2e"`) does not import the e2e modules only to deselect them
    (about 2 s a worker)."""
    if config.getoption("markexpr") == "not e2e" and (
        collection_path == E2E or E2E in collection_path.parents
    ):
        return True
    return None


def pytest_collection_modifyitems(config, items) -> None:
    root = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if E2E in path.parents:
            item.add_marker(pytest.mark.e2e)
        name = f"{path.relative_to(root).as_posix()}::{item.originalname}"
        if any(name == n or name.startswith(n + "::") for n in NUMERICS):
            item.add_marker(pytest.mark.numerics)


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

"""The app over the process backend: workers start under the TUI (whose stderr is a stand-in
with no file number), the runs train, and `p` pauses them in their worker processes."""

from __future__ import annotations

import pytest
from ui_helpers import header, press, wait_for

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.process import ProcessSession
from mlp_tui.tui.app import MlpTuiApp

pytestmark = pytest.mark.e2e  # starts worker processes


async def test_p_pauses_runs_in_their_worker_processes():
    session = ProcessSession(validate(ExperimentConfig(widths=(5, 100), speed=100,
                                                       epochs=1_000_000)), workers=2)
    runner = Runner(session, Outputs())
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: all(len(r.history) > 3 for r in session.runs),
                           timeout=60)
            await wait_for(pilot, lambda: "2 worker processes" in header(app))
            await press(pilot, "p")
            await wait_for(pilot, lambda: all(r._state is Status.PAUSED for r in session.runs))
            await wait_for(pilot, lambda: header(app).startswith("PAUSED"))
            assert all(r.error is None for r in session.runs)
    finally:
        pids = session.pids()
        runner.finish()
    assert pids and not session.pids()

"""Run in a fresh interpreter by bench_startup: the app's first rendered frame.

Imports the app, starts it under run_test at 160x45 with the default config and waits until the
header has been rendered to the screen; prints that moment on the monotonic clock (shared by all
processes on Linux) as JSON, so the parent can subtract the moment it spawned this process.
"""

from __future__ import annotations

import asyncio
import json
import time


async def first_frame() -> dict[str, float]:
    t_import = time.monotonic()
    from mlp_tui.core.config import ExperimentConfig
    from mlp_tui.runner import Runner
    from mlp_tui.session.live import LiveSession
    from mlp_tui.tui.app import MlpTuiApp

    t_imported = time.monotonic()
    runner = Runner(LiveSession(ExperimentConfig()))
    app = MlpTuiApp(runner)
    try:
        async with app.run_test(size=(160, 45)):
            while not _header_rendered(app):
                await asyncio.sleep(0.001)
            shown = time.monotonic()
    finally:
        runner.finish()  # waits for the workers: one inside torch's lazy imports aborts the exit
    return {"first_frame": shown, "app_import_s": t_imported - t_import}


def _header_rendered(app) -> bool:
    cache = getattr(app.header, "_render_cache", None)
    return bool(cache and "".join(s.text for strip in cache.lines for s in strip).strip())


if __name__ == "__main__":
    print(json.dumps(asyncio.run(first_frame())))

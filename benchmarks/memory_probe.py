"""Run in a fresh interpreter by bench_history.memory: RSS growth of long histories.

Usage: memory_probe.py EPOCHS; prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import sys

from harness import fake_session, rss_mb

from mlp_tui.view import Monitor


def main(epochs: int) -> dict[str, float]:
    gc.collect()
    rss0, hwm0 = rss_mb(), rss_mb("VmHWM")
    session = fake_session(epochs)
    gc.collect()
    rss_histories = rss_mb() - rss0
    monitor = Monitor(session)
    monitor.tick()  # builds every SeriesTrack over the full histories
    gc.collect()
    return {
        "rss_growth_mb": rss_mb() - rss0,
        "rss_histories_mb": rss_histories,
        "hwm_growth_mb": rss_mb("VmHWM") - hwm0,
        "history_mb": sum(r.history.nbytes() for r in session.runs) / 2**20,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))

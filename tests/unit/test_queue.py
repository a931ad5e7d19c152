"""More runs than workers: the rest wait as `queued`, the thread count stays bounded, and every
run still trains to the end (a restart of a finished run queues again)."""

from __future__ import annotations

import threading
import time

from helpers import wait_until

import mlp_tui.engine.experiment as experiment_module
from mlp_tui.core.schema import Status


def test_runs_beyond_the_workers_queue_and_all_finish(make_experiment, monkeypatch):
    monkeypatch.setattr(experiment_module, "MAX_WORKERS", 3)
    exp = make_experiment(speed=0, epochs=40, widths=(2, 3, 4, 5), repeats=3)
    baseline = threading.active_count()
    exp.start()
    seen_queued = any(r.status is Status.QUEUED for r in exp.runs)
    peak_threads = peak_training = 0
    deadline = time.monotonic() + 60
    while not exp.done and time.monotonic() < deadline:
        peak_threads = max(peak_threads, threading.active_count() - baseline)
        peak_training = max(peak_training, sum(r.status is Status.RUNNING for r in exp.runs))
        time.sleep(0.001)
    assert exp.done
    assert seen_queued
    assert peak_training <= 3, f"{peak_training} runs training at once with 3 workers"
    # A worker that hands its slot on is still exiting when the next one starts.
    assert peak_threads <= 6, f"{peak_threads} threads for 3 workers"
    assert all(r.status is Status.FINISHED and len(r.history) == 40 for r in exp.runs)
    assert wait_until(lambda: threading.active_count() <= baseline)


def test_a_restart_after_the_end_trains_a_new_life(make_experiment, monkeypatch):
    monkeypatch.setattr(experiment_module, "MAX_WORKERS", 1)
    exp = make_experiment(speed=0, epochs=20, widths=(5, 100))
    exp.start()
    assert exp.wait(30)
    run = exp.runs[0]
    run.restart()
    assert wait_until(lambda: run.status is Status.FINISHED and run.seed == 1, 30)
    assert len(run.history) == 20 and len(run.retired) == 1

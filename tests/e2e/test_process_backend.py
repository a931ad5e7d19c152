"""`--backend process`: a pool of worker processes. The numbers are the thread backend's bit for
bit, runs beyond the pool wait queued, every control keeps its meaning, a killed worker fails only
its run, and no worker outlives its parent, however the parent dies."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from helpers import STEADY_S, cli_command, grows, steady, wait_until

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.session.process import ProcessSession


@pytest.fixture
def process_session():
    made: list[ProcessSession] = []

    def make(workers: int = 2, **fields) -> ProcessSession:
        session = ProcessSession(validate(ExperimentConfig(**fields)), workers)
        made.append(session)
        return session

    yield make
    for session in made:
        pids = session.pids()
        session.stop()
        assert wait_until(lambda p=pids: not any(_alive(x) for x in p)), pids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def rows(history) -> str:
    cols, status, health = history.raw()
    cols.pop("elapsed_s")  # wall time: the one column that differs between two runs
    return repr((cols, status, health))  # an empty sharpness reading (NaN) equals itself here


def test_numbers_match_threads_and_runs_beyond_the_pool_wait_queued(
    process_session, make_experiment
):
    fields = dict(widths=(5, 100, 1000), epochs=300, speed=0)
    session = process_session(workers=2, **fields)
    session.start()
    samples = []

    def ended() -> bool:
        samples.append(([r.status for r in session.runs], sum(r.hosted for r in session.runs)))
        return session.ended

    assert wait_until(ended, timeout=90, poll=0.02)
    assert max(hosted for _, hosted in samples) <= 2
    assert any(Status.QUEUED in st and Status.FINISHED in st for st, _ in samples)
    assert [r.status for r in session.runs] == [Status.FINISHED] * 3
    exp = make_experiment(**fields)
    exp.start()
    assert exp.wait(60)
    for remote, local in zip(session.runs, exp.runs):
        assert len(remote.history) == 300
        assert rows(remote.history) == rows(local.history), remote.label


def test_controls_a_killed_worker_and_stop(process_session):
    session = process_session(workers=2, widths=(5, 100), epochs=1_000_000, speed=200)
    session.start()
    w5, w100 = session.runs
    assert wait_until(lambda: all(len(r.history) > 5 for r in session.runs), timeout=60)
    # pause: the workers report paused, and no epoch comes in meanwhile
    session.toggle()
    assert wait_until(lambda: all(r._state is Status.PAUSED for r in session.runs))
    counts = [steady(r) for r in session.runs]
    time.sleep(STEADY_S)
    assert [len(r.history) for r in session.runs] == counts
    session.toggle()
    assert all(grows(r) for r in session.runs)
    # restart one width: the next seed, a fresh history from epoch 1; the old life kept whole
    session.restart(5)
    assert wait_until(lambda: w5.seed == 1 and len(w5.retired) == 1)
    assert w5.retired[0].history.closed and grows(w5)
    assert w5.history.read(0, 1).record(0)["epoch"] == 1
    assert [life.meta["seed"] for life in session.lives()] == [0, 1, 0]
    # a worker killed mid-run: that run fails with the reason, the other goes on
    victim = next(w for w in session._pool if w100.index in w.unit)
    kept = len(w100.history)
    os.kill(victim.pid, signal.SIGKILL)
    assert wait_until(lambda: w100.status is Status.FAILED)
    assert w100.error == f"worker process {victim.pid} was killed by SIGKILL"
    assert len(w100.history) >= kept  # every epoch received is kept
    assert w5.status is Status.RUNNING and grows(w5)
    t0 = time.monotonic()
    session.stop()
    assert time.monotonic() - t0 < 5
    assert w5.status is Status.STOPPED and w100.status is Status.FAILED


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "term"])
def test_no_worker_outlives_its_parent(tmp_path, sig):
    proc = subprocess.Popen(
        [*cli_command(), "--backend", "process", "--workers", "2", "--headless",
         "--widths", "5,100", "--speed", "50", "--epochs", "1000000", "--history", "h.csv"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        history = tmp_path / "h.csv"
        assert wait_until(lambda: history.exists() and history.stat().st_size > 2000, timeout=60)
        children = [c for c in _children(proc.pid) if _alive(c)]
        workers = [c for c in children if "forkserver" not in _cmdline(c)]
        assert len(children) >= 2, children  # two workers (and multiprocessing's tracker)
        proc.send_signal(sig)
        proc.wait(30)
        assert wait_until(lambda: not any(_alive(c) for c in children)), [
            _cmdline(c) for c in children if _alive(c)
        ]
        assert workers
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_stack_is_one_unit_of_work_with_the_thread_stacks_numbers(
    process_session, make_experiment
):
    fields = dict(widths=(5, 100), repeats=3, epochs=300, speed=0, stack=True)
    session = process_session(workers=1, **fields)
    session.start()
    hosted: set[tuple[int, ...]] = set()

    def ended() -> bool:
        hosted.update(w.unit for w in list(session._pool) if w.unit)
        return session.ended

    assert wait_until(ended, timeout=90, poll=0.01)
    assert hosted == {(0, 1, 2), (3, 4, 5)}  # each width's seeds together, on one worker
    assert [r.status for r in session.runs] == [Status.FINISHED] * 6
    exp = make_experiment(**fields)
    exp.start()
    assert exp.wait(60)
    for remote, local in zip(session.runs, exp.runs):
        assert rows(remote.history) == rows(local.history), remote.label


def test_stacked_seeds_keep_every_control_in_a_worker(process_session):
    session = process_session(
        workers=2, widths=(5, 100), repeats=2, epochs=1_000_000, speed=200, stack=True
    )
    session.start()
    runs = session.runs
    assert wait_until(lambda: all(len(r.history) > 5 for r in runs), timeout=60)
    session.toggle(5)  # the width-5 stack: both its seeds pause, width 100 goes on
    assert wait_until(lambda: [r._state for r in runs[:2]] == [Status.PAUSED] * 2)
    counts = [steady(r) for r in runs[:2]]
    assert all(grows(r) for r in runs[2:])
    assert [len(r.history) for r in runs[:2]] == counts
    session.toggle(5)
    assert all(grows(r) for r in runs[:2])
    session.restart(5)  # both seeds start afresh with their next seeds, epoch 1 first
    assert wait_until(lambda: [r.seed for r in runs] == [2, 3, 0, 1])
    assert wait_until(lambda: all(len(r.retired) == 1 for r in runs[:2]))
    assert all(grows(r) for r in runs[:2])
    assert [r.history.read(0, 1).record(0)["epoch"] for r in runs[:2]] == [1, 1]
    t0 = time.monotonic()
    session.stop()
    took = time.monotonic() - t0
    assert took < 5, took
    assert [r.status for r in runs] == [Status.STOPPED] * 4

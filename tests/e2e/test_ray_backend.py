"""`--backend ray` against a real Ray: a head started here on 127.0.0.1 with two CPUs (see
ray_head.py), stopped afterwards with every one of its processes gone. Never skipped: the `test`
extra installs Ray. All tests share one xdist worker, so only one head runs at a time."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from helpers import STEADY_S, cli_command, grows, steady, wait_until
from ray_head import (
    ENV,
    RayHead,
    descendants,
    free_port,
    session_processes,
    still_alive,
)

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status

pytestmark = pytest.mark.xdist_group("ray")
SETTLE_S = 0.5  # ten poll intervals: rows computed before a control have reached the driver


def test_a_local_ray_started_for_the_session_is_gone_after_sigterm(tmp_path):
    """No RAY_ADDRESS and no Ray recorded by `ray start`: mlp-tui starts one and shuts it down
    on quit, even while other heads run on the machine (the module's own, say)."""
    ray_tmp = tempfile.mkdtemp(prefix="rl", dir="/tmp")  # short (socket paths); no record in it
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {"RAY_TMPDIR": ray_tmp}
    proc = subprocess.Popen(
        [
            *cli_command(),
            "--backend",
            "ray",
            "--headless",
            "--widths",
            "5",
            "--speed",
            "50",
            "--epochs",
            "1000000",
            "--history",
            "h.csv",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    try:
        history = tmp_path / "h.csv"
        started = wait_until(
            lambda: history.exists() and history.read_text().count("\n") > 5 or proc.poll(),
            timeout=120,
            poll=0.1,
        )
        assert started and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
        ray_procs = descendants(proc.pid)
        assert len(ray_procs) >= 3  # the local Ray's GCS, raylet and the actor's worker at least
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 128 + signal.SIGTERM
        assert wait_until(lambda: not still_alive(ray_procs), timeout=30), still_alive(ray_procs)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(ray_tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_head():
    head = RayHead()
    head.start()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.delenv("RAY_ADDRESS", raising=False)
        try:
            yield head
        finally:
            left = head.stop()
    assert not left, f"Ray processes outlived the head: {left}"


@pytest.fixture
def ray_session(ray_head):
    from mlp_tui.session.ray_session import RaySession

    made = []

    def make(**fields):
        session = RaySession(validate(ExperimentConfig(**fields)), ray_head.address)
        made.append(session)
        return session

    yield make
    for session in made:
        session.stop()


def actors(head: RayHead) -> list[str]:
    return [c for c in session_processes(head.proc.pid) if "UnitHost" in c]


def rows(history) -> str:
    cols, status, health = history.raw()
    cols.pop("elapsed_s")  # wall time: the one column that differs between two runs
    return repr((cols, status, health))  # an empty sharpness reading (NaN) equals itself here


def test_numbers_match_threads_and_runs_beyond_free_cpus_wait_queued(
    ray_session, make_experiment, ray_head
):
    fields = dict(widths=(5, 100, 1000), epochs=300, speed=0)
    session = ray_session(**fields)
    session.start()
    samples = []

    def ended() -> bool:
        samples.append(([r.status for r in session.runs], sum(r.hosted for r in session.runs)))
        return session.ended

    assert wait_until(ended, timeout=90, poll=0.02)
    assert max(hosted for _, hosted in samples) <= 2  # two CPUs: two actors at a time
    # the third run waited, queued, while a placed run had already finished
    assert any(Status.QUEUED in st and Status.FINISHED in st for st, _ in samples)
    assert [r.status for r in session.runs] == [Status.FINISHED] * 3
    exp = make_experiment(**fields)
    exp.start()
    assert exp.wait(60)
    for remote, local in zip(session.runs, exp.runs):
        assert len(remote.history) == 300
        assert rows(remote.history) == rows(local.history), remote.label
    session.stop()
    assert wait_until(lambda: not actors(ray_head), timeout=30)


def test_controls_a_killed_actor_and_stop(ray_session, ray_head):
    import ray

    session = ray_session(widths=(5, 100), epochs=1_000_000, speed=200)
    session.start()
    w5, w100 = session.runs
    assert wait_until(lambda: all(len(r.history) > 5 for r in session.runs), timeout=60)
    # pause: the actors themselves report paused, and no epoch comes in meanwhile
    session.toggle()
    assert wait_until(lambda: all(r._state is Status.PAUSED for r in session.runs))
    counts = [steady(r) for r in session.runs]
    time.sleep(STEADY_S)
    assert [len(r.history) for r in session.runs] == counts
    assert all(r.status is Status.PAUSED and r.epochs_per_s is None for r in session.runs)
    session.toggle()
    assert all(grows(r) for r in session.runs)
    # speed: at 5 epochs/s a run adds no more than the pace allows (plus one flush of slack),
    # counted once the epochs computed at the old pace (one poll's worth) have come in
    session.set_speed(5)
    time.sleep(SETTLE_S)
    n0, t0 = len(w5.history), time.monotonic()
    time.sleep(1.5)
    assert len(w5.history) - n0 <= 5 * (time.monotonic() - t0) + 3
    session.set_speed(0)
    # restart one width: the next seed, a fresh history; the old life kept whole
    session.restart(5)
    assert wait_until(lambda: w5.seed == 1 and len(w5.retired) == 1)
    assert w5.retired[0].history.closed and grows(w5)
    assert [life.meta["seed"] for life in session.lives()] == [0, 1, 0]
    # an actor killed mid-run: that run fails with Ray's reason, the other goes on
    ray.kill(session._hosts[w100.index])
    assert wait_until(lambda: w100.status is Status.FAILED)
    assert "Actor" in w100.error and "\n" not in w100.error
    assert w5.status is Status.RUNNING and grows(w5)
    session.stop()
    assert w5.status is Status.STOPPED and w100.status is Status.FAILED
    assert session.stop() and not ray.is_initialized()  # idempotent: no new Ray started
    assert wait_until(lambda: not actors(ray_head), timeout=30), actors(ray_head)


def test_unreachable_address_is_one_line_and_exit_2(tmp_path):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    proc = subprocess.run(
        [
            *cli_command(),
            "--backend",
            "ray",
            "--ray-address",
            address,
            "--headless",
            "--export",
            str(tmp_path / "r.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "--ray-address" in lines[0], proc.stderr
    assert not (tmp_path / "r.csv").exists()


def final_losses(path) -> list[str]:
    with open(path) as f:
        return [row["final_train_loss"] for row in csv.DictReader(f)]


def test_cli_on_a_cluster_gives_the_thread_backends_final_losses(ray_head, tmp_path):
    args = ["--headless", "--speed", "0", "--epochs", "500"]
    env = {**os.environ, "RAY_ADDRESS": ray_head.address}
    for backend in ("thread", "ray"):
        subprocess.run(
            [*cli_command(), "--backend", backend, *args, "--export", f"{backend}.csv"],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
    losses = final_losses(tmp_path / "ray.csv")
    assert len(losses) == 3 and losses == final_losses(tmp_path / "thread.csv")
    assert wait_until(lambda: not actors(ray_head), timeout=30), actors(ray_head)

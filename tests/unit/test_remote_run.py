"""The Ray backend's protocol without Ray: a UnitHost in this process, polled into a RemoteRun,
and the command line's Ray flags."""

from __future__ import annotations

import subprocess
import sys

from helpers import wait_until

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.engine.host import UnitHost
from mlp_tui.session.remote import RemoteRun


def pump(host: UnitHost, run: RemoteRun) -> None:
    run.apply(host.poll(run.index, run.life.serial, len(run.history)))


def test_polled_batches_rebuild_the_hosts_history_exactly_across_a_restart():
    cfg = validate(ExperimentConfig(widths=(5,), epochs=400, speed=2000))
    host = UnitHost(cfg, [(0, 5, 0, cfg.seed)])
    run = RemoteRun(0, 5, 0, cfg, (150, 0))
    assert run.status is Status.QUEUED
    host.start()
    try:
        assert wait_until(lambda: (pump(host, run), len(run.history) > 20)[1])
        host.restart(0)  # the rows before the restart arrive as the old life's tail
        assert wait_until(lambda: (pump(host, run), run.seed == 1)[1])
        old = host.runs[0].retired[0].history
        assert len(run.retired) == 1 and repr(run.retired[0].history.raw()) == repr(old.raw())
        assert wait_until(lambda: (pump(host, run), run.status is Status.FINISHED)[1], timeout=30)
        assert repr(run.history.raw()) == repr(host.runs[0].history.raw())
        assert [life.meta["seed"] for life in run.lives()] == [0, 1]
    finally:
        host.stop()


def test_a_restart_without_a_host_queues_the_next_seed_and_an_end_is_kept():
    cfg = validate(ExperimentConfig(widths=(5,), repeats=2))
    run = RemoteRun(1, 5, 1, cfg, (150, 0))
    assert run.seed == 1
    run.relife()
    assert run.seed == 3 and run.status is Status.QUEUED and not run.retired  # nothing to keep
    run.want_pause = True
    assert run.status is Status.PAUSED and run.active
    run.end(Status.FAILED, "ActorDiedError: gone")
    run.end(Status.STOPPED)
    assert run.status is Status.FAILED and run.error == "ActorDiedError: gone"


def test_ray_flags_are_checked_without_importing_ray(capsys, monkeypatch):
    from mlp_tui.cli import main as cli

    assert cli.main(["--ray-address", "h:1"]) == 2
    assert "--ray-address: needs --backend ray" in capsys.readouterr().err
    assert cli.main(["--backend", "dask"]) == 2
    assert "--backend: unknown value 'dask'" in capsys.readouterr().err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    assert cli.main(["--backend", "ray", "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mlp-tui[ray]'" in err
    code = (
        "import sys; from mlp_tui.cli.args import parse_args, build_parser; build_parser();"
        "parse_args(['--backend', 'ray']); print(sorted({'ray', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_status_has_a_rank_when_a_widths_runs_are_grouped():
    """A width whose only run was queued (a Ray run waiting for a CPU) crashed the table."""
    from mlp_tui.tui.widgets.runs_table import STATUS_STYLE
    from mlp_tui.view.rows import ALL_ENDED, group_status, overall_state

    for status in Status:
        assert group_status([status]) is status and status in STATUS_STYLE
    assert group_status([Status.QUEUED, Status.RUNNING]) is Status.RUNNING
    assert overall_state([Status.QUEUED, Status.FINISHED]) == Status.QUEUED.value
    assert overall_state([Status.STOPPED, Status.FINISHED]) == ALL_ENDED


def test_auto_finds_only_the_head_ray_start_recorded(tmp_path, monkeypatch):
    from mlp_tui.session.ray_cluster import recorded_address

    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    assert recorded_address() is None
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text("10.0.0.5:6379\n")
    assert recorded_address() == "10.0.0.5:6379"

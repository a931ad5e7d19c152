"""`mlp-tui replay DIR` on a TensorBoard log directory written by a plain SummaryWriter script:
each run folder a run, its scalar tags the metrics, the step the x-axis; followed while written;
damaged or empty directories one line and exit 2; headless prints each tag's last value."""

from __future__ import annotations

import pytest
from helpers import wait_until

pytest.importorskip("tensorboard")

from torch.utils.tensorboard import SummaryWriter  # noqa: E402

from mlp_tui.cli.main import main  # noqa: E402
from mlp_tui.persist import tensorboard as tb  # noqa: E402
from mlp_tui.session.tensorboard import TensorBoardSession  # noqa: E402


def write_logdir(root, steps=range(0, 30, 3)):
    for name, k in (("a", 1.0), ("b/nested", 3.0)):
        w = SummaryWriter(str(root / name))
        for s in steps:
            w.add_scalar("loss", k / (s + 1), s)
            if s % 2 == 0:
                w.add_scalar("my metric/x", s * k, s)
        w.close()
    return root


def test_each_folder_a_run_each_tag_a_metric(tmp_path):
    session = TensorBoardSession(write_logdir(tmp_path))
    assert [r.label for r in session.runs] == ["a", "b/nested"]
    assert session.metrics == ("loss", "my metric/x")
    b = session.runs[1].history
    steps, _ = b.axis("loss", 0, 100)
    assert steps == list(range(0, 30, 3))
    assert b.column("loss").tolist() == pytest.approx([3.0 / (s + 1) for s in steps])
    assert b.axis("my metric/x", 0, 100)[0] == [0, 6, 12, 18, 24]
    assert len(b) == 10 and b.last_step() == 27
    assert b.last()["train_loss"] is None  # no tag of that name: not made up
    assert all(v is None for v in session.runs[0].meta.values() if v != 0)


def test_headless_replay_prints_each_tags_last_value(tmp_path, capsys):
    assert main(["replay", str(write_logdir(tmp_path)), "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["run", "points", "last", "step", "loss", "my", "metric/x"]
    assert out[1].split() == ["a", "10", "27", "0.0357", "24.0000"]
    assert out[2].split() == ["b/nested", "10", "27", "0.1071", "72.0000"]


def test_an_mlp_tui_log_reads_back_into_its_own_metrics(tmp_path):
    w = SummaryWriter(str(tmp_path / tb.life_folder({
        "run": 0, "dataset": "iris", "width": 5, "depth": 1, "optimizer": "sgd", "lr": 0.1,
        "batch_size": 0, "seed": 0})))
    for epoch in range(1, 6):
        w.add_scalar("train_loss", 1.0 / epoch, epoch)
    w.close()
    (run,) = TensorBoardSession(tmp_path).runs
    assert run.history.last()["train_loss"] == pytest.approx(0.2)
    assert run.history.best("train_loss") == (pytest.approx(0.2), 5)


def test_follow_reads_what_is_written_later(tmp_path):
    w = SummaryWriter(str(tmp_path / "live"))
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    session = TensorBoardSession(tmp_path, follow=True, poll_s=0.05)
    session.start()
    try:
        assert len(session.runs[0].history) == 1 and not session.ended
        for s in range(1, 20):
            w.add_scalar("loss", 1.0 / (s + 1), s)
        w.add_scalar("acc", 0.5, 19)
        w.flush()
        assert wait_until(lambda: len(session.runs[0].history) == 20, 30)
        assert wait_until(lambda: session.metrics == ("acc", "loss"), 30)
        SummaryWriter(str(tmp_path / "later")).add_scalar("loss", 2.0, 0)  # a new run folder
        assert wait_until(lambda: len(session.runs) == 2, 30)
    finally:
        w.close()
        assert session.stop(5)
    assert session.ended


def test_a_truncated_event_file_gives_what_came_before(tmp_path):
    write_logdir(tmp_path / "good", steps=range(100))
    (event,) = (tmp_path / "good" / "a").iterdir()
    data = event.read_bytes()
    (tmp_path / "cut" / "a").mkdir(parents=True)
    (tmp_path / "cut" / "a" / event.name).write_bytes(data[: len(data) // 2])
    (run,) = TensorBoardSession(tmp_path / "cut").runs
    assert 10 < len(run.history) < 100
    steps, _ = run.history.axis("loss", 0, 1000)
    assert steps == list(range(len(steps)))  # a prefix, in order


@pytest.mark.parametrize("content", [None, b"not an event file at all" * 20])
def test_no_scalars_is_one_line_and_exit_2(tmp_path, capsys, content):
    why = "event files under it hold none, or are damaged"
    if content is not None:
        (tmp_path / "r").mkdir()
        (tmp_path / "r" / "events.out.tfevents.1.host").write_bytes(content)
        why = f"{tmp_path}/r/events.out.tfevents.1.host: damaged at byte 0: a record's length " \
              "fails its checksum"  # where the damage is, when there is some
    assert main(["replay", str(tmp_path), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err == f"mlp-tui: error: FILE: {tmp_path}: no TensorBoard scalars found ({why})\n"


def test_without_the_package_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tb, "tensorboard_missing", lambda: True)
    assert main(["replay", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "mlp-tui: error: FILE: replaying a TensorBoard log directory needs the tensorboard "
        "package: pip install 'mlp-tui[tensorboard]'\n"
    )


def test_a_followed_log_gone_quiet_reads_waiting(tmp_path):
    """#23: a followed log directory whose writer paused reads `waiting` after STALE_S (with the
    time since its last points), running again when new points come, finished once stopped."""
    from mlp_tui.core.schema import STALE_S, Status

    w = SummaryWriter(str(tmp_path / "live"))
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    now = [100.0]
    session = TensorBoardSession(tmp_path, follow=True, clock=lambda: now[0])
    run = session.runs[0]
    try:
        assert run.status is Status.RUNNING and run.waiting_s is None
        now[0] += STALE_S + 2
        assert run.status is Status.WAITING and run.waiting_s == pytest.approx(STALE_S + 2)
        assert not session.ended
        w.add_scalar("loss", 0.5, 1)
        w.flush()
        session.read_all()
        assert run.status is Status.RUNNING and len(run.history) == 2
    finally:
        w.close()
        session.stop()
    assert run.status is Status.FINISHED

"""SVG snapshots of deterministic screens: replayed files from tests/data, and the default
experiment trained to its end (unthrottled: every ep/s blank, no elapsed time on screen).

Update after an intended change with `pytest tests/ui/test_snapshots.py --snapshot-update`, and
look at the SVGs before committing them."""

from __future__ import annotations

import pytest
from helpers import DATA
from ui_helpers import drawn, press, resize, settle, steady, wait_for

settled = drawn  # before the snapshot: a frame drawn at the plot's final size


def keys(*names: str):
    """Before the snapshot: the first frame drawn, then these keys, each acted on (a key redraws
    at once). Pressed here rather than by snap_compare's `press`, whose wait for an idle process
    after every key took about a fifth of this file's time."""

    async def run(pilot) -> None:
        await drawn(pilot)
        await press(pilot, *names)
        await drawn(pilot)

    return run


def test_finished_run_160x45(snap_compare, replay_app):
    assert snap_compare(replay_app(), terminal_size=(160, 45), run_before=settled)


def test_finished_run_80x24(snap_compare, replay_app):
    assert snap_compare(replay_app(), terminal_size=(80, 24), run_before=settled)


def test_terminal_too_small(snap_compare, replay_app):
    assert snap_compare(replay_app(), terminal_size=(50, 12), run_before=settled)


def test_grid_of_small_plots(snap_compare, replay_app):
    assert snap_compare(replay_app(), terminal_size=(160, 45), run_before=keys("g"))


def test_l_overrides_the_auto_log_scale(snap_compare, replay_app):
    """The first `l` overrides the automatic log axis: linear, the spike to ~50 in full."""
    assert snap_compare(replay_app(), terminal_size=(160, 45), run_before=keys("l"))


def test_smoothing_ema_09(snap_compare, replay_app):
    assert snap_compare(replay_app(), terminal_size=(160, 45), run_before=keys(*["s"] * 9))


def test_outlier_robust_range(snap_compare, replay_app):
    assert snap_compare(replay_app(), terminal_size=(160, 45), run_before=keys("o"))


def test_diverged_run(snap_compare, replay_app):
    assert snap_compare(replay_app("diverged.jsonl"), terminal_size=(160, 45), run_before=settled)


def test_replay_with_validation_160x45(snap_compare, replay_app):
    assert snap_compare(replay_app("iris_val.jsonl"), terminal_size=(160, 45), run_before=settled)


@pytest.mark.parametrize(
    "size", [(80, 24), (120, 40), (160, 45)], ids=["80x24", "120x40", "160x45"]
)
def test_default_run_finished(snap_compare, live_app, recorded_training, size):
    """The default experiment live to its end, unthrottled, its numbers the recorded ones (the
    live ones are this CPU's: docs/portability.md)."""
    app = live_app(epochs=100, speed=0)

    async def to_the_end(pilot) -> None:
        # When the runs' news comes is timing, not layout (tests/ui/test_answer.py checks it).
        app.news.tell = lambda *_args: None
        await wait_for(pilot, lambda: app.session.ended, timeout=60)
        app.refresh_now()  # the last epochs now, not after the redraw budget
        await wait_for(
            pilot,
            lambda: (
                not app.monitor.plot_dirty
                and all(len(s.x) and s.x[-1] == 100 for s in app.plot.spec.series)
            ),
        )
        # Table columns only ever grow; a frame drawn mid-run (an ep/s figure, a long trend
        # delta) would widen them at random. Lay the table out from the final rows alone: drop
        # the remembered widths, show the rows, and lay out again (a resize to the same size),
        # then wait for the plot built at its final size (its points depend on its width).
        app.table.reset(app.session.has_val)
        # The "finished" alert comes and goes with the timing (a run that ended before the UI
        # first saw it is not announced): once every Notify posted so far is handled (a clear
        # before that would not stop its toast), clear the alerts and their toasts.
        await settle(pilot)
        app.clear_notifications()
        await wait_for(pilot, lambda: not app.screen.query("Toast"))
        app.refresh_now()
        await resize(pilot, *size)
        app.refresh_now()  # the plot now, not after the redraw budget
        await drawn(pilot)  # (again, if the new layout gave the plot another size)
        await steady(pilot)
        assert not app.screen.query("Toast"), "a notification came after the runs ended"

    assert snap_compare(app, terminal_size=size, run_before=to_the_end)


SIZES = pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])


@SIZES
def test_train_and_val_with_best_epochs(snap_compare, replay_app, size):
    """`--val-split 0.2 --epochs 500`: train and validation on one chart, best epochs marked."""
    assert snap_compare(replay_app(DATA / "v500.csv"), terminal_size=size, run_before=settled)


@SIZES
def test_epoch_cursor_readout(snap_compare, replay_app, size):
    moves = ["home", "right", "right", "right"]
    assert snap_compare(
        replay_app(DATA / "v500.csv"), terminal_size=size, run_before=keys(*moves)
    )


@SIZES
def test_seed_band(snap_compare, replay_app, size):
    """`--repeats 5`: the mean of each width and the min-max band of its seeds."""
    assert snap_compare(
        replay_app(DATA / "rep5.csv"), terminal_size=size, run_before=keys("m", "m")
    )


@SIZES
def test_capacity_view(snap_compare, replay_app, size):
    """`--widths 2,4,...,1024 --val-split 0.3 --epochs 300`, `w`: loss against width."""
    assert snap_compare(
        replay_app(DATA / "cap.csv"), terminal_size=size, run_before=keys("w")
    )


# Issue #23: what a new user first sees, at the smallest supported size and a wide one.


@SIZES
def test_default_run_mid_spike(snap_compare, replay_app, size):
    """The default run at epoch 39: width 1000's spike to ~50 in the range, or marked (▲)."""
    assert snap_compare(replay_app(DATA / "iris_seed0_e39.jsonl"), terminal_size=size,
                        run_before=settled)


# The default run at its end: test_finished_run_160x45 / _80x24 (replayed, its 80x24 range
# clipped and marked) and test_default_run_finished (trained live).


@SIZES
def test_grid_2x2x2(snap_compare, replay_app, size):
    """`--widths 5,10 --depth 1,2 --lr 0.1,0.01 --epochs 100`: 8 colours, a whole legend."""
    assert snap_compare(replay_app(DATA / "grid8.csv"), terminal_size=size, run_before=settled)


@SIZES
def test_ten_widths(snap_compare, replay_app, size):
    """The README's `--widths 2,4,...,1024 --val-split 0.3 --epochs 300`, before `w`."""
    assert snap_compare(replay_app(DATA / "cap.csv"), terminal_size=size, run_before=settled)

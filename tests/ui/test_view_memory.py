"""The remembered view is a preference per kind of experiment (#23): a metric, a capacity view
or a band chosen in one kind of experiment never silently changes another kind's, and a launch
that restores a view says so once."""

from __future__ import annotations

from ui_helpers import drawn, notifications, press

from mlp_tui.persist.view_file import save_view
from mlp_tui.view.memory import experiment_kind, remember, restore
from mlp_tui.view.settings import ViewSettings

SIZE = (160, 45)


async def test_a_metric_chosen_in_a_replay_leaves_a_live_validation_run_on_its_pair(
    replay_app, live_app
):
    replay = replay_app("iris_val.jsonl")
    async with replay.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "m", "m")  # loss pair -> accuracy pair -> train loss alone
        assert replay.monitor.settings.metric == "train_loss"
    live = live_app(widths=(5, 100, 1000), val_split=0.2, speed=20)
    async with live.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert live.monitor.settings.metric == "loss"  # train and validation, as by default
        assert [n for n in notifications(live) if "left it" in n or "default" in n] == [
            "metric at its default: the first time for live runs of 3 widths with validation"]
    again = replay_app("iris_val.jsonl")  # its own kind keeps its own choice
    async with again.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert again.monitor.settings.metric == "train_loss"
        assert notifications(again) == ["view as you left it: metric"]


async def test_the_capacity_view_of_3_widths_does_not_open_the_10_width_example_in_it(live_app):
    three = live_app(widths=(5, 100, 1000), speed=20)
    async with three.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "w")
        assert three.monitor.settings.capacity
    ten = live_app(widths=(2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), val_split=0.3, speed=20)
    async with ten.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert not ten.monitor.settings.capacity  # so "then press w" turns it on
        assert any("vs-width view at its default" in n for n in notifications(ten))


def test_a_band_chosen_for_seeds_is_not_a_grids_band(live_app):
    seeds = live_app(widths=(5, 100), repeats=4)
    grid = live_app(widths=(5, 10), depth=(1, 2), lr=(0.1, 0.01), repeats=4)
    kind_seeds, kind_grid = experiment_kind(seeds.session), experiment_kind(grid.session)
    assert kind_seeds == "live · train only · 2 widths · seeds"
    assert kind_grid == "live · train only · 2 widths · grid depth,lr · seeds"
    data = remember({}, kind_seeds, ViewSettings(band="seeds", smoothing=0.5))
    settings, said = restore(data, kind_grid)
    assert (settings.band, settings.smoothing) == (None, 0.5)  # automatic again; scale-free kept
    assert said == ("view as you left it: smoothing; seed band at its default: the first time "
                    "for live runs of 2 widths, a grid over depth and lr, several seeds without "
                    "validation")
    assert restore(data, kind_seeds)[0].band == "seeds"


def test_a_view_file_of_the_first_format_resets_its_kind_settings_once():
    """The flat dict of earlier versions: its kind is unknown, so its metric and capacity view
    are not imposed on any experiment; its scale and smoothing are kept."""
    save_view({"metric": "train_loss", "capacity": True, "smoothing": 0.9})
    from mlp_tui.persist.view_file import load_view

    settings, said = restore(load_view(), "live · validation · 3 widths")
    assert (settings.metric, settings.capacity, settings.smoothing) == ("loss", False, 0.9)
    assert said == ("view as you left it: smoothing; metric and vs-width view at their "
                    "defaults: the first time for live runs of 3 widths with validation")
    assert restore({}, "live · validation · 3 widths") == (ViewSettings(), "")  # nothing to say


async def test_a_live_launch_opens_on_its_curves_though_the_capacity_view_was_left_on(
    live_app, replay_app
):
    """At epoch 0 a capacity view has nothing to show: a fresh live launch opens on the curves
    (issue 36, item 6); a replay, whose runs are all there, opens where it was left."""
    first = live_app(widths=(5, 100, 1000), speed=20)
    async with first.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "w", "l")
        assert first.monitor.settings.capacity
    again = live_app(widths=(5, 100, 1000), speed=20)
    async with again.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert not again.monitor.settings.capacity and again.plot.spec.x_label == "epoch"
        assert notifications(again) == ["view as you left it: y scale"]
    replay = replay_app("cap.csv")
    async with replay.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "w")
    replay = replay_app("cap.csv")
    async with replay.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert replay.monitor.settings.capacity and replay.plot.spec.x_label == "width"


def test_every_remembered_setting_left_changed_is_named_at_the_next_launch():
    """CI once died at launch on a view file that held the capacity view's x-axis: a remembered
    setting without a word raised KeyError before the first frame."""
    changed = ViewSettings(metric="train_loss", log=True, robust=True, smoothing=0.6,
                           x_mode="seconds", grid=True, hidden={1}, zoom=1, band="seeds",
                           capacity=True, capacity_at="best", capacity_x="parameters")
    default = ViewSettings()
    assert all(getattr(changed, n) != getattr(default, n) for n in
               ("metric", "log", "robust", "smoothing", "x_mode", "grid", "hidden", "zoom",
                "band", "capacity", "capacity_at", "capacity_x"))
    data = remember(None, "replay · train only · 3 widths", changed)
    settings, said = restore(data, "replay · train only · 3 widths")
    assert settings.capacity_x == "parameters"
    assert said.startswith("view as you left it: ") and "vs-width axis" in said
    assert said.count(",") == 11  # all twelve named

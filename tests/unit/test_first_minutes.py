"""Issue #23, what a new user sees: the automatic y-range says what it clips and does not flip
back and forth, accuracy is never on an automatic log axis, grids get distinct colours, alerts
speak plain words, TensorBoard names and seeds read well."""

from __future__ import annotations

import numpy as np
from helpers import DATA

from mlp_tui.session.replay import ReplaySession
from mlp_tui.tui.figure import render_spec
from mlp_tui.view import Monitor, PlotSeries, PlotSpec, ViewSettings
from mlp_tui.view.plotspec import finish_spec
from mlp_tui.view.settings import Scale, auto_scale


def _spec(path: str, rows: int, **settings) -> tuple[Monitor, PlotSpec]:
    mon = Monitor(ReplaySession(DATA / path, follow=False), ViewSettings(**settings))
    mon.tick()
    return mon, mon.plot_spec(max_points=80, rows=rows)


def test_a_clipped_range_marks_the_spike_it_leaves_out():
    """80x24: the default run's plot is short, the range clips width 1000's spike to ~50; the
    title says so (`▲ 50.4`) and the picture shows it."""
    _, spec = _spec("iris_seed0_e39.jsonl", rows=12, log=False)
    assert spec.robust
    assert spec.above is not None and abs(spec.above - 50.42) < 0.01
    assert "▲ 50.4" in spec.title
    assert "▲ 50.4" in render_spec(spec, 78, 18).plain


def test_the_whole_range_marks_nothing():
    _, spec = _spec("iris_seed0_e39.jsonl", rows=40, log=False)
    assert not spec.robust and spec.above is None and "▲" not in spec.title


def test_the_automatic_range_keeps_its_choice_near_the_threshold():
    """Hysteresis: data whose 5-95% range is 60% of the whole clips only if it clipped before."""
    y = np.concatenate([np.linspace(0, 0.6, 97), np.full(3, 1.0)])
    lo, hi = np.percentile(y, [5, 95])
    assert 0.5 < (hi - lo) / (y.max() - y.min()) < 0.7
    s = ViewSettings(log=False)
    assert not auto_scale([y], s, rows=12).robust
    assert auto_scale([y], s, rows=12, previous=Scale(robust=True)).robust
    assert not auto_scale([y], s, rows=12, previous=Scale(robust=False)).robust


def test_the_automatic_log_axis_keeps_its_choice_near_the_threshold():
    y = np.array([1.0, 20.0])  # a ratio of 20: under the line to turn log on, over the one off
    s = ViewSettings()
    assert not auto_scale([y], s, rows=40).log
    assert auto_scale([y], s, rows=40, previous=Scale(log=True)).log


def test_accuracy_is_never_on_an_automatic_log_axis():
    """`m` to accuracy: values from 0.03 to 0.98 span a ratio over 30, yet the axis is linear."""
    _, spec = _spec("iris_seed0.jsonl", rows=35, metric="acc")
    assert "accuracy" in spec.title
    assert not spec.log and "log" not in spec.title
    _, loss = _spec("iris_seed0.jsonl", rows=35)
    assert loss.log  # the loss still is (the spike over a falling loss)


def test_an_explicit_log_choice_still_wins_for_accuracy():
    _, spec = _spec("iris_seed0.jsonl", rows=35, metric="acc", log=True)
    assert spec.log


def test_a_bounded_spec_is_linear_whatever_its_ratio():
    y = np.array([0.01, 0.9])
    spec = PlotSpec(series=[PlotSeries("a", 39, np.array([1.0, 2.0]), y)], bounded=True)
    assert not finish_spec(spec, ViewSettings(), 30).log

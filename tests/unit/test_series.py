"""Bounded plot series: the smoother, downsampling, ranges and log values."""

from __future__ import annotations

import math

import numpy as np

from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import HEALTH_CODE, STATUS_CODE, Health, Status
from mlp_tui.view.series import (
    CAPACITY,
    SeriesTrack,
    ema_debiased,
    log_values,
    points,
    y_range,
)


def history(values, n_train: int = 0) -> RunHistory:
    h = RunHistory(n_train)
    n = len(values)
    h.extend(
        {
            "train_loss": list(values),
            "train_acc": [0.5] * n,
            "elapsed_s": [0.01 * (i + 1) for i in range(n)],
        },
        [STATUS_CODE[Status.RUNNING]] * n,
        [HEALTH_CODE[Health.OK]] * n,
    )
    return h


def test_debiased_ema_starts_at_the_first_raw_point_and_matches_the_formula():
    x = np.array([3.0, 1.0, 2.0, 5.0])
    y, _ = ema_debiased(x, 0.9)
    assert y[0] == 3.0
    acc, expect = 0.0, []
    for n, v in enumerate(x, 1):
        acc = 0.9 * acc + 0.1 * v
        expect.append(acc / (1 - 0.9**n))
    np.testing.assert_allclose(y, expect)


def test_ema_in_chunks_equals_ema_in_one_go():
    x = np.random.default_rng(0).normal(size=1000)
    whole, _ = ema_debiased(x, 0.99)
    first, state = ema_debiased(x[:377], 0.99)
    rest, _ = ema_debiased(x[377:], 0.99, state)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole)


def test_ema_passes_non_finite_points_through_without_poisoning_the_average():
    y, _ = ema_debiased(np.array([1.0, math.nan, 1.0]), 0.6)
    assert y[0] == 1.0 and math.isnan(y[1]) and y[2] == 1.0


def test_track_is_bounded_and_keeps_the_spike():
    values = [1.0] * 200_000
    values[123_457] = 60.0  # the width-1000 spike, deep inside a long run
    track = SeriesTrack(history(values))
    assert track.update() == 200_000
    b = track.buckets()
    assert len(b) <= CAPACITY
    assert np.nanmax(b.vmax) == 60.0
    px, py = points(b, max_points=400)
    assert len(px) <= 400 + 2
    assert py.max() == 60.0 and py.min() == 1.0


def test_track_is_incremental_and_equals_a_single_pass():
    values = list(np.random.default_rng(1).random(5000))
    h = history(values[:1234])
    t = SeriesTrack(h, smoothing=0.9)
    t.update()
    for v in values[1234:]:
        h.append({"train_loss": v, "train_acc": 0.5, "elapsed_s": 1.0}, Status.RUNNING, Health.OK)
    t.update()
    whole = SeriesTrack(history(values), smoothing=0.9)
    whole.update()
    a, b = t.buckets(), whole.buckets()
    np.testing.assert_allclose(a.vmin, b.vmin, rtol=1e-6)
    np.testing.assert_allclose(a.vmax, b.vmax, rtol=1e-6)
    np.testing.assert_array_equal(a.epoch, b.epoch)


def test_non_finite_losses_are_skipped_by_points_and_range():
    track = SeriesTrack(history([1.0, 2.0, math.inf, math.nan]))
    track.update()
    px, py = points(track.buckets(), 100)
    assert list(px) == [1.0, 2.0] and list(py) == [1.0, 2.0]
    assert y_range([py]) == (1.0, 2.0)


def test_robust_range_cuts_the_spike_off():
    y = np.concatenate([np.linspace(1.0, 0.1, 1000), [60.0, 55.0]])
    lo, hi = y_range([y], robust=True)
    assert hi < 2.0 and lo >= 0.1
    assert y_range([y])[1] == 60.0


def test_log_values_skip_zero_and_negatives():
    out = log_values(np.array([100.0, 0.0, -1.0, 0.01]))
    assert out[0] == 2.0 and out[3] == -2.0
    assert math.isnan(out[1]) and math.isnan(out[2])

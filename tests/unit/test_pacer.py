"""The pace and the measured rate, on a clock the test holds (no sleeping, no timing): a paced
run is never ahead of its schedule, a busy machine's debt is forgotten past MAX_PACE_DEBT_S
instead of paid back in a burst, and a rate is unknown until measured over RATE_MIN_SPAN_S.
The same guarantees on the real clock, with threads: the e2e pace tests (test_controls,
test_keys)."""

from __future__ import annotations

import pytest

from mlp_tui.engine.pacer import MAX_PACE_DEBT_S, RATE_MIN_SPAN_S, RATE_WINDOW_S, Pacer, RateMeter


def run_paced(
    pacer: Pacer, until: float, epoch_s: float, stalls: dict[int, float] | None = None
) -> list[float]:
    """A worker on a simulated clock, as `Run._train` drives its pacer: each epoch takes
    `epoch_s` (epoch k + 1 also `stalls[k]`: a busy machine), then it waits while it is
    ahead. The clock time at which each epoch ended."""
    stalls = stalls or {}
    now, k, ends = pacer.base_t, pacer.base_k, []
    while now < until and len(ends) < 10**6:  # a pacer that never waits stops here
        now += epoch_s + stalls.get(k, 0.0)
        k += 1
        ends.append(now)
        ahead = pacer.ahead(k, now)
        if ahead > 0:
            now += ahead
    return ends


def test_unthrottled_is_never_ahead():
    pacer = Pacer(0, now=5.0)
    assert not pacer.paced
    assert pacer.ahead(10**6, now=5.0) == 0.0


@pytest.mark.parametrize("speed", [1, 20, 100, 5120])
def test_a_paced_run_does_at_most_its_speed(speed):
    ends = run_paced(Pacer(speed, now=100.0), until=110.0, epoch_s=1e-6)
    for t in (100.5, 101.0, 103.0, 110.0):
        done = sum(1 for e in ends if e <= t)
        assert done <= speed * (t - 100.0) + 1
        assert done >= speed * (t - 100.0) - 1  # and no slower, with the clock to itself


def test_a_short_stall_is_caught_up_and_a_long_one_forgotten():
    speed = 20
    # Behind by less than the cap: the lost epochs are made up, the total stays on schedule.
    stalls = {10: MAX_PACE_DEBT_S / 2}
    short = run_paced(Pacer(speed, 0.0), until=5.0, epoch_s=1e-6, stalls=stalls)
    assert abs(sum(1 for e in short if e <= 5.0) - speed * 5) <= 1
    # Behind by more: the debt is forgotten, so the second after the stall holds the pace
    # (paying 2 s of debt back would be a burst of 40 epochs at once).
    long = run_paced(Pacer(speed, 0.0), until=5.0, epoch_s=1e-6, stalls={10: 2.0})
    stalled = long[10]
    assert sum(1 for e in long if stalled < e <= stalled + 1.0) <= speed + 1


def test_a_new_speed_takes_effect_from_now():
    pacer = Pacer(100, now=0.0)
    pacer.set_speed(2, now=10.0, k=1000)  # slower: the next epoch is half a second away
    assert pacer.due(1001) == pytest.approx(10.5)
    assert pacer.ahead(1001, now=10.0) == pytest.approx(0.5)
    pacer.set_speed(0, now=11.0, k=1001)
    assert not pacer.paced and pacer.ahead(10**6, now=11.0) == 0.0


def test_the_rate_is_unknown_until_measured_and_after_a_reset():
    meter = RateMeter()
    assert meter.value is None
    meter.add(0.0, 0)
    meter.add(RATE_MIN_SPAN_S / 2, 5)
    assert meter.value is None  # too short a span to be a rate
    meter.add(RATE_MIN_SPAN_S, 10)
    assert meter.value == pytest.approx(10 / RATE_MIN_SPAN_S)
    meter.reset()
    assert meter.value is None
    meter.add(1.0, 10)
    meter.add(1.0 + RATE_MIN_SPAN_S / 2, 11)
    assert meter.value is None  # a fresh measurement, not one mixed with the old samples


def test_the_rate_covers_the_recent_window_only():
    meter = RateMeter()
    for i in range(41):  # 10 epochs a second for 4 s...
        meter.add(i * 0.1, i)
    for j in range(1, 31):  # ...then 100 a second for 3 s
        meter.add(4.0 + j * 0.01 * 10, 40 + j * 10)
    assert meter.value == pytest.approx(100, rel=0.05)  # the old pace left the window
    assert RATE_WINDOW_S < 3.0

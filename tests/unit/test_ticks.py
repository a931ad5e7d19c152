"""Axis ticks: round, distinct, inside the range and labelled with their exact values."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlp_tui.view.ticks import (
    duration_ticks,
    epoch_ticks,
    linear_ticks,
    log_ticks,
    ticks_for_cells,
)

SI = {"k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18, "Z": 21, "Y": 24, "R": 27, "Q": 30}
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def labels(ticks):
    return [label for _, label in ticks]


def positions(ticks):
    return [pos for pos, _ in ticks]


def epoch_value(label: str) -> Decimal:
    if label[-1] in SI:
        return Decimal(label[:-1]).scaleb(SI[label[-1]])
    return Decimal(label)


def duration_value(label: str) -> Decimal:
    sign = -1 if label.startswith("-") else 1
    parts = re.findall(r"([0-9.e+-]+)([dhms])", label.lstrip("-"))
    assert "".join(a + b for a, b in parts) == label.lstrip("-"), label
    return sign * sum(Decimal(num) * UNITS[unit] for num, unit in parts)


# The bugs as reported.


def test_twenty_thousand_epochs_get_distinct_compact_labels():
    assert epoch_ticks(1, 20_000, 4) == [
        (5000.0, "5k"),
        (10000.0, "10k"),
        (15000.0, "15k"),
        (20000.0, "20k"),
    ]
    assert labels(epoch_ticks(1, 20_000, ticks_for_cells(150, 8))) == [
        f"{i}k" for i in range(2, 21, 2)
    ]


def test_two_thousand_epochs_read_in_plain_k_not_e_notation():
    assert labels(epoch_ticks(1, 2000, 5)) == ["500", "1k", "1.5k", "2k"]


def test_a_hundred_epochs_start_at_a_round_epoch():
    assert epoch_ticks(1, 100, 5) == [
        (20.0, "20"),
        (40.0, "40"),
        (60.0, "60"),
        (80.0, "80"),
        (100.0, "100"),
    ]


def test_epoch_labels_expand_to_their_exact_value():
    assert labels(epoch_ticks(12_000, 13_000, 3)) == ["12k", "12.5k", "13k"]
    assert labels(epoch_ticks(0, 3e9, 4)) == ["0", "1G", "2G", "3G"]
    assert labels(epoch_ticks(1_000, 1_005, 10)) == [str(i) for i in range(1000, 1006)]


def test_epoch_step_is_never_below_one():
    assert epoch_ticks(1, 3, 20) == [(1.0, "1"), (2.0, "2"), (3.0, "3")]


def test_linear_y_ticks_are_round():
    assert linear_ticks(0.1, 50.4, 6) == [
        (10.0, "10"),
        (20.0, "20"),
        (30.0, "30"),
        (40.0, "40"),
        (50.0, "50"),
    ]


def test_small_ranges_keep_the_digits_that_tell_ticks_apart():
    assert linear_ticks(0.03, 0.05, 6) == [
        (0.03, "0.030"),
        (0.035, "0.035"),
        (0.04, "0.040"),
        (0.045, "0.045"),
        (0.05, "0.050"),
    ]
    assert linear_ticks(0.0375, 0.0375, 6) == [(0.0375, "0.0375")]


def test_linear_uses_e_notation_only_past_1e6_or_under_1e_minus_4():
    assert labels(linear_ticks(0, 4e-5, 3)) == ["0", "2e-05", "4e-05"]
    assert labels(linear_ticks(0, 3e6, 4)) == ["0", "1e+06", "2e+06", "3e+06"]
    assert labels(linear_ticks(0, 5e5, 2)) == ["0", "500000"]


def test_log_axis_gets_intermediate_ticks_labelled_with_real_values():
    lo, hi = math.log10(0.06), math.log10(60)
    ticks = log_ticks(lo, hi, 10)
    assert labels(ticks) == ["0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50"]
    assert positions(ticks) == pytest.approx([math.log10(float(s)) for s in labels(ticks)])
    assert labels(log_ticks(lo, hi, 7)) == ["0.1", "0.3", "1", "3", "10", "30"]
    assert labels(log_ticks(lo, hi, 4)) == ["0.1", "1", "10"]


def test_log_axis_under_a_decade_still_has_two_ticks():
    assert labels(log_ticks(math.log10(2.1), math.log10(2.9), 6)) == [
        "2.2",
        "2.4",
        "2.6",
        "2.8",
    ]


def test_log_axis_of_huge_values_does_not_overflow():
    assert log_ticks(300, 300, 5) == [(300.0, "1e+300")]
    assert labels(log_ticks(299.9, 310, 6)) == [
        "1e+300",
        "1e+302",
        "1e+304",
        "1e+306",
        "1e+308",
        "1e+310",
    ]
    assert labels(log_ticks(-300, 300, 5)) == ["1e-200", "1e+00", "1e+200"]  # one format
    assert labels(linear_ticks(0, 1e300, 3)) == ["0", "5e+299", "1e+300"]


def test_durations_step_by_clock_units():
    assert labels(duration_ticks(0, 100, 6)) == ["0s", "30s", "1m", "1m30s"]
    assert labels(duration_ticks(0, 5400, 6)) == ["0s", "30m", "1h", "1h30m"]
    assert labels(duration_ticks(0, 1.2, 6)) == ["0s", "0.2s", "0.4s", "0.6s", "0.8s", "1s"]
    assert labels(duration_ticks(0, 3 * 86400, 4)) == ["0s", "1d", "2d", "3d"]
    assert labels(duration_ticks(0, 12 * 3600, 5)) == ["0s", "3h", "6h", "9h", "12h"]


def test_ticks_for_cells():
    assert ticks_for_cells(80, 8) == 10
    assert ticks_for_cells(3, 8) == 2
    assert ticks_for_cells(10, 0) == 10


def test_non_finite_ranges_are_refused():
    with pytest.raises(ValueError):
        linear_ticks(0, math.inf, 5)


# Properties over any finite range.

finite = st.floats(allow_nan=False, allow_infinity=False)
near = st.builds(
    lambda c, rel: (c, c + abs(c) * rel + rel),
    st.floats(-1e12, 1e12),
    st.floats(1e-15, 1e3),
)
ranges = st.one_of(st.tuples(finite, finite), near).filter(lambda r: math.isfinite(r[1]))
counts = st.integers(2, 30)


def span(lo: float, hi: float) -> Fraction:
    return Fraction(hi) - Fraction(lo)


def thin(lo: float, hi: float) -> bool:
    """Too thin a range for floats to hold two round ticks."""
    mag = max(abs(Fraction(lo)), abs(Fraction(hi)))
    return span(lo, hi) < max(Fraction(1, 10**12) * mag, Fraction(1, 10**300))


def check(ticks, lo: float, hi: float, max_ticks: int, may_be_one: bool) -> None:
    pos = positions(ticks)
    assert pos == sorted(pos) and len(set(pos)) == len(pos)
    assert len(set(labels(ticks))) == len(ticks)
    assert all(lo <= p <= hi for p in pos)
    assert 1 <= len(ticks) <= max_ticks
    if lo < hi and not may_be_one:
        assert len(ticks) >= 2


@settings(max_examples=150, deadline=None)
@given(ranges, counts)
def test_linear_ticks_properties(r, n):
    lo, hi = sorted(r)
    ticks = linear_ticks(lo, hi, n)
    check(ticks, lo, hi, n, thin(lo, hi))
    assert len({"e" in label for label in labels(ticks) if label != "0"}) <= 1  # one format
    for p, label in ticks:
        assert float(label) == p  # the label is the exact tick value


@settings(max_examples=150, deadline=None)
@given(ranges, counts)
def test_epoch_ticks_properties(r, n):
    lo, hi = sorted(r)
    ticks = epoch_ticks(lo, hi, n)
    whole = math.floor(hi) - math.ceil(lo) + 1
    check(ticks, lo, hi, n, thin(lo, hi) or whole < 2)
    if whole >= 1:
        for p, label in ticks:
            assert p == int(p)
            assert float(epoch_value(label)) == p
            if max(abs(lo), abs(hi)) < 1e33:  # past the last SI prefix (Q) e-notation is kept
                assert "e" not in label


@settings(max_examples=150, deadline=None)
@given(ranges, counts)
def test_duration_ticks_properties(r, n):
    lo, hi = sorted(r)
    ticks = duration_ticks(lo, hi, n)
    check(ticks, lo, hi, n, thin(lo, hi))
    for p, label in ticks:
        assert float(duration_value(label)) == p


def test_a_log_axis_has_one_number_format():
    """--lr 1000: losses from 1e-2 to 1e15 read 1e-02 ... 1e+14, never 1e+15 beside 10000
    (issue 36, item 6)."""
    got = labels(log_ticks(-2, 15.3, 12))
    assert got == ["1e-02", "1e+00", "1e+02", "1e+04", "1e+06", "1e+08", "1e+10", "1e+12",
                   "1e+14"]
    assert labels(log_ticks(-1, 5.2, 12)) == ["0.1", "1", "10", "100", "1000", "10000",
                                              "100000"]
    assert labels(log_ticks(0, 7, 12))[-1] == "1e+07" and labels(log_ticks(0, 7, 12))[0] == "1e+00"


@settings(max_examples=150, deadline=None)
@given(ranges, counts)
@example((1096158092213318.8, 1096158092213319.4), 14)  # 2..9 would collide in float
@example((-1.7976931348589e308, -1.7976931348589362e308), 2)  # no 10**x overflow
def test_log_ticks_properties(r, n):
    lo, hi = sorted(r)
    ticks = log_ticks(lo, hi, n)
    degenerate = span(lo, hi) < Fraction(1, 10**9) * max(1, abs(Fraction(lo)), abs(Fraction(hi)))
    check(ticks, lo, hi, n, degenerate)
    assert len({"e" in label for label in labels(ticks) if label != "0"}) <= 1  # one format
    if max(abs(lo), abs(hi)) < 1e5:
        for p, label in ticks:
            tol = 1e-5 if len(ticks) == 1 else 1e-9  # a lone tick is labelled to 6 digits
            assert float(Decimal(label).log10()) == pytest.approx(p, rel=tol, abs=tol)


@given(finite, counts)
def test_a_point_range_gets_one_tick(x, n):
    for f in (linear_ticks, epoch_ticks, duration_ticks, log_ticks):
        assert positions(f(x, x, n)) == [x]

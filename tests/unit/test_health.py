"""Health detectors on recorded curves and synthetic series.

The curves in tests/data/curves/ are the notebook loop (raw features unless `standardize`,
`torch.manual_seed(seed)`, Linear -> ReLU -> Linear, full-batch SGD, cross-entropy), one train
loss and train accuracy per epoch, measured before that epoch's step.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlp_tui.core.schema import HEALTH_CODE, HEALTHS, Health
from mlp_tui.engine import health
from mlp_tui.engine.health import (
    CHANCE_WINDOW,
    CHECK_EVERY,
    DIVERGE_WINDOW,
    KEEP,
    STALL_TOLERANCE,
    STALL_WINDOW,
    HealthTracker,
    assess,
    chance_accuracy,
    is_at_chance,
    is_diverging,
    is_stalled,
    prior_loss,
    stall_floor,
)

CURVES = Path(__file__).resolve().parents[1] / "data" / "curves"
OK = HEALTH_CODE[Health.OK]


@cache
def curve(name: str) -> dict:
    return json.loads((CURVES / f"{name}.json").read_text())


def one_at_a_time(losses, accs, counts) -> list[int]:
    tracker = HealthTracker(counts)
    return [code for loss, acc in zip(losses, accs) for code in tracker.update([loss], [acc])]


def first_flag(codes: list[int]) -> int | None:
    """The 1-based epoch of the first code that is not OK."""
    return next((i + 1 for i, c in enumerate(codes) if c != OK), None)


# Runs that end "finished" but must be flagged: (name, health at the end, onset, detectors that
# fire on the last window). The onset is the epoch the curve enters the state (read off the
# recording); the flag must come by onset + window - 1, rounded up to the next check.
FLAGGED = [
    # lr 1000: one huge step, then a 3-cycle 84 -> 306 -> 610 at accuracy 1/3.
    ("iris_w5_lr1000", Health.DIVERGING, 2, {"diverging", "chance"}),
    # lr 10000: 2.73 at the start, then 700 to 7400 for good, accuracy about 0.1.
    ("digits_w5_lr10000", Health.DIVERGING, 2, {"diverging", "chance"}),
    # Raw features: every width settles on the majority class, the loss on 0.6603 (the prior).
    ("breast_cancer_w5", Health.CHANCE, 1, {"chance", "stalled"}),
    ("breast_cancer_w100", Health.CHANCE, 1, {"chance", "stalled"}),
    ("breast_cancer_w1000", Health.CHANCE, 1, {"chance", "stalled"}),
    # Creeps down to ln 10 at accuracy 0.10 (the accuracy is at chance from epoch 12).
    ("digits_w5", Health.CHANCE, 12, {"chance"}),
    # lr 1: flat at ln 3 = 1.0986 (the class prior) from about epoch 12, accuracy 1/3: a stall
    # at the constant predictor, which chance names more precisely.
    ("iris_w5_lr1", Health.CHANCE, 2, {"chance", "stalled"}),
]
WINDOW = {Health.DIVERGING: DIVERGE_WINDOW, Health.CHANCE: CHANCE_WINDOW}

# Runs that must stay OK at every epoch (the first 100 epochs are the 100-epoch runs).
HEALTHY = [
    "iris_w5",
    "iris_w100",
    "iris_w1000",  # spikes to about 50 in epochs 2-6, then falls
    "iris_w5_val",
    "iris_w1000_val",
    "wine_w5_std",
    "wine_w1000_std",
    "digits_w5_std",
    "digits_w1000_std",
]
ALL = [name for name, *_ in FLAGGED] + HEALTHY


def test_prior_loss_and_chance_accuracy():
    assert prior_loss([212, 357]) == pytest.approx(0.6603, abs=1e-4)  # breast_cancer
    assert prior_loss([50, 50, 50]) == pytest.approx(math.log(3))
    assert prior_loss([7, 0]) == 0.0
    assert chance_accuracy([212, 357]) == 357 / 569
    assert chance_accuracy([50, 50, 50]) == pytest.approx(1 / 3)


@pytest.mark.parametrize(("name", "expected", "onset", "fired"), FLAGGED)
def test_flagged_runs(name, expected, onset, fired):
    d = curve(name)
    losses, accs, counts = d["losses"], d["accs"], d["class_counts"]
    assert len(counts) == d["n_classes"]
    prior, chance = prior_loss(counts), chance_accuracy(counts)
    seen = {
        "diverging": is_diverging(losses, losses[0]),
        "chance": is_at_chance(losses, accs, prior, chance),
        "stalled": is_stalled(losses, len(counts)),
    }
    assert {k for k, v in seen.items() if v} == fired
    tracker = HealthTracker(counts)
    codes = tracker.update(losses, accs)
    assert tracker.health == expected
    assert HEALTHS[codes[-1]] == expected
    first = first_flag(codes)
    bound = -(-(onset + WINDOW[expected] - 1) // CHECK_EVERY) * CHECK_EVERY
    assert first is not None and WINDOW[expected] <= first <= bound
    assert all(c == HEALTH_CODE[expected] for c in codes[first - 1 :])  # sustained to the end


def test_breast_cancer_is_flagged_within_60_epochs_of_its_plateau():
    for width in (5, 100, 1000):
        d = curve(f"breast_cancer_w{width}")
        plateau = next(i + 1 for i, v in enumerate(d["losses"]) if abs(v - 0.6603) < 1e-3)
        assert first_flag(HealthTracker(d["class_counts"]).update(d["losses"], d["accs"])) <= (
            plateau + 60
        )


def test_iris_lr_1_is_caught_by_the_stall_rule_too():
    d = curve("iris_w5_lr1")
    losses = d["losses"]
    first = next(e for e in range(1, len(losses) + 1) if is_stalled(losses[:e], 3))
    assert first <= 70  # flat from about epoch 12, so the 50-epoch window fills by 62


@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_runs_stay_ok_at_every_epoch(name):
    d = curve(name)
    losses, accs, counts = d["losses"], d["accs"], d["class_counts"]
    assert HealthTracker(counts).update(losses, accs) == [OK] * len(losses)
    assert one_at_a_time(losses, accs, counts) == [OK] * len(losses)
    for e in range(1, len(losses) + 1):
        assert not is_diverging(losses[:e], losses[0]), e
        assert not is_at_chance(losses[:e], accs[:e], prior_loss(counts), chance_accuracy(counts))
        assert not is_stalled(losses[:e], len(counts)), e


@pytest.mark.parametrize("name", ALL)
def test_tracker_checks_every_n_epochs_with_assess(name):
    """At each check epoch the code is `assess` of the epochs so far; between checks it holds."""
    d = curve(name)
    losses, accs, counts = d["losses"], d["accs"], d["class_counts"]
    codes = HealthTracker(counts).update(losses, accs)
    held = OK
    for e in range(1, len(losses) + 1):
        if e % CHECK_EVERY == 0:
            held = HEALTH_CODE[
                assess(
                    losses[:e],
                    accs[:e],
                    start_loss=losses[0],
                    n_classes=len(counts),
                    prior=prior_loss(counts),
                    chance_acc=chance_accuracy(counts),
                )
            ]
        assert codes[e - 1] == held, e


def batched(tracker: HealthTracker, losses, accs, sizes) -> list[int]:
    codes, i, k = [], 0, 0
    while i < len(losses):
        n = sizes[k % len(sizes)]
        codes += tracker.update(losses[i : i + n], accs[i : i + n])
        i, k = i + n, k + 1
    return codes


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(ALL), sizes=st.lists(st.integers(1, 400), min_size=1, max_size=20))
def test_recorded_curves_do_not_depend_on_batching(name, sizes):
    d = curve(name)
    expected = one_at_a_time(d["losses"], d["accs"], d["class_counts"])
    tracker = HealthTracker(d["class_counts"])
    assert batched(tracker, d["losses"], d["accs"], sizes) == expected
    assert tracker.health == HEALTHS[expected[-1]]


values = st.one_of(
    st.floats(0.0, 5.0),
    st.sampled_from([0.05, 0.6603, 1.0986, 1.2029, 1e4]),
)


@settings(max_examples=60, deadline=None)
@given(
    body=st.lists(st.tuples(values, st.floats(0.0, 1.0)), max_size=180),
    runs=st.lists(st.tuples(values, st.floats(0.0, 1.0), st.integers(1, 80)), max_size=4),
    tail=st.lists(st.sampled_from([math.nan, math.inf, -math.inf]), max_size=30),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=10),
)
def test_synthetic_series_do_not_depend_on_batching(body, runs, tail, sizes):
    """Noise, flat stretches (plateaus at the prior, stalls, divergence) and non-finite tails."""
    pairs = body + [(v, a) for v, a, n in runs for _ in range(n)] + [(t, 0.5) for t in tail]
    if not pairs:
        return
    losses, accs = [p[0] for p in pairs], [p[1] for p in pairs]
    expected = one_at_a_time(losses, accs, [50, 50, 50])
    assert batched(HealthTracker([50, 50, 50]), losses, accs, sizes) == expected


def test_flat_series_above_the_floor_is_stalled():
    assert is_stalled([1.2029] * STALL_WINDOW, 3)
    assert is_stalled([5.0] * 10 + [1.2029] * STALL_WINDOW, 3)  # only the last window counts
    assert not is_stalled([1.2029] * (STALL_WINDOW - 1), 3)  # too short to tell
    slow = [1.2029 - 1e-5 * i for i in range(STALL_WINDOW)]  # still learning, slowly
    assert not is_stalled(slow, 3)
    wiggle = [1.2029 + (2 * STALL_TOLERANCE if i % 2 else 0.0) for i in range(STALL_WINDOW)]
    assert not is_stalled(wiggle, 3)
    assert not is_stalled([0.05] * STALL_WINDOW, 3)  # flat, but at a solution
    # The floor scales with the number of classes: 0.6 is high for 2 classes, low for 10.
    assert stall_floor(3) == 0.5 * math.log(3)
    assert is_stalled([0.6] * STALL_WINDOW, 2)
    assert not is_stalled([0.6] * STALL_WINDOW, 10)


def test_a_stall_away_from_the_prior_is_stalled_and_can_recover():
    """1.2029 on iris is flat but not the prior (ln 3), at an accuracy above chance."""
    flat, falling = [1.2029] * 100, [1.2029 - 0.01 * i for i in range(1, 101)]
    losses, accs = flat + falling, [0.6] * 200
    codes = HealthTracker([50, 50, 50]).update(losses, accs)
    assert first_flag(codes) == STALL_WINDOW
    assert HEALTHS[codes[99]] == Health.STALLED
    assert codes[110:] == [OK] * 90  # it learns again: OK from the first check after


def test_diverging_and_chance_on_synthetic_series():
    assert is_diverging([1.0] + [11.0] * DIVERGE_WINDOW, 1.0)
    assert not is_diverging([1.0] + [11.0] * (DIVERGE_WINDOW - 1), 1.0)  # too short
    assert not is_diverging([11.0] * (DIVERGE_WINDOW - 1) + [9.0], 1.0)  # not every epoch
    assert not is_diverging([11.0] * DIVERGE_WINDOW, math.nan)  # no start yet
    prior = math.log(3)
    assert is_at_chance([prior] * CHANCE_WINDOW, [0.9] * CHANCE_WINDOW, prior, 1 / 3)
    assert is_at_chance([0.3] * CHANCE_WINDOW, [0.35] * CHANCE_WINDOW, prior, 1 / 3)
    assert not is_at_chance([0.3] * CHANCE_WINDOW, [0.4] * CHANCE_WINDOW, prior, 1 / 3)
    assert not is_at_chance([prior] * (CHANCE_WINDOW - 1), [0.3] * (CHANCE_WINDOW - 1), prior, 0.3)


def test_non_finite_losses_are_ignored():
    nan, inf = math.nan, math.inf
    assert is_stalled([1.2029] * (STALL_WINDOW - 1) + [nan], 3)
    assert is_diverging([50.0] * (DIVERGE_WINDOW - 2) + [inf, nan], 1.0)
    assert not is_stalled([1.2029] * (STALL_WINDOW // 2 - 1) + [nan] * (STALL_WINDOW // 2 + 1), 3)
    # A healthy run that blows up to NaN at the end: the NaN epochs are no health.
    d = curve("iris_w100")
    losses, accs = d["losses"][:200] + [inf, nan, nan], d["accs"][:200] + [0.33] * 3
    tracker = HealthTracker(d["class_counts"])
    assert tracker.update(losses, accs) == [OK] * len(losses)
    # A first loss that is not finite: the start is the first finite one.
    tracker = HealthTracker([50, 50, 50])
    tracker.update([nan, 1.1], [0.3, 0.3])
    assert tracker.start_loss == 1.1


def test_cost_is_a_few_array_calls_per_batch(monkeypatch):
    """Checks every CHECK_EVERY epochs, all of a batch's at once, over a bounded memory."""
    calls, rows = [], []
    real = health.stalled_rows

    def counted(losses, *args):
        calls.append(1)
        rows.append(len(losses))
        return real(losses, *args)

    monkeypatch.setattr(health, "stalled_rows", counted)
    n, size = 100_000, 512
    tracker = HealthTracker([50, 50, 50])
    for i in range(0, n, size):
        m = min(size, n - i)
        assert len(tracker.update([1.0 + 1e-3 * (i % 7)] * m, [0.6] * m)) == m
        assert len(tracker._losses) <= KEEP
    assert len(calls) == -(-n // size)  # one call per batch
    assert sum(rows) == n // CHECK_EVERY - (STALL_WINDOW // CHECK_EVERY - 1)  # one row per check
    tracker.update([1.0] * 10_000, [0.6] * 10_000)
    assert rows[-1] == 10_000 // CHECK_EVERY


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        HealthTracker([])
    with pytest.raises(ValueError):
        HealthTracker([0, 0])
    with pytest.raises(ValueError):
        HealthTracker([3, 3]).update([1.0, 1.0], [0.5])
    assert HealthTracker([3, 3]).update([], []) == []


def test_health_imports_only_the_schema():
    """Pure Python over the schema: no numpy, no torch, nothing of mlp_tui beyond core/ (the
    schema reads the run columns from the declared settings, core/settings.py)."""
    code = (
        "import sys, mlp_tui.engine.health; "
        "print(sorted(m for m in sys.modules if m.startswith(('mlp_tui', 'numpy', 'torch'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = [m.strip("[]',") for m in out.stdout.split()]
    assert "mlp_tui.core.schema" in loaded
    assert [m for m in loaded if not m.startswith("mlp_tui.core")] == [
        "mlp_tui", "mlp_tui.engine", "mlp_tui.engine.health"
    ]

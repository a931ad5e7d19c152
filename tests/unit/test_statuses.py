"""Per-epoch statuses from batched read-backs equal those of a check after every epoch, however
the epochs are split into batches."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import pytest

from mlp_tui.engine.health import STALL_CHECK_EVERY, STALL_WINDOW, is_stalled
from mlp_tui.engine.history import (
    DIVERGED,
    FINISHED,
    RUNNING,
    STALLED,
    STATUS_CODE,
    RunHistory,
)
from mlp_tui.engine.trainer import Run

N_CLASSES = 3


def reference(losses: list[float], total: int) -> list[str]:
    """The rule, one epoch at a time: a stall check every STALL_CHECK_EVERY epochs over the last
    STALL_WINDOW losses; the first non-finite loss ends the life as diverged."""
    out, stalled = [], False
    for epoch, v in enumerate(losses, start=1):
        if not math.isfinite(v):
            out.append(DIVERGED)
            break
        if epoch % STALL_CHECK_EVERY == 0 and epoch >= STALL_WINDOW:
            stalled = is_stalled(losses[epoch - STALL_WINDOW : epoch], N_CLASSES)
        out.append(STALLED if stalled else FINISHED if epoch == total else RUNNING)
    return out


def batched(losses: list[float], total: int, rng: random.Random) -> list[str]:
    run = SimpleNamespace(stalled=False)
    history = RunHistory(150)
    i = 0
    while i < len(losses):
        m = rng.randint(1, 37)
        chunk = losses[i : i + m]
        bad = [k for k, v in enumerate(chunk) if not math.isfinite(v)]
        diverged = bool(bad)
        if diverged:
            chunk = chunk[: bad[0] + 1]
        codes = Run._statuses(run, history, chunk, i + 1, diverged, total, N_CLASSES)
        history.extend(chunk, [0] * len(chunk), None, None, [0.0] * len(chunk), codes)
        i += len(chunk)
        if diverged:
            break
    return history.read().status


def losses_with_plateaus(rng: random.Random, n: int, nan_at: int | None) -> list[float]:
    out, v = [], 1.1
    while len(out) < n:
        if rng.random() < 0.5:  # a plateau above the floor (stalls) or below it (converged)
            level = rng.choice([1.1, 0.2])
            out += [level + rng.uniform(0, 5e-5) for _ in range(rng.randint(40, 140))]
        else:
            out += [v - 0.001 * k for k in range(rng.randint(20, 90))]
    out = out[:n]
    if nan_at is not None:
        out[nan_at] = math.nan
    return out


@pytest.mark.parametrize("seed", range(12))
def test_batched_statuses_match_a_per_epoch_check(seed):
    rng = random.Random(seed)
    total = rng.randint(60, 500)
    nan_at = rng.randrange(total) if seed % 3 == 0 else None
    losses = losses_with_plateaus(rng, total, nan_at)
    expected = reference(losses, total)
    assert batched(losses, total, rng) == expected


def test_the_generator_covers_stalls_divergence_and_finishing():
    seen = set()
    for seed in range(12):
        rng = random.Random(seed)
        total = rng.randint(60, 500)
        nan_at = rng.randrange(total) if seed % 3 == 0 else None
        seen.update(reference(losses_with_plateaus(rng, total, nan_at), total))
    assert {RUNNING, STALLED, DIVERGED, FINISHED} <= seen
    assert set(STATUS_CODE) == {RUNNING, STALLED, DIVERGED, FINISHED}

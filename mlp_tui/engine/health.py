"""Detectors for runs that went wrong: a run that stopped learning far from a solution."""

from __future__ import annotations

import math

STALL_WINDOW = 50  # epochs the loss must stay flat
STALL_TOLERANCE = 1e-4  # max - min of the loss over the window
STALL_CHECK_EVERY = 10  # epochs between checks, to keep the hot loop lean


def stall_floor(n_classes: int) -> float:
    """Below this loss a run is close enough to a solution that a plateau is convergence.

    Half of ln(classes): a model that predicts the class prior scores ln(classes) on balanced data,
    and one whose ReLUs all died sits there for good.
    """
    return 0.5 * math.log(max(n_classes, 2))


def is_stalled(recent_losses: list[float], n_classes: int) -> bool:
    """True when the last STALL_WINDOW losses are flat (within STALL_TOLERANCE) and high."""
    if len(recent_losses) < STALL_WINDOW:
        return False
    window = recent_losses[-STALL_WINDOW:]
    if not all(math.isfinite(v) for v in window):
        return False
    return max(window) - min(window) < STALL_TOLERANCE and window[-1] > stall_floor(n_classes)

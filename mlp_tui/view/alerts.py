"""Alerts: a run that ends, or whose health turns bad, is told once (a notification, a bell),
in plain words ("w=5 d=2 lr=0.01: accuracy at chance for 50 epochs").

What a session shows when it is first seen is the baseline, not news: a replay of a finished
file raises nothing. A restarted run starts a new life and is a baseline again. Bad news that
comes at once (a grid whose runs turn bad within a moment of each other) is one notification.

A notification is lines of plain words: each run's label is escaped here (`printable`), and the
one line break allowed is the one between two runs' news.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlp_tui.core.contract import RunView
from mlp_tui.core.schema import Health, Status
from mlp_tui.core.text import printable
from mlp_tui.engine.health import (
    CHANCE_WINDOW,
    DIVERGE_FACTOR,
    DIVERGE_WINDOW,
    STALL_WINDOW,
)
from mlp_tui.view.sharpness import forecast

MAX_NAMED = 4  # runs named in one line; more are counted
BATCH_S = 3.0  # runs that finish normally are told together, at most this often
GATHER_S = 0.5  # bad news is held this long for more that comes with it: one notification

# What each health means, said as a person would (the detectors' own windows: engine.health).
HEALTH_WORDS = {
    Health.CHANCE: f"accuracy at chance for {CHANCE_WINDOW} epochs",
    Health.BASELINE: f"no better than predicting the mean (R² ≤ 0) for {CHANCE_WINDOW} epochs",
    Health.STALLED: f"loss flat for {STALL_WINDOW} epochs, far from a solution",
    Health.DIVERGING: f"loss over {DIVERGE_FACTOR:g}x its start for {DIVERGE_WINDOW} epochs",
}
STATUS_WORDS = {
    Status.DIVERGED: "the loss became NaN or infinite (diverged)",
    Status.FAILED: "training failed",
}


class Alerts:
    """Bad news (a run diverged or failed, a health turned bad) is told at once, one line per
    tick; runs that finish normally are gathered and told at most every BATCH_S seconds (a grid
    of 256 runs must not raise 256 notifications), and at once when the last run ends."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[int, Status, Health]] = {}
        self._finished: list[str] = []
        self._bad: list[str] = []
        self._bad_since = 0.0
        self._told = -BATCH_S
        self._forecast: set[int] = set()  # lives whose reading at init was looked at

    def update(self, runs: Sequence[RunView], now: float) -> list[tuple[str, bool]]:
        """The lines to tell now, each with whether it is bad news."""
        for run in runs:
            state = (id(run.history), run.status, run.health)
            before = self._seen.get(run.index)
            self._seen[run.index] = state
            if before is None or before[0] != state[0]:
                continue  # first sight, or a new life: the baseline
            status, health = state[1], state[2]
            label = printable(run.label)
            line = ""
            if status.ended and not before[1].ended:
                if status in STATUS_WORDS:
                    line = f"{label}: {STATUS_WORDS[status]} at epoch {len(run.history)}"
                elif status is Status.FINISHED:
                    self._finished.append(label)
                elif status is Status.EARLY_STOPPED:  # news, not bad news: it did its job
                    _, best = run.history.best("val_loss")
                    self._finished.append(f"{label} (stopped early at epoch "
                                          f"{len(run.history)}, best at {best})")
            elif health is not Health.OK and health is not before[2] and not status.ended:
                line = f"{label}: {HEALTH_WORDS.get(health, health.value)}"
            if line:
                if not self._bad:
                    self._bad_since = now
                self._bad.append(line)
        out = self._forecasts(runs)
        last = all(r.status.ended for r in runs)
        if self._bad and (last or now - self._bad_since >= GATHER_S):
            out.append((_listed(self._bad), True))
            self._bad = []
        if self._finished and (last or now - self._told >= BATCH_S):
            line = _joined(self._finished) + " finished" + (": all runs ended" if last else "")
            out.append((line, False))
            self._finished = []
            self._told = now
        return out


    def _forecasts(self, runs: Sequence[RunView]) -> list[tuple[str, bool]]:
        """Runs whose sharpness at init is above their edge (view.sharpness), told once a life
        as they start, in one line: not bad news (no bell), a forecast."""
        lines = []
        for run in runs:
            life = id(run.history)
            if life in self._forecast or not len(run.history):
                continue
            self._forecast.add(life)
            if not run.status.ended:
                line = forecast(run)
                if line:
                    lines.append(line)
        return [(_listed(lines), False)] if lines else []


def _listed(lines: list[str]) -> str:
    """Bad news, one run a line; past MAX_NAMED the rest are counted."""
    if len(lines) <= MAX_NAMED:
        return "\n".join(lines)
    return "\n".join(lines[:MAX_NAMED]) + f"\nand {len(lines) - MAX_NAMED} more"


def _joined(labels: list[str]) -> str:
    if len(labels) <= MAX_NAMED:
        return "; ".join(labels)
    return "; ".join(labels[:MAX_NAMED]) + f" and {len(labels) - MAX_NAMED} more"

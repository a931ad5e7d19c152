"""Alerts: a run that ends, or whose health turns bad, is told once (a notification, a bell).

What a session shows when it is first seen is the baseline, not news: a replay of a finished
file raises nothing. A restarted run starts a new life and is a baseline again.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlp_tui.core.contract import RunView
from mlp_tui.core.schema import Health, Status

MAX_NAMED = 4  # runs named in one line; more are counted
BATCH_S = 3.0  # runs that finish normally are told together, at most this often


class Alerts:
    """Bad news (a run diverged or failed, a health turned bad) is told at once, one line per
    tick; runs that finish normally are gathered and told at most every BATCH_S seconds (a grid
    of 256 runs must not raise 256 notifications), and at once when the last run ends."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[int, Status, Health]] = {}
        self._finished: list[str] = []
        self._told = -BATCH_S

    def update(self, runs: Sequence[RunView], now: float) -> list[tuple[str, bool]]:
        """The lines to tell now, each with whether it is bad news."""
        bad: list[str] = []
        for run in runs:
            state = (id(run.history), run.status, run.health)
            before = self._seen.get(run.index)
            self._seen[run.index] = state
            if before is None or before[0] != state[0]:
                continue  # first sight, or a new life: the baseline
            status, health = state[1], state[2]
            at = f"at epoch {len(run.history)}"
            if status.ended and not before[1].ended:
                if status in (Status.DIVERGED, Status.FAILED):
                    bad.append(f"{run.label} {status.value} {at}")
                elif status is Status.FINISHED:
                    self._finished.append(run.label)
            elif health is not Health.OK and health is not before[2] and not status.ended:
                bad.append(f"{run.label} looks {health.value} {at}")
        out = [(_joined(bad), True)] if bad else []
        last = all(r.status.ended for r in runs)
        if self._finished and (last or now - self._told >= BATCH_S):
            line = _joined(self._finished) + " finished" + (": all runs ended" if last else "")
            out.append((line, False))
            self._finished = []
            self._told = now
        return out


def _joined(labels: list[str]) -> str:
    if len(labels) <= MAX_NAMED:
        return "; ".join(labels)
    return "; ".join(labels[:MAX_NAMED]) + f" and {len(labels) - MAX_NAMED} more"

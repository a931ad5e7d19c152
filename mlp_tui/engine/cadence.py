"""When a worker looks up from computing, the same for a run's worker and a stack's: between two
`compute` calls (never inside one) it hands its buffered epochs over at most every `flush_s`, and
passes the baton on once its slice of SLICE_S is over."""

from __future__ import annotations

import time

from mlp_tui.engine.baton import Baton

# A run computes for at most this long before it hands the baton on: each hand-over costs the next
# run its caches (width 1000 works on megabytes), yet a round of the runs stays short enough that
# every run moves between two redraws (figures: docs/benchmarks.md).
SLICE_S = 0.02


class Cadence:
    """The clock of one worker's hand-overs and turns. `flush_at_turn`: hand over at the end of
    every slice too (a run's worker; a stack hands over only every `flush_s`, each hand-over
    costing every seed a health check)."""

    def __init__(self, baton: Baton, flush_s: float, now: float, flush_at_turn: bool) -> None:
        self.baton, self.flush_s, self.flush_at_turn = baton, flush_s, flush_at_turn
        self.last_flush = now
        self.slice_end = now + SLICE_S

    def until(self, paced: bool) -> float:
        """When `compute` returns at the latest: at once when paced (each epoch is looked at),
        else at the next hand-over or the slice's end."""
        return 0.0 if paced else min(self.last_flush + self.flush_s, self.slice_end)

    def hand_over(self, now: float, due: bool) -> bool:
        """True, the hand-over clock reset, when the buffered epochs go to the history now: `due`
        (ahead of the pace, or the buffer full), or their time has come."""
        if due or now - self.last_flush >= self.flush_s or (
            self.flush_at_turn and now >= self.slice_end
        ):
            self.last_flush = now
            return True
        return False

    def turn(self, now: float) -> None:
        """Pass the baton on if the slice is over (at once when nobody waits)."""
        if now >= self.slice_end:
            self.baton.pass_turn()
            self.new_slice()

    def new_slice(self, now: float | None = None) -> None:
        """A slice starts (after a turn, or a wait without the baton)."""
        self.slice_end = (time.perf_counter() if now is None else now) + SLICE_S

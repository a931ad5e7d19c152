"""The kernel protocol: one interface for every way of computing epochs.

A kernel trains the lives of `slots` runs at once (one model; a stack's seeds; a fused sweep's
runs) and buffers their epochs; the one worker (engine/worker.py) drives any kernel the same way:
between `compute` calls it hands `take()`'s columns to each slot's life, reads the controls,
`reseed`s a restarted slot and masks a paused or ended one with `set_active`. Nothing here imports
a kernel: `engine/kernels.py` chooses one for a configuration.
"""

from __future__ import annotations

from typing import Protocol

# Epochs buffered between two read-backs at most, and the floats a kernel keeps for read-back
# (float32: 4 MB): the kernels size their buffers from these.
FLUSH_MAX = 512
BUFFER_FLOATS = 1 << 20


class Interruptible(Protocol):
    """What the hot loop polls once an epoch: raised by every control of the worker's runs."""

    interrupt: bool


class Kernel(Protocol):
    """Computes epochs of `slots` lives into buffers and reads them back in batches."""

    slots: int  # the runs trained together; slot i is the worker's i-th run
    rows: int  # epochs buffered at most (room for `compute`)
    buffered: int  # epochs computed and not read back yet

    def compute(self, room: int, until: float, ctl: Interruptible) -> float:
        """Train every active slot and buffer epochs until `room` are buffered, the clock passes
        `until` or `ctl` is interrupted (at least one epoch); the clock at the last epoch's end."""
        ...

    def take(self) -> tuple[list[dict[str, list]], list[float]]:
        """Every buffered epoch, with one host sync: per slot, columns keyed by epoch field
        (ratios as counts; a masked slot's are computed and ignored), and the epochs' clock
        stamps (perf_counter at each epoch's end)."""
        ...

    def reseed(self, slot: int, seed: int) -> None:
        """Give a slot the initial weights (and noise, masks, order) of a life seeded `seed`."""
        ...

    def set_active(self, slot: int, active: bool) -> None:
        """Let a slot train, or mask it out (paused, or its run ended): a masked slot's weights
        never change."""
        ...

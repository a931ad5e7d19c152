"""`--early-stop PATIENCE`: a life ends once its validation loss has not improved for PATIENCE
epochs. Judged as epochs are handed over, epoch by epoch, so the stop falls on the same epoch
whatever the batching; the epochs a kernel computed past it belong to no one (as after a
divergence)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class EarlyStop:
    """Keras' rule: an epoch improves when its validation loss is below the best so far by more
    than `min_delta`; the life stops at the PATIENCE-th epoch in a row without one."""

    patience: int
    min_delta: float = 0.0
    best: float = math.inf
    best_epoch: int = 0  # 1-based; 0 before any finite validation loss
    since: int = 0  # epochs since the best
    seen: int = 0  # epochs judged

    def stop_at(self, val_losses: Sequence[float | None]) -> int | None:
        """Judge the next epochs (their validation losses, in order); the index among them of
        the epoch that stops the life, or None. Epochs after a stop are not judged."""
        for i, v in enumerate(val_losses):
            self.seen += 1
            if v is not None and math.isfinite(v) and v < self.best - self.min_delta:
                self.best, self.best_epoch, self.since = v, self.seen, 0
            else:
                self.since += 1
            if self.since >= self.patience:
                return i
        return None

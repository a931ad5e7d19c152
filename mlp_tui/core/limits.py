"""What a served tab may take: the shares `mlp-tui serve` hands each app it starts.

The server (faces/web_apps.py) sets these variables in every app process's environment; an app
started any other way has none and keeps the machine-wide checks. A served tab's visitor can
change the settings (the form), so the checks must hold in the app, not only at the server's
start: several tabs each checking "half the memory free now" add up to more than the machine has.
"""

from __future__ import annotations

import os
import time
from typing import Any

TAB_MEMORY_ENV = "MLP_TUI_TAB_MEMORY"  # bytes the runs of one tab may take
TAB_WORK_ENV = "MLP_TUI_TAB_WORK"  # width-epochs (epochs x width x depth x runs) of one tab
EXPORT_EVERY_ENV = "MLP_TUI_EXPORT_EVERY_S"  # seconds between two exports of one tab
EXPORT_MAX_ENV = "MLP_TUI_EXPORT_MAX"  # exports (e, E) one tab may write in its life


def _env_int(name: str) -> int | None:
    """A positive whole number from the environment, or None (unset or not a number)."""
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def tab_memory(machine: int) -> int:
    """The memory budget: the machine's share, or the tab's when served (the smaller)."""
    share = _env_int(TAB_MEMORY_ENV)
    return machine if share is None else min(machine, share)


def work(cfg: Any) -> int:
    """epochs x width x depth, summed over the runs: what a configuration asks of the CPU."""
    per_seed = sum(int(p.depth) * w for p in cfg.points() for w in cfg.widths)
    return int(cfg.epochs) * per_seed * int(cfg.repeats)


def check_work(cfg: Any, error: type[Exception], budget: int | None = None) -> None:
    """Raise `error("--epochs", why)` when a served tab asks more than its CPU budget (given,
    else this process's share). `error` is the caller's (core.config.ConfigError): this module
    sits below core.config and imports nothing of it."""
    budget = budget or _env_int(TAB_WORK_ENV)
    if budget is None:
        return
    asked = work(cfg)
    if asked > budget:
        raise error(
            "--epochs",
            f"{asked:,} width-epochs (epochs x width x depth x runs) is more than the "
            f"{budget:,} a served tab may train (mlp-tui serve --tab-work)",
        )


class ExportPace:
    """Exports of a served tab: at most one each EXPORT_EVERY_S, at most EXPORT_MAX in all, so
    that a held key cannot fill the server's disk. Unserved: no limit."""

    def __init__(self) -> None:
        self.every = _env_int(EXPORT_EVERY_ENV) or 0
        self.most = _env_int(EXPORT_MAX_ENV)
        self.count = 0
        self.last: float | None = None

    def refusal(self) -> str | None:
        """Why this export may not be written now (one line), or None and count it."""
        now = time.monotonic()
        if self.most is not None and self.count >= self.most:
            return f"not written: a served tab writes at most {self.most} exports"
        if self.last is not None and now - self.last < self.every:
            return f"not written: a served tab writes one export each {self.every} s"
        self.count += 1
        self.last = now
        return None

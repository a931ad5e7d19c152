"""Numbers as the screen shows them: `-` for unknown, blank for an unmeasured rate."""

from __future__ import annotations

import math
from collections.abc import Callable


def fmt_speed(speed: float | None) -> str:
    if speed is None:
        return ""
    if speed <= 0:
        return "unthrottled"
    return f"{speed:g} ep/s"


def fmt_rate(rate: float | None) -> str:
    """A measured rate; blank when not known."""
    return "" if rate is None else f"{rate:.0f} ep/s"


def fmt_ago(seconds: float) -> str:
    """How long ago the last epoch came: `12s ago`, `3m ago`, `2h ago`."""
    s = int(seconds)
    if s < 120:
        return f"{s}s ago"
    return f"{s // 60}m ago" if s < 7200 else f"{s // 3600}h ago"


def fmt_num(v: float | int | None, spec: str = ".4f") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return format(v, spec)


def fit_items(items: list[str], width: int, sep: str = " · ",
              first: Callable[[str], bool] = lambda _: False) -> str:
    """The items that fit in `width` cells, whole and in order; one that does not fit is left
    out whole (a later, shorter one may still fit): a line never ends mid-item. The items
    `first` picks are given room before the rest (what every number below means)."""
    keep: set[int] = set()
    used = 0
    for i in sorted(range(len(items)), key=lambda i: not first(items[i])):
        need = len(items[i]) + (len(sep) if keep else 0)
        if used + need <= width:
            keep.add(i)
            used += need
    return sep.join(items[i] for i in sorted(keep))

"""Spread over seeds, defined once: the sample standard deviation (n - 1 in the denominator,
pandas' and most readers' `std`), used by the table, the pooled rows, the capacity points and
the plot's mean ± std band."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

STD_DDOF = 1  # numpy's `ddof` for the same figure
STD_LABEL = "sample std"  # what a file or a table calls it
GROUP_STAT = "mean±std"  # every cell of a group row (the table's, the capacity view's points)


def seeds_fact(repeats: int) -> str:
    """The header's one statement of what a group row is: its statistic, over how many seeds."""
    return f"{GROUP_STAT} of {repeats} seeds"


def sample_std(values: Sequence[float]) -> float | None:
    """The sample standard deviation of finite values; None under two values (undefined)."""
    if len(values) < 2:
        return None
    return statistics.stdev(values)

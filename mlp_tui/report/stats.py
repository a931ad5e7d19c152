"""Spread over seeds, defined once: the sample standard deviation (n - 1 in the denominator,
pandas' and most readers' `std`), used by the table, the pooled rows, the capacity points and
the plot's mean ± std band."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

STD_DDOF = 1  # numpy's `ddof` for the same figure
STD_LABEL = "sample std"  # what a file or a table calls it
# What a group row's cells are, and the header's statement of it (declared with the header's
# other facts, core/settings.py).
from mlp_tui.core.settings import GROUP_STAT, seeds_fact  # noqa: E402, F401


def sample_std(values: Sequence[float]) -> float | None:
    """The sample standard deviation of finite values; None under two values (undefined)."""
    if len(values) < 2:
        return None
    return statistics.stdev(values)

"""Runs as pandas DataFrames, in the columns of the files: a history's (`task.history_columns`,
one row per epoch plus the status row a life ends with, as `--history` writes them) and the
final table's (`task.table_columns`, one row per run, as `--export` writes it).

The rows come from the same functions the files are written from (`persist.recorder.life_rows`,
`end_row`; `report.summary.summarize`), so a frame and a file of one session hold the same
values: floats as computed, statuses and healths as their words. pandas is the `pandas` extra;
it is imported here only, and only once a frame is built.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING

from mlp_tui.core.contract import LifeRecord
from mlp_tui.core.task import INSTRUMENT_NAMES, Task
from mlp_tui.persist.recorder import end_row, life_rows

if TYPE_CHECKING:
    import pandas as pd

INSTALL_HINT = "mlp_tui's Python API needs pandas: pip install 'mlp-tui[pandas]'"


def require_pandas() -> None:
    """Refuse before anything trains when the frames could not be built (a spec lookup only)."""
    if importlib.util.find_spec("pandas") is None:
        raise ModuleNotFoundError(INSTALL_HINT, name="pandas")


def frame(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as a DataFrame of exactly these columns (a missing value: None, read as NaN)."""
    import pandas as pd

    # An instrument not read is empty: NaN whether it came from a live history or a file.
    plain = [[_plain(row.get(c), c in INSTRUMENT_NAMES) for c in columns] for row in rows]
    return pd.DataFrame(plain, columns=list(columns))


def history_frame(lives: Sequence[LifeRecord], task: Task, extra: Sequence[str] = ()
                  ) -> pd.DataFrame:
    """Every life's epochs, oldest life first; a life that did not end on its last epoch's row
    gets its status row (epoch repeated, metrics missing), as in a history file."""
    rows: list[Mapping[str, object]] = []
    for life in lives:
        rows += life_rows(life)
        end = end_row(life)
        if end is not None:
            rows.append(end)
    return frame(rows, [*task.history_columns, *extra])


def _plain(value: object, reading: bool = False) -> object:
    """A status or health as its word; an instrument's missing reading as NaN; everything else
    as it is."""
    if reading and value is None:
        return float("nan")
    return value.value if isinstance(value, Enum) else value

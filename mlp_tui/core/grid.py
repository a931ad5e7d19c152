"""The names of a grid's groups: a run's configuration (`w=5 d=2 lr=0.01`) for the table, the
plot and the group controls (core.runs), from the grid settings' short labels (core/settings.py,
which also reads their comma lists)."""

from __future__ import annotations

from mlp_tui.core.settings import GRID_FIELDS, GRID_SHORT


def group_name(width: int, values: dict[str, object]) -> str:
    """A configuration's name, seeds aside: `w=5`, then each varying grid setting given in
    `values` (`w=5 d=2 lr=0.01`)."""
    parts = [f"w={width}"]
    for name in GRID_FIELDS:
        if name in values:
            v = values[name]
            parts.append(f"{GRID_SHORT[name]}={v:g}" if isinstance(v, float) else
                         f"{GRID_SHORT[name]}={v}")
    return " ".join(parts)


"""Grids: comma lists for the settings in config.GRID_FIELDS, and the names of their groups.

The config holds a grid setting as one value or a tuple; these read the text and name a run's
configuration (`w=5 d=2 lr=0.01`) for the table, the plot and the group controls (core.runs).
"""

from __future__ import annotations

from mlp_tui.core.config import (
    GRID_FIELDS,
    GRID_FLAGS,
    MAX_DEPTH,
    MAX_SEED,
    MAX_VALUES,
    OPTIMIZERS,
    ConfigError,
    parse_choice,
    parse_float,
    parse_int,
)


def parse_seeds(text: str) -> tuple[int, ...]:
    """`--seeds 2,3,2`: one first seed per run, in run order; empty text: none given."""
    if not str(text).strip():
        return ()
    return tuple(parse_int("--seeds", part, 0, MAX_SEED) for part in str(text).split(","))


GRID_SHORT = {"depth": "d", "lr": "lr", "optimizer": "opt", "batch_size": "batch"}


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


def parse_list(flag: str, text: str, parse) -> object:
    """A comma list of values for a grid setting: one value, or a tuple of distinct ones."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 1:
        return parse(parts[0])
    values: list = []
    for part in parts:
        if not part:
            raise ConfigError(flag, f"empty entry in {text!r}")
        value = parse(part)
        if value in values:
            raise ConfigError(flag, f"{part} is listed twice")
        values.append(value)
    if len(values) > MAX_VALUES:
        raise ConfigError(flag, f"at most {MAX_VALUES} values, got {len(values)}")
    return tuple(values)


def parse_grid(name: str, text: str) -> object:
    """One grid setting (GRID_FIELDS) from its text, as the CLI and the settings form read it."""
    flag = GRID_FLAGS[name]
    one = {
        "depth": lambda t: parse_int(flag, t, 1, MAX_DEPTH),
        "lr": lambda t: parse_float(flag, t),
        "optimizer": lambda t: parse_choice(flag, t, OPTIMIZERS),
        "batch_size": lambda t: parse_int(flag, t, 0, 10**9),
    }[name]
    return parse_list(flag, text, one)

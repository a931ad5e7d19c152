"""Keyword arguments -> the command line they stand for -> the CLI's own `Invocation`.

Each run setting of core/settings.py is a keyword by its Python name (`val_split=0.2`), a list
or tuple is a comma list (`widths=[5, 100]`, a grid axis `lr=[0.1, 0.01]`), and `True` turns a
switch on. Going through `cli.args.parse_args` rather than building the config here is the
point: every check, and every error's words, are the command line's, and a setting added to
`SETTINGS` is a keyword without a line changed here.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping
from pathlib import Path

from mlp_tui.cli.args import Invocation, check_device, parse_args
from mlp_tui.cli.parser import UsageError
from mlp_tui.core.config import ConfigError, ExperimentConfig
from mlp_tui.core.settings import SETTING, SETTINGS

# Options of a session that are not run settings, by their Python names (the flag's, with `_`).
# `config` takes a --config TOML file, or an ExperimentConfig (a result's `.config`).
SESSION_OPTIONS = ("config", "backend", "workers", "ray_address", "history", "force", "export",
                   "tensorboard", "capacity_export", "quiet", "save_models")
SWITCH_OPTIONS = ("force", "quiet")


class SettingError(ValueError):
    """A bad keyword or value; `str()` is the line the command line prints after `error: `."""


def invocation(options: Mapping[str, object], speed: float | None = None,
               watched: bool = True) -> Invocation:
    """The checked invocation the keywords stand for; raises SettingError. `speed`: the pace
    when none is given (the API trains unthrottled: 0); `watched`: the TUI shows the runs
    (`monitor`), which the planner weighs (core/plan.py)."""
    options = dict(options)
    base = options.pop("config", None)
    if isinstance(base, ExperimentConfig):  # a result's config: its settings, the keywords win
        options = {**_settings_of(base), **options}
        base = None
    if speed is not None and options.get("speed") is None:
        options["speed"] = speed
    argv = [] if base is None else [f"--config={_text('--config', base)}"]
    for name, value in options.items():
        argv += _args(name, value)
    try:
        inv = parse_args(argv, watched)
        assert isinstance(inv, Invocation)  # no `replay`: every argument is a --flag=value
        check_device(inv.config)
    except (UsageError, ConfigError) as exc:
        raise SettingError(str(exc)) from None
    return inv


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _settings_of(cfg: ExperimentConfig) -> dict[str, object]:
    """Every setting that differs from its default (the others would change nothing)."""
    return {s.name: v for s in SETTINGS if (v := getattr(cfg, s.name)) != s.default}


def _args(name: str, value: object) -> list[str]:
    """A keyword as its command-line words: `--widths=5,100`, `--standardize`, or none."""
    setting = SETTING.get(name)
    if setting is None and name not in SESSION_OPTIONS:
        known = [*SETTING, *SESSION_OPTIONS]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (settings: {', '.join(SETTING)})"
        raise SettingError(f"unknown setting {name!r}{hint}")
    if value is None:  # the default (a setting that is None by default: decided by the data)
        return []
    if (setting is not None and setting.switch) or name in SWITCH_OPTIONS:
        if not isinstance(value, bool):
            raise SettingError(f"{flag(name)}: expected True or False, got {value!r}")
        return [flag(name)] if value else []
    # `=`: a value that starts with `-` (a negative number, a typo) stays this flag's value.
    return [f"{flag(name)}={_text(flag(name), value)}"]


def _text(where: str, value: object) -> str:
    """A value as typed on the command line; floats exactly (repr), lists as comma lists."""
    if isinstance(value, (list, tuple)):
        return ",".join(_text(where, v) for v in value)
    if isinstance(value, bool):
        return str(value)  # refused by the setting's own check, in its words
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # numpy's float64 too; `0.1` stays 0.1, not `0.1` rounded
    if isinstance(value, (str, Path)):
        return str(value)
    raise SettingError(f"{where}: expected a value or a list, got {type(value).__name__}")

"""`--config sweep.toml`: the training flags from a TOML file, and the effective configuration
written back next to every export in the same form (so it can be fed back with --config).

Keys are the flags' own names (`val-split` or `val_split`); a list is a comma list
(`widths = [5, 100]` or `widths = "5,100"`); `true` turns a switch on. The file's values go
in front of the command line's, so argparse lets the command line win, and every value goes
through the same checks as a typed flag.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from mlp_tui.core.config import ConfigError, ExperimentConfig
from mlp_tui.core.text import reason

FLAG = "--config"
RECORD_ONLY = ("classes",)  # written for the record, ignored when read back


def config_path(argv: Sequence[str]) -> str | None:
    """The last --config value on the command line (argparse's rule), or None."""
    found = None
    for i, arg in enumerate(argv):
        if arg == FLAG:
            if i + 1 >= len(argv):
                raise ConfigError(FLAG, "expected a .toml file")
            found = argv[i + 1]
        elif arg.startswith(FLAG + "="):
            found = arg.split("=", 1)[1]
    return found


def expand(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """argv with the file's flags in front (the command line, later, wins)."""
    path = config_path(argv)
    if path is None:
        return list(argv)
    return [*file_args(path, settable(parser)), *argv]


def settable(parser: argparse.ArgumentParser) -> dict[str, bool]:
    """Each long flag a file may set, and whether it is a switch (takes no value)."""
    return {
        opt: action.nargs == 0
        for action in parser._actions
        for opt in action.option_strings
        if opt.startswith("--") and opt not in ("--help", "--version", FLAG)
    }


def file_args(path: str, options: dict[str, bool]) -> list[str]:
    data = _load(path)
    out: list[str] = []
    for key, value in data.items():
        flag = "--" + str(key).strip().replace("_", "-")
        if key in RECORD_ONLY:
            continue
        if flag not in options:
            known = ", ".join(sorted(f[2:] for f in options))
            raise ConfigError(FLAG, f"{path}: unknown key {key!r} (known: {known})")
        if options[flag]:  # a switch
            if not isinstance(value, bool):
                raise ConfigError(FLAG, f"{path}: {key} must be true or false, got {value!r}")
            out += [flag] if value else []
            continue
        out += [flag, _text(path, key, value)]
    return out


def _load(path: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ConfigError(FLAG, "reading a .toml file needs Python 3.11 or newer") from None
    p = Path(path).expanduser()
    if p.suffix.lower() != ".toml":
        raise ConfigError(FLAG, f"{path}: expected a .toml file")
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(FLAG, f"{path}: {reason(exc)}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(FLAG, f"{path}: not valid TOML ({exc})") from None


def _text(path: str, key: str, value: object) -> str:
    """A TOML value as the flag's text; the flag's own parser checks it."""
    if isinstance(value, bool):
        raise ConfigError(FLAG, f"{path}: {key} is not a switch, got {str(value).lower()}")
    if isinstance(value, list):
        if not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value):
            raise ConfigError(FLAG, f"{path}: {key} must be a list of numbers or words")
        return ",".join(str(v) for v in value)
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ConfigError(FLAG, f"{path}: {key} must be a number, a word or a list, got a table")


# --- the effective configuration, written next to an export ----------------------------------


def effective_toml(cfg: ExperimentConfig) -> str:
    """The configuration as a --config file: every setting, flag names for keys; a data file's
    class names (in class-index order) as `classes`, for the record."""
    lines = ["# The effective configuration of these runs (mlp-tui --config reads it back)."]
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.name == "target" and not value:
            continue
        lines.append(f"{f.name.replace('_', '-')} = {_toml(value)}")
    if cfg.classes:
        lines.append(f"classes = {_toml(cfg.classes)}")
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else json.dumps(str(value))
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def sidecar(export: Path) -> Path:
    """Where an export's configuration goes: `r.csv` -> `r.config.toml`."""
    return export.with_name(export.stem + ".config.toml")

"""`--config sweep.toml`: the training flags from a TOML file, and the effective configuration
written back next to every export in the same form (so it can be fed back with --config).

Keys are the flags' own names (`val-split` or `val_split`), so every setting declared in
core/settings.py is a key; a list is a comma list
(`widths = [5, 100]` or `widths = "5,100"`); `true` turns a switch on. The file's values go
in front of the command line's, so argparse lets the command line win, and every value goes
through the same checks as a typed flag.

The file is read through `inputs.read_input` (a regular file of at most `CONFIG_CAP`), and its
nesting is measured before it is parsed: no flag takes more than a flat list, and tomllib
recurses once per level.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from mlp_tui.core.config import ConfigError, ExperimentConfig
from mlp_tui.core.inputs import CONFIG_CAP, InputRefused, read_input
from mlp_tui.core.settings import SETTINGS
from mlp_tui.core.text import reason

FLAG = "--config"
RECORD_ONLY = ("classes",)  # written for the record, ignored when read back
MAX_NESTING = 8  # arrays and inline tables, one inside another; a flag's list is 1
_SPECIAL = re.compile(r"[\[{]+|[\]}]+|[\"'#]")  # a run of openers or closers at once
# Where each kind of string or a comment ends (a backslash escapes in basic strings); the
# scan jumps from one match to the next, so it is linear in the text whatever it holds.
_ENDS = {'"""': re.compile(r'\\.|"""', re.S), '"': re.compile(r'\\.|"|\n', re.S),
         "'''": re.compile("'''"), "'": re.compile("'|\n"), "#": re.compile("\n")}


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
            raise ConfigError(FLAG, f"{path}: unknown key {key!r}{_suggest(flag, options)}")
        if options[flag]:  # a switch
            if not isinstance(value, bool):
                raise ConfigError(FLAG, f"{path}: {key} must be true or false, got {value!r}")
            out += [flag] if value else []
            continue
        out += [flag, _text(path, key, value)]
    return out


def _suggest(flag: str, options: dict[str, bool]) -> str:
    """`; did you mean 'epochs'?` for a near miss, else the keys a file may hold."""
    import difflib

    names = sorted(f[2:] for f in options)
    close = difflib.get_close_matches(flag[2:], names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(names)})"


def _load(path: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ConfigError(FLAG, "reading a .toml file needs Python 3.11 or newer") from None
    p = Path(path).expanduser()
    if p.suffix.lower() != ".toml":
        raise ConfigError(FLAG, f"{path}: expected a .toml file")
    try:
        text = read_input(p, CONFIG_CAP).decode("utf-8")
    except InputRefused as exc:
        raise ConfigError(FLAG, str(exc)) from None
    except OSError as exc:
        raise ConfigError(FLAG, f"{path}: {reason(exc)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(FLAG, f"{path}: not valid TOML ({exc})") from None
    depth = nesting(text)
    if depth > MAX_NESTING:
        raise ConfigError(FLAG, f"{path}: values nest {depth} deep; no flag takes more than a "
                          "flat list")
    try:
        return tomllib.loads(text)
    except RecursionError:  # the count above missed a way to nest: still one line
        raise ConfigError(FLAG, f"{path}: values nest too deep; no flag takes more than a "
                          "flat list") from None
    except ValueError as exc:  # TOMLDecodeError, or an integer too long for Python
        raise ConfigError(FLAG, f"{path}: not valid TOML ({exc})") from None


def nesting(text: str) -> int:
    """How deep arrays and inline tables nest in TOML text (a `[table]` header counts 1),
    brackets inside strings and comments aside; linear, and without recursion."""
    depth = deepest = 0
    i = 0
    while (m := _SPECIAL.search(text, i)) is not None:
        c, i = m.group(), m.end()
        if c[0] in "[{":
            depth += len(c)
            deepest = max(deepest, depth)
        elif c[0] in "]}":
            depth = max(0, depth - len(c))
        else:  # a string or a comment: skip to its end (an unclosed one ends the scan)
            if c != "#" and text.startswith(c * 2, i):
                c, i = c * 3, i + 2
            end = _ENDS[c]
            while (e := end.search(text, i)) is not None and e.group().startswith("\\"):
                i = e.end()
            if e is None:
                break
            i = e.end()
    return deepest


def _text(path: str, key: str, value: object) -> str:
    """A TOML value as the flag's text; the flag's own parser checks it."""
    if isinstance(value, bool):
        raise ConfigError(FLAG, f"{path}: {key} is not a switch, got {str(value).lower()}")
    if isinstance(value, list):
        if not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value):
            raise ConfigError(FLAG, f"{path}: {key} must be a list of numbers or words")
        return ",".join(_str(path, key, v) for v in value)
    if isinstance(value, (int, float, str)):
        return _str(path, key, value)
    raise ConfigError(FLAG, f"{path}: {key} must be a number, a word or a list, got a table")


def _str(path: str, key: str, value: int | float | str) -> str:
    try:
        return str(value)
    except ValueError:  # an integer past Python's 4300-digit limit (hex is read, not shown)
        raise ConfigError(FLAG, f"{path}: {key} holds a number too long to read") from None


# --- the effective configuration, written next to an export ----------------------------------


def effective_toml(cfg: ExperimentConfig) -> str:
    """The configuration as a --config file: every declared setting that holds a value (in
    core/settings.py's order), flag names for keys; a data file's class names (in class-index
    order) as `classes`, for the record."""
    lines = ["# The effective configuration of these runs (mlp-tui --config reads it back)."]
    for setting in SETTINGS:
        value = getattr(cfg, setting.name)
        if value is None or value in ("", ()):  # unset (no --target, no --seeds): left out
            continue
        lines.append(f"{setting.flag.removeprefix('--')} = {_toml(value)}")
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

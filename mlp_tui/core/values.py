"""How one setting's value is read from text and checked: the error every bad value raises, the
parsers the command line, a --config file and the settings form share, and the domains a
declaration (core/settings.py) names, each of which reads and checks its own kind of value.

A domain has two halves because values arrive two ways: as text (a flag, a TOML value, a form
field: `parse`) and as Python values (an `ExperimentConfig` built in code, or changed by the
form: `check`). Both say what is wrong in the same words a user has always seen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


class ConfigError(ValueError):
    """A bad value for one flag; `str()` is the one line the user sees."""

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(f"{flag}: {problem}")
        self.flag = flag
        self.problem = problem


def parse_int(flag: str, text: str, low: int, high: int) -> int:
    """A whole number in [low, high]; written plainly (`20000`) or as a whole number in
    scientific notation (`1e6`, `2.5e3`)."""
    text = str(text).strip()
    try:
        value = int(text)
    except ValueError:
        value = _whole(flag, text, low, high)
    if not low <= value <= high:
        raise ConfigError(flag, f"must be between {low} and {high}, got {value}")
    return value


def _whole(flag: str, text: str, low: int, high: int) -> int:
    """`1e6` as 1000000, exactly; range-checked first (`1e999999999` costs nothing)."""
    from decimal import Decimal, InvalidOperation

    try:
        d = Decimal(text)
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or d != d.to_integral_value():
        raise ConfigError(flag, f"expected a whole number, got {text!r}")
    if not low <= d <= high:
        raise ConfigError(flag, f"must be between {low} and {high}, got {text}")
    return int(d)


def parse_float(flag: str, text: str) -> float:
    text = str(text).strip()
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(flag, f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ConfigError(flag, f"must be a finite number, got {text!r}")
    if value == 0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise ConfigError(flag, f"{text!r} is too small: it rounds to 0")
    return value


def parse_choice(flag: str, text: str, choices: tuple[str, ...] | list[str]) -> str:
    value = str(text).strip().lower().replace("-", "_")
    if value not in choices:
        raise ConfigError(flag, f"unknown value {text!r} (choose from {', '.join(choices)})")
    return value


def no_spaced_list(flag: str, text: str) -> None:
    """`5 100` for `5,100` (a form field, a TOML string): the hint the command line gives."""
    words = str(text).replace(",", " ").split()
    if any(len(p.split()) > 1 for p in str(text).split(",")):
        raise ConfigError(flag, f"{str(text).strip()!r}: separate the values with commas: "
                                f"{','.join(words)}")


def parse_list(flag: str, text: str, parse: Callable[[str], object], most: int) -> object:
    """A comma list for a grid setting: one value, or a tuple of at most `most` distinct ones."""
    no_spaced_list(flag, text)
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
    if len(values) > most:
        raise ConfigError(flag, f"at most {most} values, got {len(values)}")
    return tuple(values)


def check_whole(flag: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(flag, f"expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(flag, f"must be between {low} and {high}, got {value}")


# --- domains: what a declaration says of its values --------------------------------------------


class Domain:
    """The values one setting takes: `parse` reads one from text, `check` refuses a bad one."""

    kind: type = str

    def parse(self, flag: str, text: str) -> object:
        return str(text).strip()

    def check(self, flag: str, value: object) -> None:
        """Raise ConfigError for a value outside the domain (None: every value is fine)."""


@dataclass(frozen=True)
class Whole(Domain):
    """A whole number in [low, high]."""

    low: int
    high: int
    kind: type = int

    def parse(self, flag: str, text: str) -> int:
        return parse_int(flag, text, self.low, self.high)

    def check(self, flag: str, value: object) -> None:
        check_whole(flag, value, self.low, self.high)


@dataclass(frozen=True)
class Real(Domain):
    """A finite number that `ok` accepts; `problem` (with `{value}`) says why one is refused."""

    ok: Callable[[float], bool]
    problem: str
    kind: type = float

    def parse(self, flag: str, text: str) -> float:
        return parse_float(flag, text)

    def check(self, flag: str, value: object) -> None:
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and self.ok(value)):
            raise ConfigError(flag, self.problem.format(value=value))


@dataclass(frozen=True)
class Choice(Domain):
    """One of a few words; `noun` names them in the error (`unknown optimizer 'x'`)."""

    choices: tuple[str, ...]
    noun: str = "value"

    def parse(self, flag: str, text: str) -> str:
        return parse_choice(flag, text, self.choices)

    def check(self, flag: str, value: object) -> None:
        if value not in self.choices:
            raise ConfigError(
                flag, f"unknown {self.noun} {value!r} (choose from {', '.join(self.choices)})"
            )


@dataclass(frozen=True)
class Switch(Domain):
    """On or off: a flag that takes no value (`--standardize`)."""

    kind: type = bool

    def parse(self, flag: str, text: str) -> bool:
        return bool(text)


@dataclass(frozen=True)
class Custom(Domain):
    """A value read and checked by functions of its own (the widths, the dataset)."""

    read: Callable[[str], object]
    test: Callable[[object], None] = lambda value: None
    kind: type = str

    def parse(self, flag: str, text: str) -> object:
        return self.read(text)

    def check(self, flag: str, value: object) -> None:
        self.test(value)

"""Reading one value of a flag, and the one error a bad value raises: the CLI, the settings
form and the config file share these."""

from __future__ import annotations

import math

MAX_WIDTHS = 16


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


def parse_widths(text: str) -> tuple[int, ...]:
    flag = "--widths"
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise ConfigError(flag, "expected a comma-separated list of widths, e.g. 5,100,1000")
    widths: list[int] = []
    for part in parts:
        if not part:
            raise ConfigError(flag, f"empty entry in {text!r}")
        try:
            width = int(part)
        except ValueError:
            raise ConfigError(flag, f"{part!r} is not a whole number") from None
        if width < 1:
            raise ConfigError(flag, f"widths must be positive, got {width}")
        if width in widths:
            raise ConfigError(flag, f"width {width} is listed twice")
        widths.append(width)
    if len(widths) > MAX_WIDTHS:
        raise ConfigError(flag, f"at most {MAX_WIDTHS} widths, got {len(widths)}")
    return tuple(widths)


def parse_choice(flag: str, text: str, choices: tuple[str, ...] | list[str]) -> str:
    value = str(text).strip().lower().replace("-", "_")
    if value not in choices:
        raise ConfigError(flag, f"unknown value {text!r} (choose from {', '.join(choices)})")
    return value



"""Axis ticks that never lie: round positions, exact labels, no clashes, at any magnitude.

Pure Python. Tick values are kept as exact decimals `(n, k)` meaning n * 10**k and compared with
`Fraction`s, so a label is the tick's true value and no range (1e-300 or 1e300) overflows. Every
function returns (position, label) pairs sorted by position, with distinct labels, all inside
[lo, hi]; a non-degenerate range gets at least two ticks, never more than `max_ticks`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from fractions import Fraction
from itertools import count

Tick = tuple[float, str]
Dec = tuple[int, int]  # (n, k): the exact value n * 10**k

_MIN_EXP = -305  # finer steps would land on colliding subnormal floats
_REL_DIGITS = 13  # a step is never finer than 1e-13 of the values: floats keep them apart
_SI = {3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E", 21: "Z", 24: "Y", 27: "R", 30: "Q"}
_SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
_DAY = 86400


def ticks_for_cells(cells: int, min_gap: int) -> int:
    """How many ticks fit along `cells` terminal cells when each needs about `min_gap`."""
    return max(2, cells // max(1, min_gap))


def linear_ticks(lo: float, hi: float, max_ticks: int) -> list[Tick]:
    """1-2-5 steps; labels carry just the step's decimals, e-notation beyond 1e6 or below 1e-4."""
    return _ticks(lo, hi, max_ticks, _linear_labels, _decimal_steps)


def epoch_ticks(lo: float, hi: float, max_ticks: int) -> list[Tick]:
    """Whole epochs in 1-2-5 steps of at least 1, labelled compactly: 950, 1k, 12.5k, 1.2M."""
    lo, hi = _ordered(lo, hi)
    if math.ceil(lo) > math.floor(hi):  # no whole epoch in range: say the fractions truly
        return linear_ticks(lo, hi, max_ticks)
    return _ticks(lo, hi, max_ticks, _epoch_labels, _decimal_steps, min_exp=0)


def duration_ticks(lo: float, hi: float, max_ticks: int) -> list[Tick]:
    """Seconds at clock-round steps (…0.5s, 1s, 15s, 1m, 30m, 3h, 1d…), labelled 1m30s, 2h."""
    return _ticks(lo, hi, max_ticks, _duration_labels, _duration_steps)


def log_ticks(lo: float, hi: float, max_ticks: int) -> list[Tick]:
    """Ticks for an axis of log10 values, labelled with the real values: decades, with 2 and 5
    (or 2..9, or 3) between them when they fit; a short span falls back to linear value steps."""
    lo, hi = _ordered(lo, hi)
    max_ticks = max(2, max_ticks)
    if lo == hi:
        return [(lo, _shortest(*_log_value(lo)))]
    if math.floor(hi) - math.floor(lo) <= max_ticks and max(-lo, hi) < 1e9:  # floats place 2..9
        for mults in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3)):
            ticks = _decade_ticks(lo, hi, mults)
            if 2 <= len(ticks) <= max_ticks:
                return ticks
    exps = _grid_in(Fraction(lo), Fraction(hi), max_ticks, _decimal_steps, min_exp=0)
    if len(exps) >= 2:
        labels = _value_labels([(1, n * 10**k) for n, k in exps])
        return [(float(_frac(n, k)), label) for (n, k), label in zip(exps, labels)]
    return _log_linear(lo, hi, max_ticks)


# The grid: the finest step of a sequence that keeps the count under max_ticks.


def _ticks(
    lo: float,
    hi: float,
    max_ticks: int,
    labels: Callable[[list[Dec]], list[str]],
    steps: Callable[[int], Iterator[Dec]],
    min_exp: int = _MIN_EXP,
) -> list[Tick]:
    lo, hi = _ordered(lo, hi)
    max_ticks = max(2, max_ticks)
    decs = [] if lo == hi else _grid_in(Fraction(lo), Fraction(hi), max_ticks, steps, min_exp)
    if not decs:  # lo == hi, or a span too thin for floats to hold two round values
        decs = [_shortest_decimal(lo)]
        return [(lo, labels(decs)[0])]
    if len(decs) == 1:  # a lone tick has no neighbour to line its decimals up with
        decs = [_normal(*decs[0])]
    return [(float(_frac(*d)), s) for d, s in zip(decs, labels(decs))]


def _grid_in(
    lo: Fraction,
    hi: Fraction,
    max_ticks: int,
    steps: Callable[[int], Iterator[Dec]],
    min_exp: int = _MIN_EXP,
) -> list[Dec]:
    """Multiples of the finest allowed step giving at most max_ticks ticks in [lo, hi]."""
    mag = max(abs(lo), abs(hi))
    floor_exp = max(min_exp, math.floor(_log10(mag)) - _REL_DIGITS)
    start = max(floor_exp, math.floor(_log10((hi - lo) / max_ticks)) - 2)
    return _grid(lo, hi, max_ticks, steps(start))


def _grid(lo: Fraction, hi: Fraction, max_ticks: int, steps: Iterable[Dec]) -> list[Dec]:
    prev = None
    for n, k in steps:
        step = _frac(n, k)
        first, last = math.ceil(lo / step), math.floor(hi / step)
        if last - first + 1 <= max_ticks:
            if last - first >= 1 or prev is None:
                return [(i * n, k) for i in range(first, last + 1)]
            # 1-2-5 jumped from too many ticks to one: thin out the finer grid instead
            n, k, first, last = prev
            stride = math.ceil((last - first) / (max_ticks - 1))
            return [(i * n, k) for i in range(first, last + 1, stride)]
        prev = (n, k, first, last)
    return []


def _decimal_steps(start: int) -> Iterator[Dec]:
    for k in count(start):
        for m in (1, 2, 5):
            yield m, k


def _duration_steps(start: int) -> Iterator[Dec]:
    for k in range(start, 0):
        for m in (1, 2, 5):
            yield m, k
    floor = 10 ** max(start, 0)
    yield from ((s, 0) for s in _SECOND_STEPS if s >= floor)
    for k in count(max(0, start - 5)):
        for m in (1, 2, 5):
            if _DAY * m * 10**k >= floor:
                yield _DAY * m, k


# Log axes.

_LOG10 = {m: math.log10(m) for m in range(1, 10)}


def _decade_ticks(lo: float, hi: float, mults: tuple[int, ...]) -> list[Tick]:
    out = []
    for e in range(math.floor(lo), math.floor(hi) + 1):
        for m in mults:
            pos = e + _LOG10[m]
            if lo <= pos <= hi:
                out.append((pos, (m, e)))
    return [(pos, label) for (pos, _), label in zip(out, _value_labels([d for _, d in out]))]


def _log_linear(lo: float, hi: float, max_ticks: int) -> list[Tick]:
    """Under a decade or two: 1-2-5 steps of the real values, placed at their log10."""
    e = math.floor(lo)
    margin = 8e-15 * max(1.0, abs(lo), abs(hi))  # keep float log10 error inside the range
    if not 4 * margin < hi - lo < 2:  # wider spans reach here only when too thin for floats
        return [(lo, _shortest(*_log_value(lo)))]
    a, b = 10 ** (lo - e + margin), 10 ** (hi - e - margin)
    decs = [] if a >= b else _grid_in(Fraction(a), Fraction(b), max_ticks, _decimal_steps)
    decs = [(n, k + e) for n, k in decs if n > 0]
    ticks, seen = [], set()
    for (n, k), label in zip(decs, _linear_labels(decs)):
        pos = math.log10(n) + k
        if lo <= pos <= hi and pos not in seen:
            seen.add(pos)
            ticks.append((pos, label))
    return ticks if len(ticks) >= 2 else [(lo, _shortest(*_log_value(lo)))]


def _log_value(x: float) -> Dec:
    """10**x to 6 significant digits, without ever forming a huge float."""
    e = math.floor(x)
    return round(10 ** (x - e) * 1e5), e - 5


# Labels.


def _linear_labels(decs: list[Dec]) -> list[str]:
    top = max((_lead_exp(n, k) for n, k in decs if n), default=0)
    if top >= 6 or top < -4:
        return [_sci(n, k) for n, k in decs]
    return [_fixed(n, k) for n, k in decs]


def _value_labels(decs: list[Dec]) -> list[str]:
    """A log axis's values in one format: plain (0.0001 to 100000) or all in e-notation, never
    `1e+05` beside `10000`."""
    exps = [_lead_exp(n, k) for n, k in decs if n]
    if exps and (max(exps) >= 6 or min(exps) < -4):
        return [_sci(n, k) for n, k in decs]
    return [_trimmed(n, k) for n, k in decs]


def _epoch_labels(decs: list[Dec]) -> list[str]:
    if any(k < 0 for _, k in decs):  # a fractional epoch (degenerate range): plain decimals
        return _linear_labels(decs)
    if any(n and _lead_exp(n, k) >= 33 for n, k in decs):  # past every SI prefix
        return [_sci(n, k) for n, k in decs]
    values = [n * 10**k for n, k in decs]
    plain = [str(v) for v in values]
    short = [_si(v) for v in values]
    return short if all(len(s) <= len(p) for s, p in zip(short, plain)) else plain


def _duration_labels(decs: list[Dec]) -> list[str]:
    return [_duration(n, k) for n, k in decs]


def _duration(n: int, k: int) -> str:
    sign, n = ("-" if n < 0 else ""), abs(n)
    if n == 0:
        return "0s"
    unit = 10 ** max(0, -k)  # n counts 1/unit seconds
    whole, part = divmod(n * 10 ** max(0, k), unit)
    if whole < 60:
        return sign + _shortest(n, k) + "s"
    days, rest = divmod(whole, _DAY)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = _trimmed(days, 0) + "d" if days else ""
    out += f"{hours}h" if hours else ""
    out += f"{minutes}m" if minutes else ""
    if seconds or part:
        out += _trimmed(seconds * unit + part, min(k, 0)) + "s"
    return sign + out


def _si(v: int) -> str:
    a = abs(v)
    if a < 1000:
        return str(v)
    p = min(3 * ((len(str(a)) - 1) // 3), 30)
    whole, part = divmod(a, 10**p)
    frac = str(part).zfill(p).rstrip("0")
    return ("-" if v < 0 else "") + str(whole) + ("." + frac if frac else "") + _SI[p]


def _shortest(n: int, k: int) -> str:
    """The shorter of plain and e-notation (plain on a tie): for labels of mixed magnitudes."""
    if n == 0:
        return "0"
    sci = _sci(n, k)
    if abs(_lead_exp(n, k)) > 12:
        return sci
    plain = _trimmed(n, k)
    return plain if len(plain) <= len(sci) else sci


def _fixed(n: int, k: int) -> str:
    """n * 10**k with exactly max(0, -k) decimals, so a grid's labels line up."""
    if n == 0:
        return "0"
    if k >= 0:
        return str(n * 10**k)
    sign, digits = ("-" if n < 0 else ""), str(abs(n)).zfill(1 - k)
    return f"{sign}{digits[:k]}.{digits[k:]}"


def _trimmed(n: int, k: int) -> str:
    n, k = _normal(n, k)
    return _fixed(n, k)


def _sci(n: int, k: int) -> str:
    if n == 0:
        return "0"
    n, k = _normal(n, k)
    digits = str(abs(n))
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if n < 0 else ''}{mantissa}e{k + len(digits) - 1:+03d}"


# Exact decimals.


def _normal(n: int, k: int) -> Dec:
    """Strip trailing zeros: one spelling per value."""
    if n == 0:
        return 0, 0
    while n % 10 == 0:
        n, k = n // 10, k + 1
    return n, k


def _lead_exp(n: int, k: int) -> int:
    return len(str(abs(n))) - 1 + k


def _frac(n: int, k: int) -> Fraction:
    return Fraction(n * 10**k) if k >= 0 else Fraction(n, 10**-k)


def _log10(x: Fraction) -> float:
    return math.log10(x.numerator) - math.log10(x.denominator)


def _shortest_decimal(x: float) -> Dec:
    """The shortest decimal that reads back as x (what repr prints)."""
    t = Decimal(repr(x)).as_tuple()
    n = int("".join(map(str, t.digits)))
    return _normal(-n if t.sign else n, int(t.exponent))


def _ordered(lo: float, hi: float) -> tuple[float, float]:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"axis range must be finite, got {lo!r}..{hi!r}")
    return (float(lo), float(hi)) if lo <= hi else (float(hi), float(lo))

"""Text for the user: data from files, paths and datasets shown as data (never terminal control
or markup), and why something failed, told the same way everywhere."""

from __future__ import annotations

import unicodedata


def printable(value: object) -> str:
    """The text with every control character (C0, C1, DEL, and other non-printing ones such
    as bidirectional overrides) shown as an escape like `\\x1b`, so it cannot move the cursor,
    retitle the terminal or hide text."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(c: str) -> str:
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if unicodedata.category(c) == "Zs":  # a non-breaking or other space: harmless
        return c
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def middle(text: str, limit: int) -> str:
    """The text in at most `limit` characters, shortened in the middle (`run0_iris…lr0.1_seed0`)
    so that both its start and its end (often what tells two names apart) stay."""
    if len(text) <= limit:
        return text
    keep = max(1, limit - 1)
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head):]


def reason(exc: BaseException) -> str:
    """Why an operation failed, in the user's words: an OS error's own (`No space left on
    device`, without the errno), else the exception's message."""
    return getattr(exc, "strerror", None) or str(exc)


def failure(exc: BaseException, limit: int | None = None) -> str:
    """An unexpected error, for a run's row and the closing message: its type and its message;
    `limit` folds a message that runs over many lines (Ray's) into one of at most that many
    characters."""
    text = str(exc)
    if limit is not None:
        text = " ".join(text.split())[:limit]
    return f"{type(exc).__name__}: {text}"


def human_bytes(n: float) -> str:
    """`12 MB`: a size for a message."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.0f} EB" if n < 1024 else f"{n:.1e} EB"

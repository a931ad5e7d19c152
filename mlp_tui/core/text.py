"""Text from files, paths and datasets is data, never terminal control or markup."""

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

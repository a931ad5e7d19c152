"""Where Textual draws: on the terminal, even when stderr alone was redirected."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def screen_on_terminal() -> Iterator[None]:
    """Textual draws on stderr. With stderr redirected (`mlp-tui 2>log`) but stdout on the
    terminal, draw on the terminal instead, and give stderr back for the closing messages."""
    try:
        redirected = not os.isatty(2) and os.isatty(1)
    except OSError:
        redirected = False
    if not redirected:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(1, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)

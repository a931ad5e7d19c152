"""What a browser tab may send: textual-serve's messages, checked and bounded.

A message is a JSON list: `["stdin", text]`, `["resize", {"width": w, "height": h}]`,
`["ping", text]`, `["focus"]` or `["blur"]`. Anything else is malformed: the tab is closed with
one log line (no traceback, none of the text). Input is bounded so that a visitor cannot queue
more work than an app can do while the tab is open: bytes per message (the websocket's own
limit), keys per message and keys per second (a token bucket: over it, a message is dropped
whole), and the terminal's size (a 4000 x 2000 screen took 1.2 GB).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 64 * 1024  # the websocket closes (1009) on a bigger message
MAX_KEYS_PER_MESSAGE = 256  # a paste in brackets counts as one key
KEYS_PER_S = 60.0  # sustained; a mouse moved over the terminal sends about this many
KEY_BURST = 120.0
MIN_COLS, MAX_COLS = 20, 400
MIN_ROWS, MAX_ROWS = 8, 150
MAX_PING = 64  # characters of a ping's payload, sent back as the pong
KINDS = ("stdin", "resize", "ping", "focus", "blur")

# One key as the app's driver reads it: a bracketed paste, an escape sequence (CSI with its
# parameters, SS3, or ESC and one character), or one character.
KEY_RE = re.compile(
    r"\x1b\[200~.*?\x1b\[201~|\x1b\[[0-?]*[ -/]*[@-~]|\x1bO.|\x1b.|.", re.DOTALL
)


class Malformed(ValueError):
    """A message that is not one of textual-serve's; its text says what it is, not what it
    held."""


@dataclass(frozen=True)
class Message:
    kind: str
    text: str = ""  # stdin's keys, ping's payload
    size: tuple[int, int] = (0, 0)  # resize's (columns, rows), bounded


def count_keys(text: str) -> int:
    return len(KEY_RE.findall(text))


def bounded_size(width: object, height: object) -> tuple[int, int]:
    """A terminal size within MIN..MAX; not a whole number: Malformed."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (width, height)):
        raise Malformed("a size that is not two whole numbers")
    return min(max(width, MIN_COLS), MAX_COLS), min(max(height, MIN_ROWS), MAX_ROWS)


def query_size(width: str | None, height: str | None) -> tuple[int, int]:
    """The size in the websocket's URL (`?width=&height=`), bounded; 80 x 24 if not given."""
    def number(text: str | None, default: int) -> int:
        ok = text and text.isascii() and text.isdigit() and len(text) < 6
        return int(text) if ok else default

    return bounded_size(number(width, 80), number(height, 24))


def parse(text: str) -> Message:
    """One websocket text message -> a Message, or Malformed."""
    try:
        envelope = json.loads(text)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(envelope, list) or not envelope or envelope[0] not in KINDS:
        raise Malformed("not a list that starts with a known kind")
    kind, args = envelope[0], envelope[1:]
    if kind in ("stdin", "ping"):
        if len(args) != 1 or not isinstance(args[0], str):
            raise Malformed(f"a {kind} without its text")
        if kind == "ping" and len(args[0]) > MAX_PING:
            raise Malformed("a ping over its length")
        return Message(kind, text=args[0])
    if kind == "resize":
        if len(args) != 1 or not isinstance(args[0], dict):
            raise Malformed("a resize without its size")
        return Message(kind, size=bounded_size(args[0].get("width"), args[0].get("height")))
    return Message(kind)


@dataclass
class KeyBucket:
    """Keys per second: a message costs its keys (others cost one); one that would take the
    bucket below zero is dropped whole, so a flood cannot queue work in the app."""

    rate: float = KEYS_PER_S
    burst: float = KEY_BURST
    level: float = KEY_BURST
    at: float = field(default_factory=time.monotonic)
    dropped: int = 0  # messages dropped so far (the server logs the first)

    def take(self, cost: int) -> bool:
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now
        if cost > MAX_KEYS_PER_MESSAGE or cost > self.level:
            self.dropped += 1
            return False
        self.level -= cost
        return True

"""The news lines: what a notification says, shown in the view bar's row (the view bar steps
aside while news shows) instead of as a toast over the screen, so news never covers the table's
last values or the plot's axes. One line of news moves nothing; bad news of several runs, a row
a run, takes its extra rows from the plot until it expires.

Only bad news is an alert (ALERT_TITLE, red, the bell); runs that finished as planned are said
in plain words (DONE_TITLE), and the rest (files written, a key's answer) under no title.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

ALERT_TITLE = "alert"  # bad news: a run diverged, failed or turned unhealthy
DONE_TITLE = "done"  # runs that ended as planned: news, not an alarm
MAX_LINES = 4  # the most rows the news takes from the plot; the newest lines stay
DEFAULT_S = 5.0  # Textual's own default for a toast
STYLES = {"error": "bold red", "warning": "yellow", "information": ""}


@dataclass(frozen=True)
class Item:
    text: str
    style: str
    until: float  # time.monotonic() when it goes
    alert: bool  # bad news stays its time; other news gives way to the next


class News(Static):
    """The notifications still within their timeout, oldest first, at most MAX_LINES rows:
    every alert, then the latest other news (a file written, runs finished)."""

    DEFAULT_CSS = f"""
    News {{ display: none; height: auto; max-height: {MAX_LINES}; padding: 0 1;
            background: $boost; }}
    News.-on {{ display: block; }}
    """

    def __init__(self, replaces: Widget, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.items: list[Item] = []
        self.replaces = replaces  # hidden while news shows, in its place

    def tell(self, message: str, title: str, severity: str, timeout: float | None) -> None:
        """Show `message` for `timeout` seconds (Textual's default when None)."""
        wait = DEFAULT_S if timeout is None else timeout
        text = f"{title}: {message}" if title and title != DONE_TITLE else message
        if title != ALERT_TITLE:  # the latest of the rest replaces the one before: one row
            self.items = [i for i in self.items if i.alert]
        item = Item(text, STYLES.get(severity, ""), time.monotonic() + wait, title == ALERT_TITLE)
        self.items.append(item)
        self.set_timer(wait + 0.05, self._show)
        self._show()

    @property
    def lines(self) -> list[str]:
        """The rows shown now (the newest MAX_LINES)."""
        return [ln for item in self.items for ln in item.text.split("\n")][-MAX_LINES:]

    def _show(self) -> None:
        now = time.monotonic()
        self.items = [i for i in self.items if i.until > now]
        rows = [(ln, i.style) for i in self.items for ln in i.text.split("\n")][-MAX_LINES:]
        self.update(Text("\n").join(Text(ln, style=style) for ln, style in rows))
        self.set_class(bool(rows), "-on")
        self.replaces.display = not rows

"""Helpers for driving the real app with Textual's pilot: keys, waits, resizes, screen text."""

from __future__ import annotations

import asyncio
import html
import io
import re
import time
from collections.abc import Callable

from rich.console import Console
from textual import events
from textual.drivers.headless_driver import HeadlessDriver
from textual.events import Resize
from textual.geometry import Size

from mlp_tui.tui.app import ALERT_TITLE, MlpTuiApp

CHARS = {"space": " ", "plus": "+", "minus": "-", "question_mark": "?"}


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until cond() holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


async def send(pilot, *keys: str, gap: float = 0.03) -> None:
    """Send keys `gap` seconds apart, without `pilot.press`'s wait for an idle process: with
    training threads busy the process is never idle, and `pilot.press` then stalls."""
    app = pilot.app
    for key in keys:
        char = key if len(key) == 1 else CHARS.get(key)
        app._driver.send_message(events.Key(key, char))
        await asyncio.sleep(gap)


async def press(pilot, *keys: str) -> None:
    await send(pilot, *keys)
    await pilot.pause(0.02)


async def sleep(pilot, seconds: float) -> None:
    await pilot.pause()
    await asyncio.sleep(seconds)
    await pilot.pause()


async def resize(pilot, width: int, height: int) -> None:
    """`pilot.resize_terminal` without its wait for an idle process (never, with runs busy)."""
    app = pilot.app
    size = Size(width, height)
    if isinstance(app._driver, HeadlessDriver):
        app._driver._size = size
    app.post_message(Resize(size, size))
    await pilot.pause(0.1)


def epochs(app: MlpTuiApp) -> list[int]:
    return [len(r.history) for r in app.session.runs]


def notifications(app: MlpTuiApp) -> list[str]:
    """Every notification shown so far but the alerts (see `alerts`), oldest first."""
    return [n.message for n in app._notifications if n.title != ALERT_TITLE]


def alerts(app: MlpTuiApp) -> list[str]:
    """The alerts shown so far (a run ended or went bad), oldest first."""
    return [n.message for n in app._notifications if n.title == ALERT_TITLE]


def screen_text(app: MlpTuiApp) -> str:
    """Everything visible on the screen, as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    texts = re.findall(r">([^<>]*)</text>", svg)
    return html.unescape("".join(texts)).replace("\xa0", " ")


def screen_lines(app: MlpTuiApp) -> list[str]:
    """The screen as plain text, one string per terminal row (screen_text keeps no rows)."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text().splitlines()[:height]


def header(app: MlpTuiApp) -> str:
    """The header line as shown: the state first, then the session's facts."""
    return screen_lines(app)[0].strip()

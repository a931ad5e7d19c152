"""Helpers for driving the real app with Textual's pilot: keys, waits, screen text."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from pathlib import Path

from textual import events

from mlp_tui.app import MlpTuiApp

DATA = Path(__file__).parent.parent / "data"


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until cond() holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


async def press(pilot, *keys: str) -> None:
    """Send keys like `pilot.press`, without its wait for an idle process: with training
    threads busy the process is never idle, and `pilot.press` then stalls for seconds."""
    app = pilot.app
    for key in keys:
        char = key if len(key) == 1 else {"space": " ", "plus": "+", "minus": "-"}.get(key)
        app._driver.send_message(events.Key(key, char))
        await asyncio.sleep(0.03)
    await pilot.pause(0.02)


async def sleep(pilot, seconds: float) -> None:
    await pilot.pause()
    await asyncio.sleep(seconds)
    await pilot.pause()


def epochs(app: MlpTuiApp) -> list[int]:
    return [len(r.history) for r in app.session.runs]


def notifications(app: MlpTuiApp) -> str:
    """The text of every notification shown so far."""
    return "\n".join(n.message for n in app._notifications)


def screen_text(app: MlpTuiApp) -> str:
    """Everything visible on the screen, as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    texts = re.findall(r">([^<>]*)</text>", svg)
    return html.unescape("".join(texts)).replace("\xa0", " ")

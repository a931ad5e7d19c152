"""Helpers for driving the real app with Textual's pilot: keys, waits, resizes, screen text."""

from __future__ import annotations

import asyncio
import inspect
import io
import time
from collections.abc import Callable
from typing import TypeVar

from helpers import WAIT_S
from rich.console import Console
from textual import events
from textual.drivers.headless_driver import HeadlessDriver
from textual.events import Resize
from textual.geometry import Size

from mlp_tui.tui.app import MlpTuiApp
from mlp_tui.tui.widgets.news import ALERT_TITLE, DONE_TITLE

CHARS = {"space": " ", "plus": "+", "minus": "-", "question_mark": "?"}
T = TypeVar("T")


# A key's messages hop from the driver to the app, then to the focused widget and back: each
# round of `settle` sees every message queued before it handled (two rounds measured; twice that).
SETTLE_ROUNDS = 4


def _source(fn: Callable) -> str:
    try:
        return inspect.getsource(fn).strip()
    except (OSError, TypeError):
        return repr(fn)


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = WAIT_S) -> None:
    """Let the app run until cond() holds; fail after timeout seconds, naming the condition."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout:g} s: {_source(cond)}")
        await pilot.pause(0.02)


async def wait_for_value(pilot, read: Callable[[], T], expected: T, timeout: float = WAIT_S) -> T:
    """Let the app run until read() == expected; after `timeout` seconds fail, showing the
    last value read against the expected one."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        await pilot.pause(0.02)
        value = read()
    assert value == expected, f"still not reached after {timeout:g} s: {_source(read)}"
    return value


async def settle(pilot) -> None:
    """Until the app has handled every message queued now and those they lead to (a key's
    binding has run), and the screen shows it; each round is bounded by the pilot."""
    for _ in range(SETTLE_ROUNDS):
        await pilot.pause(0)


async def drawn(pilot, since: int = 0) -> None:
    """Until a frame (the plot's `since`+1-th or later) was drawn at the plot's final size, and
    the screen shows it: the points a plot samples depend on its width, and the first frame
    may come before the layout (sooner or later, with load)."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: (
            app.redraws > since
            and not app.monitor.plot_dirty
            and app._plot_size == (app.plot.size.width, app.plot.size.height)
        ),
    )
    await settle(pilot)


async def send(pilot, *keys: str, gap: float = 0.03) -> None:
    """Send keys `gap` seconds apart, without `pilot.press`'s wait for an idle process: with
    training threads busy the process is never idle, and `pilot.press` then stalls."""
    app = pilot.app
    for key in keys:
        char = key if len(key) == 1 else CHARS.get(key)
        app._driver.send_message(events.Key(key, char))
        await asyncio.sleep(gap)


async def press(pilot, *keys: str) -> None:
    """Send keys one at a time, each once the app has acted on the one before (see `settle`);
    return once it has acted on the last."""
    for key in keys:
        await send(pilot, key, gap=0)
        await settle(pilot)


async def sleep(pilot, seconds: float) -> None:
    """Let the app run for `seconds` (and handle what came meanwhile); never `pilot.pause()`,
    whose wait for an idle process takes its whole second while runs train."""
    await settle(pilot)
    await asyncio.sleep(seconds)
    await settle(pilot)


async def steady(pilot, pause_s: float = 0.1) -> None:
    """Until two screens `pause_s` apart show the same text and styles (a late layout, a late
    toast), within WAIT_S: a snapshot taken then is the screen the app keeps showing."""
    app = pilot.app
    deadline = time.monotonic() + WAIT_S
    last = app.export_screenshot()
    while True:
        await pilot.pause(pause_s)
        await settle(pilot)
        now = app.export_screenshot()
        if now == last:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen still changes after {WAIT_S:g} s")
        last = now


async def resize(pilot, width: int, height: int) -> None:
    """`pilot.resize_terminal` without its wait for an idle process (never, with runs busy)."""
    app = pilot.app
    size = Size(width, height)
    if isinstance(app._driver, HeadlessDriver):
        app._driver._size = size
    app.post_message(Resize(size, size))
    await settle(pilot)  # handled; the new layout follows (wait for what it shows)


def epochs(app: MlpTuiApp) -> list[int]:
    return [len(r.history) for r in app.session.runs]


def notifications(app: MlpTuiApp) -> list[str]:
    """Every notification shown so far but the alerts (see `alerts`), oldest first."""
    return [n.message for n in app._notifications if n.title not in (ALERT_TITLE, DONE_TITLE)]


def alerts(app: MlpTuiApp) -> list[str]:
    """The news of runs shown so far (a run ended or went bad), oldest first."""
    return [n.message for n in app._notifications if n.title in (ALERT_TITLE, DONE_TITLE)]


def bad_news(app: MlpTuiApp) -> list[str]:
    """The alerts proper (a run diverged, failed or turned unhealthy), oldest first."""
    return [n.message for n in app._notifications if n.title == ALERT_TITLE]


def screen_text(app: MlpTuiApp) -> str:
    """Everything visible on the screen, as plain text, a line per terminal row. Rendered as
    `screen_lines` does: an SVG screenshot shows the same at ten times the cost, which a wait
    polling every few milliseconds takes from the app it waits for."""
    return "\n".join(screen_lines(app))


def screen_lines(app: MlpTuiApp) -> list[str]:
    """The screen as plain text, one string per terminal row."""
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

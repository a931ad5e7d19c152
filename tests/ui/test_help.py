"""The key bar (whole chips, then help and quit), the help screen (`?`, F1) and the command
palette: all derived from one declaration of the keys, and only the keys the session offers."""

from __future__ import annotations

import re

import pytest
from ui_helpers import drawn, press, screen_lines, wait_for

from mlp_tui.tui.widgets.keys import KEYS, TAIL, HelpScreen

TAIL_TEXT = "?  help  q  quit"


def key_bar(app) -> str:
    return screen_lines(app)[-1].rstrip()


def chip(key) -> str:
    return f" {key.shown}  {key.label} "


def offered(app) -> list:
    return [k for k in KEYS if app.offered(k.action)]


def help_text(app) -> str:
    """The help box's text as shown, its lines joined (a long line wraps), spaces collapsed."""
    inside = []
    for line in screen_lines(app):
        parts = line.split("█")
        if len(parts) >= 3 and parts[1].strip("▀▄"):
            inside.append(parts[1].replace("▆", " "))
    return re.sub(r"\s+", " ", " ".join(inside))


@pytest.mark.parametrize("width", [60, 80, 100, 160])
async def test_the_key_bar_shows_whole_chips_then_help_and_quit(live_app, width):
    app = live_app(speed=1)  # a live session's keys; the runs need not get anywhere
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, lambda: key_bar(app).endswith(TAIL_TEXT))
        bar = key_bar(app)
        assert bar.endswith(TAIL_TEXT) and len(bar) <= width
        keys = offered(app)
        tail = "".join(chip(k) for k in TAIL)
        n = next(i for i in range(len(keys), -1, -1)
                 if bar == ("".join(chip(k) for k in keys[:i]) + tail).rstrip())
        fits = len("".join(chip(k) for k in keys[: n + 1]) + tail)
        assert n == len(keys) or fits > width  # as many whole chips as fit, in order
        if width == 80:
            assert bar == (" p  pause  l  log y  e  export  space  pause run  r  restart  "
                           + TAIL_TEXT)


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_lists_every_key_and_escape_closes_it(live_app, key):
    app = live_app(speed=5)
    async with app.run_test(size=(160, 45)) as pilot:
        await press(pilot, key)
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await wait_for(pilot, lambda: help_text(app).startswith(" mlp-tui keys (escape closes) "))
        shown = help_text(app)
        assert len(KEYS) + len(TAIL) == 29
        for k in (*KEYS, *TAIL):
            assert f" {k.shown} {k.help} " in shown, k
        assert "double the pace (past 5120 ep/s: unthrottled)" in shown
        assert "write every epoch of every run to a new CSV here" in shown
        await press(pilot, "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await wait_for(pilot, lambda: "mlp-tui keys" not in "\n".join(screen_lines(app)))
        assert app.is_running


async def test_replay_offers_no_live_controls(live_app, replay_app):
    """A replay hides pause, restart, speed and settings from the key bar, the help screen and
    the palette (a live session, for contrast, shows them all)."""
    hidden = {"p": "pause", "space": "pause run", "r": "restart", "R": "restart run",
              "+": "faster", "-": "slower", "c": "settings"}
    for app, live in ((live_app(speed=5), True), (replay_app(), False)):
        async with app.run_test(size=(250, 50)) as pilot:
            await drawn(pilot)
            bar = key_bar(app)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert bar.endswith(TAIL_TEXT) and " l  log y " in bar and "log y (l)" in titles
            for key, label in hidden.items():
                assert (f" {key}  {label} " in bar) is live, (live, key)
                assert (f"{label} ({key})" in titles) is live, (live, key)
            await press(pilot, "question_mark")
            await wait_for(pilot, lambda a=app: isinstance(a.screen, HelpScreen))
            await wait_for(pilot, lambda a=app: "log / linear y-axis" in help_text(a))
            shown = help_text(app)
            assert ("pause / resume every run" in shown) is live
            assert ("edit the experiment and restart" in shown) is live
            assert "log / linear y-axis" in shown

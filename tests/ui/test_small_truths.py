"""Small things the screen says, each true (issue 36, item 7): the key bar says what `p` does
now, `-` reaches --speed's least pace and says when it can go no slower, a run that has
computed nothing shows no health, and the settings form hints at commas as the command line
does."""

from __future__ import annotations

from textual.widgets import Input, Static
from ui_helpers import notifications, press, screen_lines, settle, wait_for

from mlp_tui.core.config import KEY_SPEED_MIN
from mlp_tui.core.settings import MIN_SPEED
from mlp_tui.tui.widgets.settings_form import SettingsScreen

SIZE = (160, 45)


def key_bar(app) -> str:
    return screen_lines(app)[-1]


async def test_the_key_bar_says_resume_while_every_run_is_paused(live_app):
    app = live_app(speed=50)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(len(r.history) for r in app.session.runs))
        assert " p  pause " in key_bar(app)
        await press(pilot, "p")
        await wait_for(pilot, lambda: " p  resume " in key_bar(app))
        await press(pilot, "p")
        await wait_for(pilot, lambda: " p  pause " in key_bar(app))


async def test_minus_reaches_the_least_speed_and_says_it_can_go_no_slower(live_app):
    assert KEY_SPEED_MIN == MIN_SPEED  # what --speed accepts, `-` reaches
    app = live_app(speed=1)
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        for _ in range(6):
            await press(pilot, "minus")
            seen.append(app.session.speed)
        assert seen == [0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
        assert "0.01 ep/s" in screen_lines(app)[0]
        await press(pilot, "minus")
        assert app.session.speed == 0.01
        await wait_for(pilot, lambda: "slower: already the slowest pace, 0.01 ep/s"
                       in notifications(app))
        await press(pilot, "plus")
        assert app.session.speed == 0.02


async def test_a_queued_run_shows_no_health_before_its_first_epoch(live_app):
    app = live_app(widths=tuple(range(1, 17)), depth=(1, 2, 3), speed=1)  # 48 runs, 32 workers

    def statuses() -> list[list[str]]:
        return [str(app.table.get_row(key)[1]).split("\n") for key in app.table.rows]

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: sum(s[0] == "queued" for s in statuses()) == 16)
        assert all(s == ["queued", "-"] for s in statuses() if s[0] == "queued")
        await wait_for(pilot, lambda: any(s == ["running", "ok"] for s in statuses()))
        assert all(s == ["queued", "-"] for s in statuses() if s[0] == "queued")


async def test_the_settings_form_hints_at_commas_for_a_spaced_list(live_app):
    app = live_app(speed=50)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(len(r.history) for r in app.session.runs))
        await press(pilot, "c")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        form.query_one("#f-widths", Input).value = "5 100"
        form.action_apply()
        await settle(pilot)
        error = str(form.query_one("#error", Static).render()).strip()
        assert error == "widths: '5 100': separate the values with commas: 5,100"


async def test_the_header_states_the_group_statistic_at_80x24(live_app):
    """Every group cell is a mean±std over seeds: the header says so at every size, another
    fact giving way first (issue 36: at 80x24 it was the one dropped)."""
    app = live_app(widths=(5, 10), depth=(1, 2), lr=(0.1, 0.01), repeats=4, speed=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(len(r.history) for r in app.session.runs))
        await wait_for(pilot, lambda: "·" in screen_lines(app)[0])
        line = screen_lines(app)[0]
        assert "mean±std of 4 seeds" in line and len(line.rstrip()) <= 80, line

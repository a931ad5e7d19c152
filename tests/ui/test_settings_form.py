"""The settings form (`c`): it starts from the live values, validates as you type, names the
field (not the command-line flag) in an error, and applying restarts every run."""

from __future__ import annotations

from textual.widgets import Input, Static
from ui_helpers import epochs, press, screen_text, settle, wait_for

from mlp_tui.tui.widgets.settings_form import SettingsScreen

SIZE = (160, 45)


async def open_form(pilot) -> SettingsScreen:
    await press(pilot, "c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
    return pilot.app.screen


def error_line(form: SettingsScreen) -> str:
    return str(form.query_one("#error", Static).render()).strip()


async def test_c_validates_inline_and_restarts_with_the_new_settings(live_app):
    app = live_app(speed=100)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 2)
        form = await open_form(pilot)
        form.query_one("#f-widths", Input).value = "5,abc"
        form.action_apply()
        await settle(pilot)
        assert app.screen is form  # still open
        assert error_line(form) == "widths: 'abc' is not a whole number"
        await wait_for(pilot, lambda: "widths: 'abc' is not a whole number" in screen_text(app))
        form.query_one("#f-widths", Input).value = "7,70"
        form.query_one("#f-lr", Input).value = "0.05"
        form.query_one("#f-val_split", Input).value = "0.2"
        form.action_apply()
        await wait_for(pilot, lambda: [r.width for r in app.session.runs] == [7, 70])
        await wait_for(pilot, lambda: min(epochs(app)) >= 2)
        assert app.session.config.lr == 0.05 and app.session.has_val
        # the table and the plot are rebuilt for the new widths
        await wait_for(pilot, lambda: "w=70" in (t := screen_text(app)) and "val loss" in t)
        assert "w=1000" not in screen_text(app)
        assert app.table.columns_shown == (
            "width", "status", "epoch", "loss", "acc", "best", "note", "trend"
        )


async def test_c_shows_the_speed_set_with_minus_and_apply_keeps_it(live_app):
    app = live_app(speed=200)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "minus")
        assert app.session.speed == 100
        form = await open_form(pilot)
        assert form.query_one("#f-speed", Input).value == "100"
        first = list(app.session.runs)
        form.action_apply()
        await wait_for(pilot, lambda: app.session.runs[0] is not first[0])  # restarted
        assert app.session.speed == 100 and app.session.config.speed == 100
        assert all(r._speed == 100 for r in app.session.runs)
        await wait_for(pilot, lambda: "100 ep/s" in screen_text(app).split("\n")[0])


async def test_an_error_names_the_field_and_clears_once_it_is_fixed(live_app):
    app = live_app(speed=1)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        lr = form.query_one("#f-lr", Input)
        lr.value = "fast"
        form.action_apply()
        await settle(pilot)
        assert error_line(form) == "learning rate: expected a number, got 'fast'"
        assert lr.has_class("-invalid")
        await wait_for(pilot, lambda: "learning rate: expected a number" in screen_text(app))
        assert "--lr" not in screen_text(app)
        lr.value = "0.05"  # fixed as they type: the error goes without pressing Apply
        await wait_for(pilot, lambda: error_line(form) == "")
        assert app.screen is form and not lr.has_class("-invalid")
        await wait_for(pilot, lambda: "learning rate:" not in screen_text(app))
        lr.value = "100000"  # out of range: checked by the whole-config validation
        form.action_apply()
        await settle(pilot)
        assert app.screen is form
        assert error_line(form).startswith("learning rate: must be above 0 and at most")


async def test_c_escape_keeps_the_experiment(live_app):
    app = live_app(speed=1)
    async with app.run_test(size=SIZE) as pilot:
        first = list(app.session.runs)
        await open_form(pilot)
        await press(pilot, "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        assert list(app.session.runs) == first
        assert [r.width for r in app.session.runs] == [5, 100, 1000]


async def test_c_does_nothing_in_a_replay(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "c")
        assert not isinstance(app.screen, SettingsScreen)

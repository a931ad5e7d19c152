"""The header's state word and the table's status, health and ep/s: a run's lifecycle and its
health are told apart, and a rate is shown only while it is measured."""

from __future__ import annotations

import re

from ui_helpers import epochs, header, press, screen_lines, sleep, wait_for

from mlp_tui.core.schema import Health, Status

SIZE = (160, 45)
RATE = re.compile(r"\d+ ep/s")


def rate_cells(app) -> list[str]:
    """The ep/s line of each row's epoch cell, as the table holds it."""
    return [app.table.get_cell(str(r.width), "epoch").plain.split("\n")[1]
            for r in app.session.runs]


def table_text(app) -> str:
    region = app.table.region
    lines = screen_lines(app)[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


async def test_header_says_all_runs_ended_when_a_finished_run_sits_at_chance(live_app):
    # lr 1.0 throws width 5 onto a flat loss at the class-prior level (ln 3): it finishes every
    # epoch, at chance. Its lifecycle (finished) and its health (chance) are two things.
    app = live_app(lr=1.0, widths=(5,), epochs=300, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        (run,) = app.session.runs
        assert run.status is Status.FINISHED and run.health is Health.CHANCE
        await wait_for(pilot, lambda: header(app).startswith("ALL RUNS ENDED  iris · "))
        await wait_for(pilot, lambda: "300/300" in table_text(app))
        status = app.table.get_cell("5", "status").plain
        assert status == "finished\nchance"
        lines = table_text(app).splitlines()
        assert any("finished" in line for line in lines)
        assert any("chance" in line for line in lines)


async def test_header_follows_running_paused_and_ended(live_app):
    app = live_app(epochs=400, speed=200)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: header(app).startswith("RUNNING  iris · "))
        await press(pilot, "p")
        await wait_for(pilot, lambda: header(app).startswith("PAUSED  iris · "))
        await press(pilot, "p")
        await wait_for(pilot, lambda: header(app).startswith("RUNNING  "))
        app.session.set_speed(0)
        await wait_for(pilot, lambda: app.session.ended)
        await wait_for(pilot, lambda: header(app).startswith("ALL RUNS ENDED  "))


async def test_ep_s_is_blank_while_paused_and_after_a_restart_until_measured(live_app):
    app = live_app(speed=200)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(RATE.fullmatch(c) for c in rate_cells(app)))
        await wait_for(pilot, lambda: len(RATE.findall(table_text(app))) == 3)

        await press(pilot, "p")  # the key redraws the table at once
        assert rate_cells(app) == ["", "", ""]
        await sleep(pilot, 0.3)  # and it stays blank
        assert rate_cells(app) == ["", "", ""]
        assert RATE.findall(table_text(app)) == []

        await press(pilot, "p")
        await wait_for(pilot, lambda: all(RATE.fullmatch(c) for c in rate_cells(app)))

        # At 4 epochs a second a new life's rate takes about half a second to measure.
        app.session.set_speed(4)
        await wait_for(pilot, lambda: all(r.life.pacer.speed == 4 for r in app.session.runs))
        before = epochs(app)
        await press(pilot, "r")
        assert [r.seed for r in app.session.runs] == [1, 1, 1]
        assert all(a <= b for a, b in zip(epochs(app), before))
        assert rate_cells(app) == ["", "", ""]
        assert RATE.findall(table_text(app)) == []
        await wait_for(pilot, lambda: rate_cells(app) == ["4 ep/s"] * 3)
        await wait_for(pilot, lambda: table_text(app).count(" 4 ep/s") == 3)

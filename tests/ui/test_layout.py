"""Layout behaviour: narrow terminals stack, tiny ones show a message and recover."""

from __future__ import annotations

from ui_helpers import DATA, screen_text

from mlp_tui.app import MlpTuiApp
from mlp_tui.replay import ReplaySession


def app() -> MlpTuiApp:
    return MlpTuiApp(ReplaySession(DATA / "iris_seed0.jsonl"))


async def test_side_by_side_at_160_columns():
    a = app()
    async with a.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        plot, table = a.plot.region, a.table.region
        assert plot.y == table.y and plot.right <= table.x
        assert 0.55 <= plot.width / 160 <= 0.7


async def test_stacked_below_100_columns():
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        plot, table = a.plot.region, a.table.region
        assert plot.bottom <= table.y
        assert plot.width == 80 and table.x == 0


async def test_too_small_shows_a_message_and_recovers():
    a = app()
    async with a.run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        assert "terminal too small" in screen_text(a)
        assert not a.plot.display or a.plot.region.area == 0 or not a.query_one("#main").display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        text = screen_text(a)
        assert "terminal too small" not in text
        assert "w=1000" in text and "120/120" in text


async def test_replay_shows_every_width_and_final_values():
    a = app()
    async with a.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        text = screen_text(a)
        for w in ("5", "100", "1000"):
            assert f"w={w}" in text
        assert text.count("finished") == 3
        assert "replay" in text

"""Issue #23, what a new user sees: the automatic y-range says what it clips and does not flip
back and forth, accuracy is never on an automatic log axis, grids get distinct colours, alerts
speak plain words, TensorBoard names and seeds read well."""

from __future__ import annotations

import numpy as np
from helpers import DATA

from mlp_tui.session.replay import ReplaySession
from mlp_tui.tui.figure import render_spec
from mlp_tui.view import Monitor, PlotSeries, PlotSpec, ViewSettings
from mlp_tui.view.plotspec import finish_spec
from mlp_tui.view.settings import Scale, auto_scale


def _spec(path: str, rows: int, **settings) -> tuple[Monitor, PlotSpec]:
    mon = Monitor(ReplaySession(DATA / path, follow=False), ViewSettings(**settings))
    mon.tick()
    return mon, mon.plot_spec(max_points=80, rows=rows)


def test_a_clipped_range_marks_the_spike_it_leaves_out():
    """80x24: the default run's plot is short, the range clips width 1000's spike to ~50; the
    title says so (`▲ 50.4`) and the picture shows it."""
    _, spec = _spec("iris_seed0_e39.jsonl", rows=12, log=False)
    assert spec.robust
    assert spec.above is not None and abs(spec.above - 50.42) < 0.01
    assert "▲ 50.4" in spec.title
    assert "▲ 50.4" in render_spec(spec, 78, 18).plain


def test_the_whole_range_marks_nothing():
    _, spec = _spec("iris_seed0_e39.jsonl", rows=40, log=False)
    assert not spec.robust and spec.above is None and "▲" not in spec.title


def test_the_automatic_range_keeps_its_choice_near_the_threshold():
    """Hysteresis: data whose 5-95% range is 60% of the whole clips only if it clipped before."""
    y = np.concatenate([np.linspace(0, 0.6, 97), np.full(3, 1.0)])
    lo, hi = np.percentile(y, [5, 95])
    assert 0.5 < (hi - lo) / (y.max() - y.min()) < 0.7
    s = ViewSettings(log=False)
    assert not auto_scale([y], s, rows=12).robust
    assert auto_scale([y], s, rows=12, previous=Scale(robust=True)).robust
    assert not auto_scale([y], s, rows=12, previous=Scale(robust=False)).robust


def test_the_automatic_log_axis_keeps_its_choice_near_the_threshold():
    y = np.array([1.0, 20.0])  # a ratio of 20: under the line to turn log on, over the one off
    s = ViewSettings()
    assert not auto_scale([y], s, rows=40).log
    assert auto_scale([y], s, rows=40, previous=Scale(log=True)).log


def test_accuracy_is_never_on_an_automatic_log_axis():
    """`m` to accuracy: values from 0.03 to 0.98 span a ratio over 30, yet the axis is linear."""
    _, spec = _spec("iris_seed0.jsonl", rows=35, metric="acc")
    assert "accuracy" in spec.title
    assert not spec.log and "log" not in spec.title
    _, loss = _spec("iris_seed0.jsonl", rows=35)
    assert loss.log  # the loss still is (the spike over a falling loss)


def test_an_explicit_log_choice_still_wins_for_accuracy():
    _, spec = _spec("iris_seed0.jsonl", rows=35, metric="acc", log=True)
    assert spec.log


def test_a_bounded_spec_is_linear_whatever_its_ratio():
    y = np.array([0.01, 0.9])
    spec = PlotSpec(series=[PlotSeries("a", 39, np.array([1.0, 2.0]), y)], bounded=True)
    assert not finish_spec(spec, ViewSettings(), 30).log


# Item 7: many groups stay readable.


def _grid_monitor(n: int, repeats: int = 1):
    """A monitor over n groups of fake runs with distinct, deterministic curves."""
    from mlp_tui.core.history import RunHistory
    from mlp_tui.core.schema import Health, Status

    class Run:
        def __init__(self, index: int, width: int, lr: float, repeat: int) -> None:
            self.index, self.width, self.repeat = index, width, repeat
            self.name = ""
            self.history = RunHistory(0, 0, has_val=False)
            for e in range(1, 41):
                row = {"epoch": e, "train_loss": 1.0 / (e + index), "train_acc": 0.5,
                       "elapsed_s": 0.01 * e}
                self.history.append(row, Status.RUNNING, Health.OK)
            self.meta = {"width": width, "depth": 2, "lr": lr}

    class Sess:
        from mlp_tui.core.task import CLASSIFICATION as task

        has_val = False
        metrics = None
        x_name = "epoch"

        def __init__(self) -> None:
            self.runs = [Run(i * repeats + k, 5, 0.1 / (i + 1), k)
                         for i in range(n) for k in range(repeats)]

    return Monitor(Sess(), ViewSettings())


def test_up_to_eight_groups_each_get_a_clearly_different_colour():
    from mlp_tui.view.rows import PALETTE

    mon = _grid_monitor(8)
    mon.tick()
    spec = mon.plot_spec(80)
    colours = [s.color for s in spec.series if s.in_legend]
    assert len(colours) == 8 and len(set(colours)) == 8
    assert set(colours) == set(PALETTE)


def test_past_eight_groups_colour_and_marker_tell_them_apart():
    from mlp_tui.tui.figure import marker_for

    mon = _grid_monitor(12)
    mon.tick()
    spec = mon.plot_spec(80)
    styles = [(s.color, marker_for(s.index, False)) for s in spec.series if s.in_legend]
    assert len(set(styles)) == 12
    assert styles[8][0] == styles[0][0] and styles[8][1] != styles[0][1]


def test_the_legend_wraps_instead_of_cutting_a_label():
    mon = _grid_monitor(8)
    mon.tick()
    spec = mon.plot_spec(80)
    lines = render_spec(spec, 80, 30).plain.split("\n")
    labels = [s.label for s in spec.series if s.in_legend]
    legend = "\n".join(lines[:3])
    assert "…" not in legend
    for label in labels:
        assert label in legend, label


def test_many_groups_with_seeds_draw_their_means_by_default_few_their_bands():
    many = _grid_monitor(6, repeats=3)
    many.tick()
    spec = many.plot_spec(80)
    assert not [s for s in spec.series if s.style == "band"]
    assert "b:means (auto)" in many.settings.describe(many.scale, False, many.repeats)
    few = _grid_monitor(3, repeats=3)
    few.tick()
    assert len([s for s in few.plot_spec(80).series if s.style == "band"]) == 3


def test_end_labels_are_never_drawn_over_a_curve():
    """w=5 ends on row 10 under w=10's flat line on row 11: its label goes below (row 9), not
    over w=10's curve, where it would go first."""
    from mlp_tui.tui.plot_labels import end_labels, occupied_cells

    x = np.arange(1.0, 101.0)
    over = (x, np.full(100, 11 / 19))  # row 11 of 20, all along
    under = (x[:60], np.full(60, 10 / 19))  # row 10, ending at x=60
    series = [PlotSeries("w=5", 39, *under, 0), PlotSeries("w=10", 208, *over, 1)]
    pts = [under, over]
    occ = occupied_cells(pts, (1, 100), (0, 1), 20, 60)
    assert all((11, c) in occ for c in range(60))
    labels = end_labels(pts, series, (1, 100), (0, 1), 20, 60, occ)
    placed = {label: round(y * 19) for _x, y, label, _c, _a in labels}
    assert placed.get("w=5") == 9
    for x_end, y, label, _c, align in labels:
        row, n = round(y * 19), len(label)
        col = round((x_end - 1) / 99 * 59)
        c0 = col - n + 1 if align == "right" else col
        assert not any((row, c) in occ for c in range(c0, c0 + n)), label


# Items 10 and 11: TensorBoard names and seeds, the browser's focus, a followed file not there yet.


def test_long_names_are_shortened_in_the_middle():
    from mlp_tui.core.text import middle

    name = "run0_iris_w1000_d1_sgd_lr0.1_bs0_seed0_2024-01-01"
    short = middle(name, 24)
    assert len(short) == 24 and short.startswith("run0_iris_w") and short.endswith("01-01")
    assert "…" in short
    assert middle("baseline", 24) == "baseline"


def test_the_seed_is_read_from_mlp_tuis_own_folder_names_only():
    from mlp_tui.persist.tensorboard import life_folder
    from mlp_tui.session.tensorboard import folder_seed

    meta = {"run": 0, "dataset": "iris", "width": 5, "depth": 1, "optimizer": "sgd", "lr": 0.1,
            "batch_size": 0, "seed": 3}
    assert folder_seed(life_folder(meta)) == 3
    assert folder_seed("logs/" + life_folder(meta) + "-2") == 3  # a name taken: `-2`
    assert folder_seed("big_lr/seed1") is None  # another program's: not guessed
    assert folder_seed("baseline") is None


def test_the_served_page_focuses_the_terminal_on_load():
    import asyncio

    import pytest

    pytest.importorskip("textual_serve")
    import aiohttp_jinja2

    from mlp_tui.faces.web_apps import AppPool, TabShares
    from mlp_tui.faces.web_guard import Guard
    from mlp_tui.faces.web_server import FOCUS_SCRIPT, INDEX, AppServer

    pool = AppPool((), (), 1, TabShares(2**30, 10**9))
    server = AppServer("127.0.0.1", 8000, Guard("t" * 20, False, 8000), pool)
    app = asyncio.run(server._make_app())
    page = aiohttp_jinja2.get_env(app).loader.get_source(aiohttp_jinja2.get_env(app), INDEX)[0]
    assert FOCUS_SCRIPT in page and page.index(FOCUS_SCRIPT) < page.index("</body>")
    assert "xterm-helper-textarea" in FOCUS_SCRIPT and ".focus()" in FOCUS_SCRIPT


def test_follow_waits_for_a_file_that_is_not_there_yet(tmp_path):
    from mlp_tui.cli.args import parse_args

    path = tmp_path / "notyet.jsonl"
    inv = parse_args(["replay", "--follow", str(path)])  # accepted, not "no such file"
    assert inv.follow and inv.file == path
    session = ReplaySession(path, follow=True)
    assert session.runs == [] and "waiting for notyet.jsonl to appear" in session.describe()
    assert session.read_all() == 0
    from mlp_tui.view import overall_state

    assert overall_state([r.status for r in session.runs]) == "waiting"  # not "all runs ended"
    lines = (DATA / "iris_seed0.jsonl").read_text().splitlines(keepends=True)[:3]
    path.write_text("".join(lines))
    assert session.read_all() == 3 and len(session.runs[0].history) == 3
    session.stop()

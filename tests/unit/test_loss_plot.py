"""The loss plot as text: true, round and distinct tick labels, shared grid axes, monochrome."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mlp_tui.tui.figure import build_figure, render_spec
from mlp_tui.view import PlotSeries, PlotSpec

BRAILLE = re.compile("[\u2801-\u28ff]")


def plain(ansi: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", ansi)


def x_labels(lines: list[str]) -> list[str]:
    """The words under the bottom frame of an overlay plot."""
    i = next(i for i, line in enumerate(lines) if "└" in line)
    return lines[i + 1].split()


def y_labels(lines: list[str]) -> list[str]:
    return [line.split("┤")[0].strip() for line in lines if "┤" in line]


def decay(epochs: int, n: int = 3, stop: int | None = None,
          points: int | None = None) -> list[PlotSeries]:
    """n decaying curves over epochs 1..stop; `points` of them evenly spread (as the view's
    downsampling hands the figure: about two a cell), or every epoch."""
    last = stop or epochs
    x = np.arange(1, last + 1, dtype=float) if points is None else np.linspace(1, last, points)
    return [
        PlotSeries(f"w={8 * 2**i}", 39 + i, x, 50 * np.exp(-x / (epochs / (i + 2))) + i, i)
        for i in range(n)
    ]


def figure(spec: PlotSpec, width: int = 160, height: int = 44) -> list[str]:
    return plain(build_figure(spec, width, height, spec.series)).removesuffix("\n").split("\n")


@pytest.fixture(autouse=True)
def colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_twenty_thousand_epochs_get_distinct_compact_x_labels():
    spec = PlotSpec(series=decay(20_000, points=320), x_range=(1, 20_000), y_range=(0.1, 52.0))
    labels = x_labels(figure(spec))
    assert labels == [f"{k}k" for k in range(2, 21, 2)]
    assert not any("e" in label for label in labels)


def test_two_thousand_epochs_read_as_round_epochs():
    spec = PlotSpec(series=decay(2000), x_range=(1, 2000), y_range=(0.1, 52.0))
    labels = x_labels(figure(spec))
    assert labels == ["200", "400", "600", "800", "1k", "1.2k", "1.4k", "1.6k", "1.8k", "2k"]


def test_a_hundred_epochs_start_at_a_round_epoch_at_any_width():
    spec = PlotSpec(series=decay(100), x_range=(1, 100), y_range=(0.1, 52.0))
    assert x_labels(figure(spec, 80, 24)) == ["20", "40", "60", "80", "100"]
    assert x_labels(figure(spec, 40, 12)) == ["50", "100"]


def test_y_labels_are_round():
    spec = PlotSpec(series=decay(100), x_range=(1, 100), y_range=(0.1, 50.4))
    assert y_labels(figure(spec, 80, 24)) == ["50", "40", "30", "20", "10"]
    small = PlotSpec(series=decay(100), x_range=(1, 100), y_range=(0.03, 0.05))
    assert y_labels(figure(small, 80, 24)) == ["0.050", "0.045", "0.040", "0.035", "0.030"]


def test_log_axis_labels_real_values_between_decades():
    series = [PlotSeries(s.label, s.color, s.x, np.log10(s.y)) for s in decay(100)]
    spec = PlotSpec(
        series=series, x_range=(1, 100), y_range=(np.log10(0.06), np.log10(60)), log=True
    )
    assert y_labels(figure(spec, 80, 34)) == ["50", "20", "10", "5", "2", "1", "0.5", "0.2", "0.1"]


def test_huge_values_do_not_raise():
    x = np.arange(1.0, 11.0)
    series = [PlotSeries("a", 39, x, np.full(10, 300.0))]  # log10 of 1e300
    log = PlotSpec(series=series, y_range=(300.0, 300.0), log=True)
    assert "1e+300" in y_labels(figure(log, 80, 24))
    lin = PlotSpec(series=[PlotSeries("a", 39, x, np.full(10, 1e308))], y_range=(-1e308, 1e308))
    labels = y_labels(figure(lin, 80, 24))
    assert labels[0] == "1e+308" and labels[-1] == "-1e+308" and "0" in labels


def test_grid_plots_share_the_x_range_and_its_labels():
    series = decay(100, n=4)
    short = series[3]
    series[3] = PlotSeries(short.label, short.color, short.x[:37], short.y[:37], 3)  # stopped
    spec = PlotSpec(series=series, x_range=(1, 100), y_range=(0.1, 53.0), grid=True)
    lines = render_spec(spec, 160, 45).plain.split("\n")
    rows = [lines[i + 1] for i, line in enumerate(lines) if "└" in line]
    cells = [row[c : c + 80].split() for row in rows for c in (0, 80)]
    assert len(cells) == 4
    assert all(cell == ["20", "40", "60", "80", "100"] for cell in cells)


def test_no_color_gives_each_series_its_own_marker(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    spec = PlotSpec(series=decay(100), x_range=(1, 100), y_range=(0.0, 55.0))
    canvas = "\n".join(figure(spec, 100, 30))
    assert BRAILLE.search(canvas) and "•" in canvas and "+" in canvas
    legend = render_spec(spec, 100, 30).plain.split("\n")[0]
    assert legend.split() == ["━━", "w=8", "••", "w=16", "++", "w=32"]


def test_colour_mode_draws_every_series_in_braille():
    spec = PlotSpec(series=decay(100), x_range=(1, 100), y_range=(0.0, 55.0))
    canvas = "\n".join(figure(spec, 100, 30))
    assert "•" not in canvas and "+" not in canvas


@pytest.mark.parametrize("no_color", ["", "1"])
def test_line_ends_are_labelled(monkeypatch, no_color):
    monkeypatch.setenv("NO_COLOR", no_color)
    x = np.arange(1.0, 101.0)
    series = [PlotSeries(f"run{i}", 39 + i, x, np.full(100, 10.0 * i + 10)) for i in range(3)]
    lines = figure(PlotSpec(series=series, x_range=(1, 100), y_range=(0.0, 36.0)), 80, 24)
    for i in range(3):
        row = next(r for r, line in enumerate(lines) if f"run{i}" in line)
        line_row = next(r for r, line in enumerate(lines) if f"{10 * i + 10}┤" in line)
        assert abs(row - line_row) == 1  # beside its own line, one row off it


def test_a_label_never_sits_where_it_could_name_another_line():
    x = np.arange(1.0, 101.0)
    same_end = [PlotSeries(f"run{i}", 39 + i, x, 10 + (100 - x) / (10 + i)) for i in range(2)]
    canvas = "\n".join(figure(PlotSpec(series=same_end, x_range=(1, 100), y_range=(0, 20)), 80, 24))
    assert "run0" not in canvas and "run1" not in canvas


def test_figure_has_exactly_the_height_asked():
    spec = PlotSpec(series=decay(100), x_range=(1, 100), y_range=(0.1, 50.4))
    assert len(figure(spec, 80, 24)) == 24

"""docs/python.md's notebook example runs as written. matplotlib is not a dependency, so the
test gives the example a stand-in pyplot and checks the frame it plotted: the notebook's three
widths, every epoch."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pandas as pd

DOC = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def example() -> str:
    """The first python block: the notebook's three widths."""
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]


def test_the_notebook_example_runs_and_plots_three_widths(monkeypatch):
    shown = []
    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.show = lambda: shown.append(True)
    matplotlib = types.ModuleType("matplotlib")
    matplotlib.pyplot = pyplot
    monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    plotted = []

    def plot(self, **kwargs):  # DataFrame.plot needs matplotlib: note the frame instead
        plotted.append((self, kwargs))
        return types.SimpleNamespace(set_xlabel=lambda _: None, set_ylabel=lambda _: None)

    monkeypatch.setattr(pd.DataFrame, "plot", property(lambda self: lambda **kw: plot(self, **kw)))
    scope: dict[str, object] = {}
    exec(compile(example(), str(DOC), "exec"), scope)
    (curves, kwargs), = plotted
    assert list(curves.columns) == [5, 100, 1000] and list(curves.index) == list(range(1, 101))
    assert curves.notna().all().all() and kwargs["logy"] and shown == [True]
    assert scope["result"].final["status"].tolist() == ["finished"] * 3

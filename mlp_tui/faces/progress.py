"""Progress bars for code that trains from Python: one line per run group (a width, or a grid
configuration, its seeds pooled) with its epochs, latest loss and time left, redrawn in place on
a terminal or in a Jupyter output cell. Plain text, read from the session like every face."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from mlp_tui.core.contract import RunView, Session
from mlp_tui.core.text import printable
from mlp_tui.view.fmt import fmt_num

BAR = 20  # cells of a bar


@dataclass(frozen=True)
class GroupProgress:
    """A group's epochs done and planned (every seed's), its latest loss, how it stands."""

    name: str
    done: int
    total: int
    loss: float | None
    ended: bool


def groups(runs: Sequence[RunView]) -> list[GroupProgress]:
    """The runs pooled by group, in run order; the loss is the last run's latest one."""
    pooled: dict[str, list[RunView]] = {}
    for run in runs:
        pooled.setdefault(getattr(run, "group", run.label), []).append(run)
    out = []
    for name, members in pooled.items():
        last = [h for r in members if (h := r.history.last()) is not None]
        out.append(GroupProgress(
            name, sum(len(r.history) for r in members), sum(r.total or 0 for r in members),
            last[-1]["train_loss"] if last else None, all(r.status.ended for r in members)))
    return out


def clock(seconds: float) -> str:
    """`0:07`, `12:03`, `1:02:03`."""
    s = int(seconds + 0.5)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


def line(g: GroupProgress, elapsed: float, width: int) -> str:
    """`w=5    [########------------]  40/100  loss 0.8123  ETA 0:03`: the time left at the
    group's own pace so far (its elapsed time once it ended)."""
    share = g.done / g.total if g.total else 0.0
    full = min(BAR, int(share * BAR))
    bar = "#" * full + "-" * (BAR - full)
    if g.ended:
        when = f"done {clock(elapsed)}" if g.done >= g.total else f"ended {clock(elapsed)}"
    elif g.done and elapsed > 0:
        when = f"ETA {clock(elapsed * (g.total - g.done) / g.done)}"
    else:
        when = "ETA ?"
    count = f"{g.done:>{len(str(g.total))}}/{g.total}"
    return f"{printable(g.name):<{width}}  [{bar}]  {count}  loss {fmt_num(g.loss):>8}  {when}"


class ProgressBars:
    """Draws a session's group lines through `show` (a terminal's or a notebook's); the ETA of
    each group is measured from the first draw, and frozen when the group ends."""

    def __init__(self, session: Session, show: Callable[[list[str]], None],
                 clock_s: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.show = show
        self.clock = clock_s
        self.started = clock_s()
        self.ended_at: dict[str, float] = {}

    def lines(self) -> list[str]:
        now = self.clock()
        gs = groups(self.session.runs)
        width = max((len(printable(g.name)) for g in gs), default=0)
        out = []
        for g in gs:
            if g.ended:
                self.ended_at.setdefault(g.name, now)
            out.append(line(g, self.ended_at.get(g.name, now) - self.started, width))
        if not gs and self.session.loading:
            out.append("loading torch and the data...")
        return out

    def draw(self) -> None:
        self.show(self.lines())


class TerminalLines:
    """Lines redrawn in place on a terminal stream (cursor up, clear line)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.drawn = 0

    def __call__(self, lines: list[str]) -> None:
        out = "\x1b[F" * self.drawn + "".join(f"\x1b[2K{ln}\n" for ln in lines)
        self.stream.write(out)
        self.stream.flush()
        self.drawn = len(lines)


class NotebookLines:
    """Lines in one output area of a Jupyter cell, replaced on each draw (IPython's display
    handle: no widget library needed)."""

    def __init__(self, display: Callable[..., object]) -> None:
        self.display = display
        self.handle = None

    def __call__(self, lines: list[str]) -> None:
        text = {"text/plain": "\n".join(lines)}
        if self.handle is None:
            self.handle = self.display(text, raw=True, display_id=True)
        else:
            self.handle.update(text, raw=True)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell that is not a terminal's)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def output_for(stream: TextIO | None = None) -> Callable[[list[str]], None] | None:
    """Where progress goes: a notebook's output area, a terminal on stderr, or nowhere (a
    pipe, a file, a test's captured stream: nothing to redraw in place)."""
    if in_notebook():
        from IPython.display import display

        return NotebookLines(display)
    stream = sys.stderr if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return TerminalLines(stream) if tty else None

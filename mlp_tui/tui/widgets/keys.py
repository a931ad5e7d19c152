"""Every key of the app, declared once: the bindings, the key bar, the help screen and the
command palette derive from this table."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from mlp_tui.core.contract import Control
from mlp_tui.core.schema import Status


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma-separated
    action: str
    label: str  # a word or two for the key bar
    help: str  # a line for the help screen
    needs: Control | None = None  # hidden when the session lacks it
    display: str = ""
    table: bool = False  # the runs table would take this key: bind it there too
    bar: bool = True  # shown in the key bar (every key is in help and the palette)

    @property
    def shown(self) -> str:
        return self.display or self.keys.split(",")[0]


# In order of usefulness: the key bar shows as many as fit, from the top.
KEYS: tuple[Key, ...] = (
    Key("p", "toggle_all", "pause", "pause / resume every run", Control.PAUSE),
    Key("l", "log", "log y", "log / linear y-axis (overrides the automatic choice)"),
    Key("e", "export", "export", "write the table now (to --export, else a new file here)"),
    Key("space", "toggle_one", "pause run", "pause / resume the run under the cursor",
        Control.PAUSE),
    Key("r", "restart_all", "restart", "restart every run: fresh weights, next seed",
        Control.RESTART),
    Key("R", "restart_one", "restart run", "restart the run under the cursor", Control.RESTART),
    Key("plus,equals_sign", "faster", "faster", "double the pace (past 5120 ep/s: unthrottled)",
        Control.SPEED, "+"),
    Key("minus", "slower", "slower", "halve the pace", Control.SPEED, "-"),
    Key("m", "metric", "metric",
        "metric: loss (train and val together), accuracy (both), then each alone"),
    Key("c", "settings", "settings", "edit the experiment and restart", Control.CONFIGURE),
    Key("w", "capacity", "vs width",
        "capacity view: loss against width, seeds as error bars, best width marked"),
    Key("left", "cursor_back", "cursor", "epoch cursor: back one plot column, with a readout",
        display="←", table=True),
    Key("right", "cursor_forward", "cursor forward", "epoch cursor: forward one plot column",
        display="→", table=True, bar=False),
    Key("home", "cursor_first", "first epoch", "epoch cursor: the first epoch in view",
        table=True, bar=False),
    Key("end,escape", "cursor_live", "live", "cursor off: follow the live data", table=True,
        bar=False),
    Key("z", "zoom", "zoom", "x-window: all epochs, the last 1000, the last 100"),
    Key("b", "band", "band", "seeds of a width: min-max band, mean±std band, each seed"),
    Key("s", "smooth_more", "smooth", "smoothing up a step (EMA 0.1 ... 0.999, as TensorBoard)"),
    Key("S", "smooth_less", "smooth less", "smoothing down a step (0 is off)", bar=False),
    Key("a", "capacity_at", "at best",
        "capacity view: at the cursor/latest epoch / at each run's best val epoch", bar=False),
    Key("o", "robust", "outliers", "y-range of all values / 5th-95th percentile"),
    Key("g", "grid", "grid", "one overlaid plot / a grid of small plots"),
    Key("v", "hide", "hide run", "hide / show the run under the cursor in the plot"),
    Key("x", "x_axis", "x axis", "x-axis: epoch / seconds"),
    Key("E", "export_history", "history", "write every epoch of every run to a new CSV here"),
    Key("0", "reset_view", "reset view", "forget the remembered view: defaults again",
        bar=False),
    Key("ctrl+z", "suspend_process", "suspend", "suspend to the shell (fg resumes)"),
)
# Always shown at the end of the key bar.
TAIL: tuple[Key, ...] = (
    Key("question_mark,f1", "help", "help", "this screen", display="?"),
    Key("q", "quit_app", "quit", "quit: stop every run, write --export, exit"),
)


def table_bindings() -> list[Binding]:
    """The keys the runs table would otherwise take (its column cursor, scrolling)."""
    return [Binding(k.keys, f"app.{k.action}", k.label, show=False) for k in KEYS if k.table]


def bindings() -> list[Binding]:
    out = [Binding(k.keys, k.action, k.label, show=False, key_display=k.shown)
           for k in (*KEYS, *TAIL)]
    out.append(Binding("ctrl+c", "quit_app", "quit", show=False, priority=True))
    return out


class KeyBar(Widget):
    """The keys that fit, whole, most useful first, then help and quit (never cut mid-word)."""

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; color: $footer-foreground; }
    """

    def render(self) -> Text:
        width = self.size.width
        keys = [k for k in KEYS if k.bar and self.app.offered(k.action)]
        tail = Text.assemble(*(_chip(k) for k in TAIL))
        line = Text(no_wrap=True)
        for k in keys:
            chip = _chip(k, toggle_label(self.app.session.runs))
            if line.cell_len + chip.cell_len + tail.cell_len > width:
                break
            line.append_text(chip)
        line.append_text(tail)
        return line


def _chip(k: Key, toggle: str | None = None) -> Text:
    label = toggle if toggle and k.action == "toggle_all" else k.label
    return Text.assemble((f" {k.shown} ", "bold reverse"), f" {label} ")


def toggle_label(runs) -> str:
    """What `p` does now: `resume` once no run trains and some wait paused, else `pause`."""
    states = {r.status for r in runs}
    if Status.PAUSED in states and not states & {Status.RUNNING, Status.QUEUED}:
        return "resume"
    return "pause"


class HelpScreen(ModalScreen[None]):
    """Every key the session supports, with what it does (`?` or F1)."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 90; max-width: 100%; height: auto; max-height: 100%;
            border: thick $primary; background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        lines = Text("mlp-tui keys (escape closes)\n\n", style="bold")
        for k in (*KEYS, *TAIL):
            if self.app.supported(k.action):
                lines.append(f"{k.shown:>7}  ", style="bold")
                lines.append(f"{k.help}\n")
        lines.append(f"{'↑ ↓':>7}  ", style="bold")
        lines.append("table cursor: the run that space, R and v act on (PgUp/PgDn, ctrl+home/"
                     "ctrl+end jump; a click selects)\n")
        lines.append("\nEvery key is also in the command palette (ctrl+p).", style="dim")
        with VerticalScroll(id="help"):
            yield Static(lines)

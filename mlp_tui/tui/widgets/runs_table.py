"""The runs table: one row per width (repeats pooled, view.rows.GROUP_STAT), updated in place."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import CLASSIFICATION, Task
from mlp_tui.tui.figure import marker_for, no_color, swatch
from mlp_tui.tui.widgets.keys import table_bindings
from mlp_tui.view import RowState, fmt_ago, fmt_num, fmt_rate

SPARK = "▁▂▃▄▅▆▇█"
STATUS_STYLE = {
    Status.RUNNING: "green",
    Status.PAUSED: "yellow",
    Status.WAITING: "yellow",
    Status.QUEUED: "dim",
    Status.FINISHED: "cyan",
    Status.EARLY_STOPPED: "cyan",
    Status.STOPPED: "dim",
    Status.DIVERGED: "bold red",
    Status.FAILED: "bold red",
}
HEALTH_STYLE = {
    Health.OK: "dim",
    Health.STALLED: "bold magenta",
    Health.DIVERGING: "bold red",
    Health.CHANCE: "bold magenta",
    Health.BASELINE: "bold magenta",
}
DANGER = (Status.DIVERGED, Status.FAILED)


def sparkline(values: tuple[float, ...]) -> Text:
    vals = [v for v in values if math.isfinite(v)]
    if len(vals) < 2:
        return Text("")
    lo, hi = min(vals), max(vals)
    span = hi - lo
    chars = "".join(SPARK[0 if span <= 0 else min(7, int((v - lo) / span * 7.999))] for v in vals)
    delta = vals[-1] - vals[0]
    if abs(delta) <= 1e-4 * max(1.0, abs(vals[0])):
        arrow, style = "→", "dim"
    elif delta < 0:
        arrow, style = "↓", "green"
    else:
        arrow, style = "↑", "red"
    return Text.assemble((chars, "cyan"), "\n", (f"{arrow} {delta:+.4g}", style))


def _cell_width(value: object) -> int:
    """Terminal cells the widest line of a cell takes."""
    text = value.plain if isinstance(value, Text) else str(value)
    return max(map(cell_len, text.split("\n")))


# Columns in display order, with their header lines ("loss" and "acc" read the task's short
# names: a regression's "MSE" and "R²"); PRIORITY says which stay when a narrow terminal
# cannot show them all (a column is dropped whole, never cut).
COLUMNS = {
    "width": "width\nseed",
    "status": "status\nhealth",
    "epoch": "epoch\nep/s",
    "loss": "loss",
    "acc": "acc",
    "best": "best\n@epoch",
    "note": "note",
    "trend": "trend\nlast 10",
}
PRIORITY = ("width", "status", "loss", "epoch", "best", "note", "acc", "trend")
PADDING = 2  # a cell's padding, left and right
TREND_W = 12  # the widest trend line: `↓ -1.234e-05` (a sign and 4 significant digits)
FRAME = 3  # the border and the vertical scrollbar


class RunsTable(DataTable):
    """DataTable whose rows are keyed by width and whose cells change in place."""

    DEFAULT_CSS = """
    RunsTable { width: 1fr; height: 1fr; }
    """
    BINDINGS = table_bindings()

    def __init__(
        self, *, has_val: bool = False, task: Task = CLASSIFICATION, early: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, header_height=2)
        self.has_val = has_val
        self.experiment_task = task
        self.early = early  # runs may end early-stopped (--early-stop): its word is reserved
        self._shown: dict[str, tuple] = {}
        self._widths: dict[str, int] = {}  # the widest content each column has shown
        self.columns_shown: tuple[str, ...] = ()
        self.readings = False  # a row has shown a sharpness reading: the note column says it
        self._built: tuple[tuple[str, ...], tuple[int, ...]] = ((), ())

    def on_mount(self) -> None:
        self.reset(self.has_val, self.experiment_task, self.early)

    def reset(self, has_val: bool, task: Task | None = None, early: bool = False) -> None:
        """Drop every row and column, for a new experiment."""
        self.has_val, self.early = has_val, early
        self.experiment_task = task or self.experiment_task
        self.readings = False
        self._shown.clear()
        self._widths = {key: _cell_width(Text(self.label(key))) for key in self.keys()}
        # Reserved for the widest state a row reaches as it runs and ends (#23: the layout must
        # not jump when runs end): every status word, a trend's widest delta.
        # (`early-stopped` only where --early-stop can end a run: a recording's rows widen it.)
        words = [s.value for s in Status if early or s is not Status.EARLY_STOPPED]
        self._widths["status"] = max(self._widths["status"], *map(len, words))
        self._widths["trend"] = max(self._widths["trend"], TREND_W)
        self._built = ((), ())
        self.show_columns(self.keys())

    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in COLUMNS if k not in ("acc", "note") or self.has_val
                     or (k == "note" and self.readings))

    def label(self, key: str) -> str:
        task = self.experiment_task
        if key in ("loss", "acc"):
            name = task.metric("loss" if key == "loss" else task.score).short
            return f"{name}\nval {name}" if self.has_val else name
        if self.has_val and key == "best":
            monitor = "" if task.monitor == "loss" else f" {task.metric(task.monitor).short}"
            return f"best val{monitor}\n@epoch"
        if key == "note":
            sharp = "λmax vs 2/lr" if self.readings else ""
            return f"{sharp}\noverfitting" if sharp and self.has_val else sharp or "overfitting\n"
        return COLUMNS[key]

    def needed(self, keys: tuple[str, ...] | None = None) -> int:
        """Cells these columns (all by default) take without cutting any."""
        keys = self.keys() if keys is None else keys
        return sum(self._widths[k] + PADDING for k in keys) + FRAME

    def fit(self, width: int) -> None:
        """Show the columns that fit in `width` cells whole, by priority, in display order."""
        keep: list[str] = []
        for key in (k for k in PRIORITY if k in self.keys()):
            if self.needed((*keep, key)) <= width or not keep:
                keep.append(key)
        self.show_columns(tuple(k for k in self.keys() if k in keep))

    def show_columns(self, keys: tuple[str, ...]) -> None:
        """Rebuild with these columns, each as wide as its widest content so far."""
        widths = tuple(self._widths[k] for k in keys)
        if (keys, widths) == self._built:
            return
        self._built = (keys, widths)
        row = self.cursor_row
        self.clear(columns=True)
        self.columns_shown = keys
        for key, width in zip(keys, widths):
            self.add_column(Text(self.label(key)), key=key, width=width)
        for key, (_r, cells) in self._shown.items():
            self.add_row(*(cells[k] for k in keys), key=key, height=2)
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1))

    def cells(self, r: RowState) -> dict[str, object]:
        danger = r.status in DANGER
        base = "red" if danger else ("dim" if r.hidden else "")
        loss = fmt_num(r.loss)
        if r.loss_std is not None:
            loss = f"{loss}±{fmt_num(r.loss_std, '.3f')}"
        cells: dict[str, object] = {
            "width": Text.assemble(
                (swatch(marker_for(r.index, no_color())) + " ", f"bold color({r.color})"
                 + (" dim" if r.hidden else "")),
                (f"{r.name or r.width}\n", base),
                (f"seed {r.seed}", "dim"),
            ),
            "status": Text.assemble(
                (f"{r.status.value}\n", STATUS_STYLE[r.status]),
                # no epoch computed yet (queued, loading): no health to tell, not `ok`
                (r.health.value, HEALTH_STYLE[r.health]) if r.computed else ("-", "dim"),
            ),
            "epoch": Text.assemble(
                (f"{r.epoch}/{r.total}\n" if r.total is not None else f"{r.epoch} pts\n", base),
                (fmt_rate(r.eps) if r.waiting_s is None else fmt_ago(r.waiting_s), "dim"),
            ),
        }
        if self.has_val:
            val_loss = fmt_num(r.val_loss)
            if r.val_loss_std is not None:
                val_loss = f"{val_loss}±{fmt_num(r.val_loss_std, '.3f')}"
            cells["loss"] = Text.assemble((f"{loss}\n", base), (val_loss, "italic " + base))
            fmt = self.experiment_task.metric(self.experiment_task.score).fmt or ".4f"
            cells["acc"] = Text.assemble(
                (f"{fmt_num(r.score, fmt)}\n", base), (fmt_num(r.val_score, fmt), "italic " + base)
            )
        else:
            cells["loss"] = Text(loss, style=base)
        best = fmt_num(r.best)
        if r.best_std is not None:
            best = f"{best}±{fmt_num(r.best_std, '.3f')}"
        cells["best"] = Text("-" if r.best is None else f"{best}\n@{r.best_epoch}", style=base)
        if self.readings:  # the sharpness (red past the edge: unstable), then overfitting
            cells["note"] = Text.assemble(
                (r.sharp, "bold red" if " > " in r.sharp else "green"),
                ("\n" + r.overfit if r.overfit else "", "bold yellow"))
        elif self.has_val:
            cells["note"] = Text(r.overfit.replace("since epoch ", "since\nepoch "),
                                 style="bold yellow")
        cells["trend"] = sparkline(r.trend)
        return cells

    def show_rows(self, rows: list[RowState]) -> None:
        """Add new rows, update changed cells in place (the cursor stays), drop vanished rows.
        Columns only grow (a width that changed with every update, a delta of "+0.01" then
        "-1.2e-05", would lay the whole screen out again); the app lays out again when one
        does (`needed()` changed)."""
        keys = {r.key for r in rows}
        if not self.readings and any(r.sharp for r in rows):  # the note column says them now
            self.readings = True
            self._widths["note"] = _cell_width(Text(self.label("note")))
            self._shown.clear()
            self.clear()
            self._built = ((), ())
            self.show_columns(self.keys())
        for key in [k for k in self._shown if k not in keys]:
            self.remove_row(key)
            del self._shown[key]
        for r in rows:
            shown = self._shown.get(r.key)
            if shown is not None and shown[0] == r:
                continue
            cells = self.cells(r)
            for col, value in cells.items():
                self._widths[col] = max(self._widths.get(col, 0), _cell_width(value))
            if r.total is not None:  # the last epoch's `100/100`, reserved from the first
                self._widths["epoch"] = max(self._widths["epoch"], len(f"{r.total}/{r.total}"))
            if shown is None:
                self.add_row(*(cells[k] for k in self.columns_shown), key=r.key, height=2)
            else:
                for col in self.columns_shown:
                    if shown[1][col] != cells[col]:
                        self.update_cell(r.key, col, cells[col])
            self._shown[r.key] = (r, cells)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

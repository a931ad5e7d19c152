"""The runs table: one row per width (repeats pooled as mean ± std), updated in place."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from mlp_tui.schema import Health, Status
from mlp_tui.view import RowState, fmt_num, fmt_rate

SPARK = "▁▂▃▄▅▆▇█"
STATUS_STYLE = {
    Status.RUNNING: "green",
    Status.PAUSED: "yellow",
    Status.FINISHED: "cyan",
    Status.STOPPED: "dim",
    Status.DIVERGED: "bold red",
    Status.FAILED: "bold red",
}
HEALTH_STYLE = {
    Health.OK: "dim",
    Health.STALLED: "bold magenta",
    Health.DIVERGING: "bold red",
    Health.CHANCE: "bold magenta",
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


_num = fmt_num


class RunsTable(DataTable):
    """DataTable whose rows are keyed by width and whose cells change in place."""

    DEFAULT_CSS = """
    RunsTable { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, has_val: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, header_height=2)
        self.has_val = has_val
        self._shown: dict[str, tuple] = {}
        self._widths: dict[str, int] = {}  # the widest content each column has shown

    def on_mount(self) -> None:
        self.setup_columns()

    def reset(self, has_val: bool) -> None:
        """Drop every row and column, for a new experiment."""
        self.clear(columns=True)
        self.has_val = has_val
        self._shown.clear()
        self._widths.clear()
        self.setup_columns()

    def setup_columns(self) -> None:
        """Two lines a row keep every figure visible in a third of a 160-column terminal."""
        cols = [
            ("width\nseed", "width"),
            ("status\nhealth", "status"),
            ("epoch\nep/s", "epoch"),
            ("loss\nval loss" if self.has_val else "loss", "loss"),
        ]
        if self.has_val:
            cols.append(("acc\nval acc", "acc"))
        cols += [("best\n@epoch", "best"), ("trend\nlast 10", "trend")]
        for label, key in cols:
            self.add_column(Text(label), key=key)

    def cells(self, r: RowState) -> dict[str, object]:
        danger = r.status in DANGER
        base = "red" if danger else ("dim" if r.hidden else "")
        loss = _num(r.loss)
        if r.loss_std is not None:
            loss = f"{loss}±{_num(r.loss_std, '.3f')}"
        cells: dict[str, object] = {
            "width": Text.assemble(
                ("██ ", f"color({r.color})" + (" dim" if r.hidden else "")),
                (f"{r.width}\n", base),
                (f"seed {r.seed}", "dim"),
            ),
            "status": Text.assemble(
                (f"{r.status.value}\n", STATUS_STYLE[r.status]),
                (r.health.value, HEALTH_STYLE[r.health]),
            ),
            "epoch": Text.assemble((f"{r.epoch}/{r.total}\n", base), (fmt_rate(r.eps), "dim")),
        }
        if self.has_val:
            cells["loss"] = Text.assemble((f"{loss}\n", base), (_num(r.val_loss), "italic " + base))
            cells["acc"] = Text.assemble(
                (f"{_num(r.acc, '.3f')}\n", base), (_num(r.val_acc, ".3f"), "italic " + base)
            )
        else:
            cells["loss"] = Text(loss, style=base)
        cells["best"] = Text(
            "-" if r.best is None else f"{_num(r.best)}\n@{r.best_epoch}", style=base
        )
        cells["trend"] = sparkline(r.trend)
        return cells

    def show_rows(self, rows: list[RowState]) -> None:
        """Add new rows, update changed cells in place (the cursor stays), drop vanished rows."""
        keys = {r.key for r in rows}
        for key in [k for k in self._shown if k not in keys]:
            self.remove_row(key)
            del self._shown[key]
        for r in rows:
            shown = self._shown.get(r.key)
            if shown is not None and shown[0] == r:
                continue
            cells = self.cells(r)
            if shown is None:
                self.add_row(*cells.values(), key=r.key, height=2)
                for col, value in cells.items():
                    self._widths[col] = max(self._widths.get(col, 0), _cell_width(value))
            else:
                old = shown[1]
                for col, value in cells.items():
                    if old.get(col) != value:
                        # Columns only grow: a width that changes with every update (a delta
                        # of "+0.01" then "-1.2e-05") would lay the whole screen out again.
                        w = _cell_width(value)
                        grow = w > self._widths.get(col, 0)
                        if grow:
                            self._widths[col] = w
                        self.update_cell(r.key, col, value, update_width=grow)
            self._shown[r.key] = (r, cells)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

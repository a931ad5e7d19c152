"""The view keys' actions, mixed into the app: what the plot shows (metric, scale, smoothing,
zoom, bands, the capacity view, the epoch cursor). Each change redraws at once and is remembered
for the next launch."""

from __future__ import annotations

from mlp_tui.core.text import printable
from mlp_tui.persist.view_file import load_view, reset_view, save_view
from mlp_tui.tui.widgets.keys import KEYS, TAIL
from mlp_tui.view import ViewSettings
from mlp_tui.view.memory import remember
from mlp_tui.view.settings import BANDS, CAPACITY_AT, ZOOMS, metric_views

# The control each action needs: a session that lacks it hides the key (key bar, palette).
NEEDS = {k.action: k.needs for k in (*KEYS, *TAIL) if k.needs is not None}


class ViewKeyActions:
    """An App mixin (not a widget): the app provides `monitor`, `session`, `plot`,
    `view_kind`, `refresh_now`, `notify` and `selected_group`; this mixin also says which keys
    apply."""

    def tell_restored(self) -> None:
        """Said once, at launch: a remembered view, and what this kind of experiment reset."""
        if self._restored:
            self.notify(printable(self._restored), timeout=6, markup=False)

    def supported(self, action: str) -> bool:
        """The session offers the control this key needs (else help and the palette leave the
        key out; pressed anyway, it says why it does nothing)."""
        need = NEEDS.get(action)
        return need is None or need in self.session.controls

    def offered(self, action: str) -> bool:
        """Shown in the key bar: supported, and of use for what is on screen now (no `w` for a
        TensorBoard log, which has no widths; no `b` without repeats to band)."""
        if not self.supported(action):
            return False
        if action in ("capacity", "capacity_at"):
            return self.session.metrics is None
        if action == "band":
            return bool(self.monitor.repeats)
        return True

    def not_here(self, action: str, why: str) -> None:
        """A key that does not apply says why, instead of doing nothing silently."""
        label = next((k.label for k in (*KEYS, *TAIL) if k.action == action), action)
        self.notify(f"{label}: {why}", severity="warning", markup=False)

    def view_changed(self) -> None:
        """A view setting changed: redraw at once and remember it for the next launch."""
        self.monitor.changed()
        self.refresh_now()
        problem = save_view(remember(load_view(), self.view_kind, self.monitor.settings))
        if problem:
            self.notify(problem, severity="warning", markup=False)

    def action_grid(self) -> None:
        self.monitor.settings.grid = not self.monitor.settings.grid
        self.view_changed()

    def action_metric(self) -> None:
        s = self.monitor.settings
        views = metric_views(self.session.has_val, self.session.metrics, self.session.task)
        at = views.index(s.metric) + 1 if s.metric in views else 0
        s.metric = views[at % len(views)]
        self.view_changed()

    def _no_widths(self, action: str) -> bool:
        """A TensorBoard log has no widths: the capacity keys say so and do nothing."""
        if self.monitor.settings.capacity or self.session.metrics is None:
            return False
        self.not_here(action, "a TensorBoard log has no widths: no metric against width")
        return True

    def action_capacity(self) -> None:
        s = self.monitor.settings
        if self._no_widths("capacity"):
            return
        s.capacity = not s.capacity
        self.view_changed()

    def action_capacity_at(self) -> None:
        s = self.monitor.settings
        if self._no_widths("capacity_at"):
            return
        s.capacity_at = CAPACITY_AT[(CAPACITY_AT.index(s.capacity_at) + 1) % len(CAPACITY_AT)]
        if not s.capacity:
            s.capacity = True
        self.view_changed()

    def action_zoom(self) -> None:
        s = self.monitor.settings
        s.zoom = (s.zoom + 1) % len(ZOOMS)
        self.view_changed()

    def action_band(self) -> None:
        s = self.monitor.settings
        if not self.monitor.repeats:
            self.not_here("band", "no width has repeats to band (--repeats N trains N seeds "
                          "of each width)")
            return
        now = s.band_for(self.monitor.repeats)
        s.band = BANDS[(BANDS.index(now) + 1) % len(BANDS)]
        self.view_changed()

    def action_smooth_more(self) -> None:
        self.monitor.settings.smoother(+1)
        self.view_changed()

    def action_smooth_less(self) -> None:
        self.monitor.settings.smoother(-1)
        self.view_changed()

    def action_reset_view(self) -> None:
        reset_view()
        self.monitor.settings = ViewSettings()
        self.monitor.tracks.clear()
        self.monitor.changed()
        self.refresh_now()
        self.notify("view reset to the defaults", markup=False)

    def _cursor_step(self) -> int:
        """One plot column's worth of epochs (at least one)."""
        mon = self.monitor
        span = mon.x_span if not mon.settings.capacity else None
        cols = max(10, self.plot.size.width - 8)
        if span is None:
            return max(1, round(mon.last_epoch() / cols))
        return max(1, round((span[1] - span[0]) / cols))

    def _cursor_bounds(self) -> tuple[int, int]:
        mon = self.monitor
        last = mon.last_epoch()
        window = mon.settings.window
        first = 1 if window is None or mon.settings.capacity else max(1, last - window + 1)
        return first, max(first, last)

    def _move_cursor(self, to: int | None) -> None:
        s = self.monitor.settings
        if to is not None:
            if not self.monitor.last_epoch():
                return
            first, last = self._cursor_bounds()
            to = min(max(to, first), last)
            s.x_mode = "epoch"  # the cursor is an epoch
        s.cursor = to
        self.monitor.changed()
        self.refresh_now()

    def action_cursor_back(self) -> None:
        s = self.monitor.settings
        at = s.cursor if s.cursor is not None else self._cursor_bounds()[1] + self._cursor_step()
        self._move_cursor(at - self._cursor_step())

    def action_cursor_forward(self) -> None:
        s = self.monitor.settings
        if s.cursor is None:
            self._move_cursor(self._cursor_bounds()[1])
        else:
            self._move_cursor(s.cursor + self._cursor_step())

    def action_cursor_first(self) -> None:
        self._move_cursor(self._cursor_bounds()[0])

    def action_cursor_live(self) -> None:
        if self.monitor.settings.cursor is not None:
            self._move_cursor(None)

    def action_log(self) -> None:
        self.monitor.settings.log = not self.monitor.scale.log  # explicit from now on
        self.view_changed()

    def action_robust(self) -> None:
        self.monitor.settings.robust = not self.monitor.scale.robust  # explicit from now on
        self.view_changed()

    def action_hide(self) -> None:
        width = self.selected_group()
        if width is None:
            return
        hidden = self.monitor.settings.hidden
        hidden.symmetric_difference_update({width})
        self.view_changed()

    def action_x_axis(self) -> None:
        s = self.monitor.settings
        if s.capacity:  # width, or the parameter count
            s.capacity_x = "parameters" if s.capacity_x == "width" else "width"
        else:
            s.x_mode = "seconds" if s.x_mode == "epoch" else "epoch"
        self.view_changed()

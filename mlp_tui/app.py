"""The Textual app: a thin layer that renders a session's state and maps keys to its controls.

Workers never touch widgets: they append to their histories, and a timer on the UI thread reads
what is new about 12 times a second and redraws once per tick.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from mlp_tui.config import ExperimentConfig, faster, slower
from mlp_tui.runner import Runner
from mlp_tui.series import SMOOTHING
from mlp_tui.session.base import Control, Unsupported
from mlp_tui.text import printable
from mlp_tui.view import Monitor, fmt_speed, overall_state
from mlp_tui.widgets.loss_plot import LossPlot
from mlp_tui.widgets.runs_table import RunsTable

TICK_S = 1 / 12
# At most this share of the UI thread goes to building the plot. Every millisecond the UI thread
# computes is one the training threads wait for the GIL: unthrottled, the TUI trained at 0.84x
# the headless engine's speed with 5%, 0.86x with 3% (medians of 4, interleaved), and the plot
# still redraws about 3 times a second at 160x45 (a build takes about 10 ms there).
PLOT_SHARE = 0.03
TABLE_S = 0.5  # the table's figures change at most this often (a key shows at once)
MIN_W, MIN_H = 60, 15
NARROW_W = 100
# The control each key needs: a session that lacks it hides the key (footer and palette).
NEEDS = {
    "toggle_all": Control.PAUSE,
    "toggle_one": Control.PAUSE,
    "restart_all": Control.RESTART,
    "restart_one": Control.RESTART,
    "faster": Control.SPEED,
    "slower": Control.SPEED,
    "settings": Control.CONFIGURE,
}


class MlpTuiApp(App[int]):
    """Live training monitor (or a replay of a recorded history)."""

    CSS_PATH = "app.tcss"
    TITLE = "mlp-tui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("p", "toggle_all", "Pause all"),
        Binding("space", "toggle_one", "Pause run"),
        Binding("r", "restart_all", "Restart"),
        Binding("R", "restart_one", "Restart run", key_display="R"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("e", "export", "Export"),
        Binding("q", "quit_app", "Quit"),
        Binding("ctrl+c", "quit_app", "Quit", show=False, priority=True),
        Binding("c", "settings", "Settings"),
        Binding("g", "grid", "Grid"),
        Binding("m", "metric", "Metric"),
        Binding("l", "log", "Log y"),
        Binding("s", "smooth", "Smooth"),
        Binding("o", "robust", "Outliers"),
        Binding("v", "hide", "Hide run"),
        Binding("x", "x_axis", "X axis"),
        Binding("h", "export_history", "History", show=False),
    ]

    def __init__(self, runner: Runner) -> None:
        super().__init__()
        self.runner = runner
        self.session = runner.session
        self.monitor = Monitor(self.session)
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.redraws = 0
        self._last_header: Text | None = None
        self._last_view = ""
        self._next_plot = self._next_table = 0.0

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.plot = LossPlot(id="plot")
        self.table = RunsTable(has_val=self.session.has_val, id="table")
        self.header = Static("", id="header")
        self.viewbar = Static("", id="viewbar")
        yield self.header
        yield self.viewbar
        with Container(id="main"):
            yield self.plot
            yield self.table
        yield Static(
            f"terminal too small\nmlp-tui needs at least {MIN_W}x{MIN_H}",
            id="too-small",
        )
        yield Footer()

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.runner.start()
        self._apply_size(self.size.width, self.size.height)
        self.set_interval(TICK_S, self.tick)
        self.table.focus()
        self.tick()
        if self.runner.signal is not None:  # it came while the app was starting
            self._finish()
        # Everything built so far lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall the UI thread for 0.1 to 0.3 s.
        gc.freeze()

    def signalled(self, _signum: int) -> None:
        """From the runner's signal handler (main thread, any moment): end like `q` soon."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._finish)

    @on(Resize)
    def _resized(self, event: Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        self.monitor.changed()
        small = width < MIN_W or height < MIN_H
        self.screen.set_class(small, "-too-small")
        self.query_one("#main").set_class(width < NARROW_W, "-narrow")

    # --- the tick: engine state -> widgets ---------------------------------------------------

    def tick(self) -> None:
        if self._stopping or not self.plot.is_attached:
            return
        mon = self.monitor
        with self.batch_update():
            plot = self.plot
            now = time.perf_counter()
            if mon.tick() and now >= self._next_plot:
                # One bucket per two cells, drawn as two points (its min and max).
                width = plot.size.width or int(self.size.width * 0.6)
                plot.show(mon.plot_spec(max_points=max(40, width)))
                self.redraws += 1
                # Keep plotting under PLOT_SHARE of the UI thread, whatever the machine.
                self._next_plot = now + max(TICK_S, plot.last_build_s / PLOT_SHARE)
            if now >= self._next_table or self.session.ended:  # final values show at once
                # Figures that change every tick are unreadable anyway: 4 updates a second.
                self._next_table = now + TABLE_S
                self.table.show_rows(mon.rows())
            self._update_header()
        message = self.runner.poll()
        if message:
            self.notify(message, timeout=6, markup=False)

    def _update_header(self) -> None:
        s = self.session
        parts = [] if s.kind == "live" else [s.kind]
        parts += s.describe()
        if s.speed is not None:
            parts.append(fmt_speed(s.speed))
        header = Text(printable(" · ".join(parts)))
        header.append(f"   {overall_state([r.status for r in s.runs]).upper()}", style="bold")
        problem = self.runner.problem
        if problem:
            header.append(f"   {printable(problem)}", style="red")
        if header != self._last_header:
            self._last_header = header
            self.header.update(header)
        view = self.monitor.settings.describe(s.has_val)
        if view != self._last_view:
            self._last_view = view
            self.viewbar.update(Text(view))

    # --- keys --------------------------------------------------------------------------------

    def _selected_width(self) -> int | None:
        key = self.table.selected_key
        return int(key) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys for controls the session lacks are hidden and do nothing."""
        need = NEEDS.get(action)
        return need is None or need in self.session.controls

    def _control(self, call, *args) -> bool:
        try:
            call(*args)
        except Unsupported as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return False
        return True

    def action_toggle_all(self) -> None:
        if self._control(self.session.toggle):
            self.refresh_now()

    def action_toggle_one(self) -> None:
        width = self._selected_width()
        if width is not None and self._control(self.session.toggle, width):
            self.refresh_now()

    def action_restart_all(self) -> None:
        if self._control(self.session.restart):
            self._view_changed()

    def action_restart_one(self) -> None:
        width = self._selected_width()
        if width is not None and self._control(self.session.restart, width):
            self._view_changed()

    def action_faster(self) -> None:
        if self._control(self.session.set_speed, faster(self.session.speed)):
            self._update_header()

    def action_slower(self) -> None:
        if self._control(self.session.set_speed, slower(self.session.speed)):
            self._update_header()

    def _view_changed(self) -> None:
        self.monitor.changed()
        self.refresh_now()

    def refresh_now(self) -> None:
        """Show a key's effect at once, skipping the redraw budget."""
        self._next_plot = self._next_table = 0.0
        self.tick()

    def action_grid(self) -> None:
        self.monitor.settings.grid = not self.monitor.settings.grid
        self._view_changed()

    def action_metric(self) -> None:
        s = self.monitor.settings
        metrics = s.metrics(self.session.has_val)
        s.metric = metrics[(metrics.index(s.metric) + 1) % len(metrics)]
        self._view_changed()

    def action_log(self) -> None:
        self.monitor.settings.log = not self.monitor.settings.log
        self._view_changed()

    def action_smooth(self) -> None:
        s = self.monitor.settings
        s.smoothing = (s.smoothing + 1) % len(SMOOTHING)
        self._view_changed()

    def action_robust(self) -> None:
        self.monitor.settings.robust = not self.monitor.settings.robust
        self._view_changed()

    def action_hide(self) -> None:
        width = self._selected_width()
        if width is None:
            return
        hidden = self.monitor.settings.hidden
        hidden.symmetric_difference_update({width})
        self._view_changed()

    def action_x_axis(self) -> None:
        s = self.monitor.settings
        s.x_mode = "seconds" if s.x_mode == "epoch" else "epoch"
        self._view_changed()

    def action_settings(self) -> None:
        cfg = self.session.config
        if cfg is None or not self.check_action("settings", ()):
            return
        from mlp_tui.widgets.settings_form import SettingsScreen

        def apply(cfg: ExperimentConfig | None) -> None:
            if cfg is None:
                return
            settings = self.monitor.settings
            self.session.reconfigure(cfg)
            self.monitor = Monitor(self.session)
            self.monitor.settings = settings
            settings.hidden.clear()
            if settings.metric.startswith("val") and cfg.val_split == 0:
                settings.metric = "train_loss"
            self.table.reset(has_val=cfg.val_split > 0)
            self.notify("restarted with the new settings")
            self.refresh_now()

        self.push_screen(SettingsScreen(cfg.with_changes(speed=self.session.speed)), apply)

    def action_export(self) -> None:
        try:
            message = self.runner.export_table()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.notify(f"export failed: {reason}; press e to retry", severity="error",
                        timeout=8, markup=False)
            return
        self.notify(message, timeout=6, markup=False)

    def action_export_history(self) -> None:
        try:
            message = self.runner.export_history()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            self.notify(f"history export failed: {reason}", severity="error", markup=False)
            return
        self.notify(message, timeout=6, markup=False)

    def action_quit_app(self) -> None:
        self._finish()

    def _finish(self) -> None:
        """Stop every run, save everything (the runner's policy), then leave."""
        if self._stopping:
            return
        self._stopping = True
        code = self.runner.finish()
        if self.runner.signal is not None:
            self.runner.arm_exit_watchdog(code)
        self.exit(return_code=code)

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        for b in self.BINDINGS:
            shown = isinstance(b, Binding) and b.action != "quit_app"
            if shown and self.check_action(b.action, ()):
                yield SystemCommand(
                    f"{b.description} ({b.key_display or b.key})",
                    f"Same as the {b.key_display or b.key} key",
                    getattr(self, f"action_{b.action}"),
                )


def run_app(runner: Runner) -> int:
    """Run the TUI over a runner's session; returns the exit status. Messages for the user
    (a file that could not be saved) go to stderr once the terminal is restored."""
    app = MlpTuiApp(runner)
    with runner.signals(app.signalled):
        try:
            app.run()
        finally:
            code = runner.finish()
    for message in runner.errors:
        sys.stderr.write(f"mlp-tui: error: {printable(message)}\n")
    return code

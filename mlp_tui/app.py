"""The Textual app: a thin layer that renders a session's state and maps keys to its controls.

Workers never touch widgets: they append to their histories, and a timer on the UI thread reads
what is new about 12 times a second and redraws once per tick.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from mlp_tui.config import ExperimentConfig
from mlp_tui.engine.series import SMOOTHING
from mlp_tui.engine.summary import history_rows
from mlp_tui.export import HISTORY_COLUMNS, format_history_rows, write_atomic
from mlp_tui.session import default_export_path, faster, slower
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
EXIT_GRACE_S = 2.0  # after a signal, the longest the terminal's restoration may take


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

    def __init__(self, session, title_note: str = "") -> None:
        super().__init__()
        self.session = session
        self.title_note = title_note
        self.monitor = self._new_monitor()
        self._stopping = False
        self.exit_note = ""
        self.pending_signals: list[int] = []  # caught before the loop's handlers (run_app)
        self.redraws = 0
        self._last_header = self._last_view = ""
        self._next_plot = self._next_table = 0.0
        self.status_message = ""

    def _new_monitor(self) -> Monitor:
        cfg = self.session.cfg
        return Monitor(self.session.runs, cfg.widths, cfg.epochs)

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
        if not self.session.started:
            self.session.start()
        self._apply_size(self.size.width, self.size.height)
        self.set_interval(TICK_S, self.tick)
        self._install_signal_handlers()
        self.table.focus()
        self.tick()
        # Everything built so far lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall the UI thread for 0.1 to 0.3 s.
        gc.freeze()

    def _install_signal_handlers(self) -> None:
        """SIGTERM, SIGHUP (a dropped SSH session) and SIGINT end the app like `q`, with status
        128 + signal, after the workers stopped, the history was flushed and (with --export) the
        final table was written."""
        try:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                loop.add_signal_handler(sig, self._on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass
        if self.pending_signals:  # it came while the app was starting: act on it now
            self._on_signal(self.pending_signals[0])

    def _on_signal(self, sig: int) -> None:
        self._finish(128 + int(sig))

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
            if now >= self._next_table or self.session.done:  # final values show at once
                # Figures that change every tick are unreadable anyway: 4 updates a second.
                self._next_table = now + TABLE_S
                self.table.show_rows(mon.rows())
            self._update_header()
        session = self.session
        if session.live and session.done and session.export_path and not session.auto_exported:
            session.auto_exported = True
            self._export_table()

    def _update_header(self) -> None:
        s = self.session
        cfg: ExperimentConfig = s.cfg
        state = overall_state([r.status for r in s.runs])
        mode = "" if s.live else ("replay (following) · " if s.following else "replay · ")
        parts = [
            f"{mode}{cfg.dataset}",
            f"depth {cfg.depth}",
            f"{cfg.optimizer} lr {cfg.lr:g}",
            f"{cfg.epochs} epochs",
        ]
        if s.has_val:
            parts.append(f"val split {cfg.val_split:g}" if s.live else "validation")
        if cfg.repeats > 1:
            parts.append(f"{cfg.repeats} seeds/width")
        if s.live:
            parts.append(fmt_speed(s.speed))
        header = " · ".join(parts) + f"   [b]{state.upper()}[/b]"
        if s.history_error:
            header += f"   [red]{s.history_error}[/red]"
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

    def _live_only(self) -> bool:
        if not self.session.live:
            self.notify("replay: the runs are recorded, not live", severity="warning")
            return False
        return True

    def action_toggle_all(self) -> None:
        if self._live_only():
            self.session.toggle()
            self.refresh_now()

    def action_toggle_one(self) -> None:
        width = self._selected_width()
        if width is not None and self._live_only():
            self.session.toggle(width)
            self.refresh_now()

    def action_restart_all(self) -> None:
        if self._live_only():
            self.session.restart()
            self._view_changed()

    def action_restart_one(self) -> None:
        width = self._selected_width()
        if width is not None and self._live_only():
            self.session.restart(width)
            self._view_changed()

    def action_faster(self) -> None:
        if self._live_only():
            self.session.set_speed(faster(self.session.speed))
            self._update_header()

    def action_slower(self) -> None:
        if self._live_only():
            self.session.set_speed(slower(self.session.speed))
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
        if not self._live_only():
            return
        from mlp_tui.widgets.settings_form import SettingsScreen

        def apply(cfg: ExperimentConfig | None) -> None:
            if cfg is None:
                return
            settings = self.monitor.settings
            self.session.reconfigure(cfg)
            self.monitor = self._new_monitor()
            self.monitor.settings = settings
            settings.hidden.clear()
            if settings.metric.startswith("val") and cfg.val_split == 0:
                settings.metric = "train_loss"
            self.table.reset(has_val=cfg.val_split > 0)
            self.notify("restarted with the new settings")
            self.refresh_now()

        self.push_screen(SettingsScreen(self.session.cfg), apply)

    def action_export(self) -> None:
        self._export_table()

    def _export_table(self) -> None:
        try:
            path = self.session.export_table()
        except OSError as exc:
            target = self.session.export_path or "the export file"
            self.notify(
                f"export failed: {target}: {exc.strerror or exc}; press e to retry",
                severity="error",
                timeout=8,
            )
            return
        self.status_message = f"exported {path}"
        self.notify(f"final table written to {path}", timeout=6)

    def action_export_history(self) -> None:
        path = default_export_path("history", ".csv")
        rows = [
            row for run in self.session.runs for row in history_rows(run, run.history, run.seed)
        ]
        try:
            write_atomic(path, ",".join(HISTORY_COLUMNS) + "\n" + format_history_rows(rows, "csv"))
        except OSError as exc:
            self.notify(f"history export failed: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"history written to {path}", timeout=6)

    def action_quit_app(self) -> None:
        self._finish(0)

    def _finish(self, code: int) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.session.stop()
        session = self.session
        if session.live and session.export_path and not session.auto_exported:
            try:  # quit or killed (a dropped SSH session) early: keep what was computed
                self.session.export_table()
            except OSError as exc:
                self.exit_note = f"--export {self.session.export_path}: {exc.strerror or exc}"
        if code:
            # A dropped SSH session leaves no terminal to restore, and Textual's writer can then
            # block for ever on it. Everything is saved by now: make sure the process ends.
            watchdog = threading.Timer(EXIT_GRACE_S, os._exit, args=(code,))
            watchdog.daemon = True
            watchdog.start()
        self.exit(return_code=code)

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        for b in self.BINDINGS:
            if isinstance(b, Binding) and b.action not in ("quit_app",):
                yield SystemCommand(
                    f"{b.description} ({b.key_display or b.key})",
                    f"Same as the {b.key_display or b.key} key",
                    getattr(self, f"action_{b.action}"),
                )


def run_app(cfg: ExperimentConfig, export: Path | None, history: Path | None) -> int:
    # Until on_mount hands them to the event loop, SIGTERM and SIGHUP are only noted: killed
    # outright, the process would leave the terminal in the alternate screen and raw mode.
    pending: list[int] = []
    handled = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, lambda n, _f: pending.append(n)) for s in handled}
    try:
        from mlp_tui.session import LiveSession

        session = LiveSession(cfg, export, history)
        if pending:
            session.stop()
            return 128 + pending[0]
        app = MlpTuiApp(session)
        app.pending_signals = pending
        try:
            code = app.run()
        finally:
            session.stop()
            session.experiment.finish()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if app.exit_note:
        sys.stderr.write(f"mlp-tui: error: {app.exit_note}\n")
    return app.return_code if app.return_code is not None else (code or 0)

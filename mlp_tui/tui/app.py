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
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Static

from mlp_tui.core.config import KEY_SPEED_MIN, ExperimentConfig, faster, slower
from mlp_tui.core.contract import Unsupported
from mlp_tui.core.settings import GROUP_STAT
from mlp_tui.core.text import printable, reason
from mlp_tui.persist.view_file import load_view
from mlp_tui.runner import Runner
from mlp_tui.tui.figure import preload as preload_figures
from mlp_tui.tui.terminal import screen_on_terminal
from mlp_tui.tui.view_keys import ViewKeyActions
from mlp_tui.tui.widgets.keys import KEYS, TAIL, HelpScreen, KeyBar, bindings
from mlp_tui.tui.widgets.loss_plot import LossPlot
from mlp_tui.tui.widgets.news import ALERT_TITLE, DONE_TITLE, News
from mlp_tui.tui.widgets.runs_table import RunsTable
from mlp_tui.view import Monitor
from mlp_tui.view.alerts import Alerts
from mlp_tui.view.fmt import fit_items
from mlp_tui.view.memory import experiment_kind, restore
from mlp_tui.view.readout import readout_text
from mlp_tui.view.settings import metric_views

TICK_S = 1 / 12
# At most this share of the UI thread goes to building the plot: every millisecond the UI thread
# computes is one the training threads wait for the GIL (TUI overhead, docs/benchmarks.md).
PLOT_SHARE = 0.03
FRAME_S = 0.25  # plot and table redraw at most this often (a key shows at once)
MIN_W, MIN_H = 60, 15
PLOT_MIN_W = 56  # the plot's least width beside the table (120 columns: the default run's
# table, reserved for its widest state, fits beside it from start to end)


class MlpTuiApp(ViewKeyActions, App[int]):
    """Live training monitor (or a replay of a recorded history)."""

    CSS_PATH = "app.tcss"
    TITLE = "mlp-tui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = bindings()

    def __init__(self, runner: Runner, quiet: bool = False) -> None:
        super().__init__()
        self.runner = runner
        self.session = runner.session
        self.quiet = quiet  # no bell on bad news
        self.view_kind = experiment_kind(self.session)  # the remembered view's key
        settings, self._restored = restore(load_view(), self.view_kind)
        self.monitor = Monitor(self.session, settings)
        self.alerts = Alerts()
        self._last_readout = ""
        self._stopping = False
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self.redraws = 0
        self._last_header: Text | None = None
        self._last_state = ""
        self._last_view = ""
        self._next_frame = 0.0
        self._plot_size = (0, 0)  # the plot's size when its spec was last sampled
        self._table_need = 0

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.plot = LossPlot(id="plot")
        cfg = self.session.config
        self.table = RunsTable(has_val=self.session.has_val, task=self.session.task,
                               early=bool(cfg is not None and cfg.early_stop), id="table")
        self.header = Static("", id="header")
        self.viewbar = Static("", id="viewbar")
        self.readout = Static("", id="readout")
        self.news = News(self.viewbar, id="news")
        yield self.header
        yield self.viewbar
        yield self.news
        yield self.readout
        with Container(id="main"):
            yield self.plot
            yield self.table
        yield Static(
            f"terminal too small\nmlp-tui needs at least {MIN_W}x{MIN_H}",
            id="too-small",
        )
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self._event_loop = asyncio.get_running_loop()
        start = self.runner.start  # a deferred session imports torch once this frame is up
        self.call_after_refresh(start) if self.session.loading else start()
        self.call_after_refresh(preload_figures)
        self._apply_size(self.size.width, self.size.height)
        self.set_interval(TICK_S, self.tick)
        self.table.focus()
        self.tick()
        self.tell_restored()
        self.app_resume_signal.subscribe(self, self._resumed)
        if self.runner.signal is not None:  # it came while the app was starting
            self._finish()
        # Everything built so far lives as long as the app: keep it out of the garbage
        # collector's full passes, which otherwise stall the UI thread (docs/benchmarks.md).
        gc.freeze()

    def _resumed(self, _app: App) -> None:
        """Back from ctrl+z / fg: the terminal was cleared meanwhile, so draw everything."""
        self._last_header, self._last_view = None, ""
        self.plot.show(self.plot.spec)
        for widget in self.screen.walk_children():
            widget.refresh()
        self.screen.refresh(layout=True)
        self.refresh_now()

    def signalled(self, _signum: int) -> None:
        """From the runner's signal handler (main thread, any moment): end like `q` soon."""
        if self._event_loop is not None:  # set on mount; before it, on_mount sees the signal
            self._event_loop.call_soon_threadsafe(self._finish)

    @on(Resize)
    def _resized(self, event: Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        if self._stopping or self._event_loop is None:  # not mounted yet, or on the way out
            return
        self.monitor.changed()
        small = width < MIN_W or height < MIN_H
        self.screen.set_class(small, "-too-small")
        self._layout(width)

    def _layout(self, width: int) -> None:
        """Side by side only when the plot and the whole table both fit; else stacked, with
        the table showing the columns that fit whole (never a cut column)."""
        self.monitor.changed()  # the plot's width changes: sample it again
        table = self.table
        need = table.needed()
        wide = width - need >= PLOT_MIN_W
        self.query_one("#main").set_class(not wide, "-narrow")
        if wide:
            table.styles.width = need
            table.fit(need)
        else:
            table.styles.width = "1fr"
            table.fit(width)
        self._table_need = table.needed()

    # --- the tick: engine state -> widgets ---------------------------------------------------

    def tick(self) -> None:
        if self._stopping or not self.plot.is_attached:
            return
        mon = self.monitor
        focus = self.table.cursor_row
        if focus != mon.focus:
            mon.focus = focus
            mon.changed()
        now = time.perf_counter()
        size = (self.plot.size.width, self.plot.size.height)
        if size != self._plot_size and all(size):  # laid out anew: sample at the new size now
            self._plot_size = size
            mon.changed()
            self._next_frame = 0.0
        if now < self._next_frame:
            self._update_header()
        else:
            # The plot and the table show the same moment: they are redrawn together, at most
            # every FRAME_S and within PLOT_SHARE of the UI thread (a key redraws at once).
            with self.batch_update():
                plot = self.plot
                if mon.tick():
                    # One bucket per two cells, drawn as two points (its min and max).
                    width = plot.size.width or int(self.size.width * 0.6)
                    rows = plot.size.height or self.size.height // 2
                    plot.show(mon.plot_spec(max_points=max(40, width), rows=rows))
                    self.redraws += 1
                self._show_rows()
                self._update_header()
            self._next_frame = now + max(FRAME_S, plot.last_build_s / PLOT_SHARE)
        message = self.runner.poll()
        if message:
            self.notify(message, timeout=6, markup=False)
        self._alert()

    def _alert(self) -> None:
        """A run ended or turned bad: the rows first (news never contradicts a row), then the
        words; only bad news rings (unless --quiet)."""
        news = self.alerts.update(self.session.runs, time.monotonic())
        if news:
            self._show_rows()
        for line, bad in news:  # lines of plain words, the labels escaped (view.alerts)
            self.notify(line, title=ALERT_TITLE if bad else DONE_TITLE, timeout=8 if bad else 4,
                        severity="error" if bad else "information", markup=False)
        if any(bad for _line, bad in news) and not self.quiet:
            self.bell()

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Told in the news lines, which the layout makes room for (never over a value)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        if not self._disable_notifications:  # run_test(notifications=False): snapshots show none
            self.news.tell(message, title, severity, timeout)

    def _update_header(self) -> None:
        """The state first (it must never be cut off), then what is running, then a fault."""
        state, parts = self.monitor.header_facts()
        if state != self._last_state:  # the table shows the same moment as the header word:
            self._last_state = state  # never ENDED above a row still reading running
            self._show_rows()
            self.query_one(KeyBar).refresh()  # `p pause` or `p resume`, as pressing it does
        header = Text(state.upper(), style="bold")
        problem = self.runner.problem
        room = self.size.width - 2 - len(state) - 2 - (len(problem) + 2 if problem else 0)
        header.append("  " + fit_items([printable(p) for p in parts], room,
                                       first=lambda p: p.startswith(GROUP_STAT)))
        if problem:
            header.append(f"  {printable(problem)}", style="bold red")
        if header != self._last_header:
            self._last_header = header
            self.header.update(header)
        mon = self.monitor
        view = mon.settings.describe(mon.scale, mon.has_val, mon.repeats, self.session.x_name,
                                     self.session.task)
        view = fit_items(view.split("  "), self.size.width - 2, "  ")  # whole items only
        if view != self._last_view:
            self._last_view = view
            self.viewbar.update(Text(view))
        cursor = mon.settings.cursor
        readout = "" if cursor is None else readout_text(mon, cursor)
        if readout != self._last_readout:
            self._last_readout = readout
            self.readout.update(Text(printable(readout)))
            self.readout.set_class(bool(readout), "-on")

    # --- keys --------------------------------------------------------------------------------

    def selected_group(self) -> int | str | None:
        """The group under the cursor: a width, or in a grid the configuration's name."""
        key = self.table.selected_key
        if key is None:
            return None
        return int(key) if key.isdigit() else key

    def _control(self, action: str, call, *args) -> bool:
        try:
            call(*args)
        except Unsupported as exc:  # `pause: these runs are a recording...`; loading: as is
            if self.session.loading:
                self.notify(str(exc), severity="warning", markup=False)
            else:
                self.not_here(action, str(exc))
            return False
        return True

    def action_toggle_all(self) -> None:
        if self._control("toggle_all", self.session.toggle):
            self.refresh_state()

    def action_toggle_one(self) -> None:
        width = self.selected_group()
        if width is not None and self._control("toggle_one", self.session.toggle, width):
            self.refresh_state()

    def action_restart_all(self) -> None:
        if self._control("restart_all", self.session.restart):
            self.view_changed()

    def action_restart_one(self) -> None:
        width = self.selected_group()
        if width is not None and self._control("restart_one", self.session.restart, width):
            self.view_changed()

    def action_faster(self) -> None:
        if self._control("faster", self.session.set_speed, faster(self.session.speed)):
            self._update_header()

    def action_slower(self) -> None:
        if 0 < (self.session.speed or 0) <= KEY_SPEED_MIN:  # said, not silently ignored
            return self.not_here("slower", f"already the slowest pace, {KEY_SPEED_MIN:g} ep/s")
        if self._control("slower", self.session.set_speed, slower(self.session.speed)):
            self._update_header()

    def refresh_state(self) -> None:
        """A pause or resume at once in the header and the table; the plot waits for its next
        frame (its build takes tens of milliseconds), as it shows no status."""
        self._show_rows()
        self._update_header()

    def _show_rows(self) -> None:
        self.table.show_rows(self.monitor.rows())
        if self.table.needed() != self._table_need:  # a column grew: lay out again
            self._layout(self.size.width)

    def refresh_now(self) -> None:
        """Show a key's effect at once, skipping the redraw budget."""
        self._next_frame = 0.0
        self.tick()

    def action_settings(self) -> None:
        cfg = self.session.config
        if cfg is None or not self.supported("settings"):
            self.not_here("settings", f"a {self.session.kind} session has no experiment to edit "
                          "(settings edit a live run's)")
            return
        if self.session.loading:  # no runs to reconfigure yet
            return self.notify("still loading torch and the data: a moment", markup=False)
        from mlp_tui.tui.widgets.settings_form import SettingsScreen

        def apply(cfg: ExperimentConfig | None) -> None:
            if cfg is None:
                return
            settings = self.monitor.settings
            self.session.reconfigure(cfg)
            self.monitor = Monitor(self.session, settings)
            self.view_kind = experiment_kind(self.session)  # a new shape saves as its own kind
            settings.hidden.clear()
            settings.cursor = None
            if settings.metric not in metric_views(cfg.val_split > 0, task=cfg.kind):
                settings.metric = "loss"
            self.table.reset(has_val=cfg.val_split > 0, task=cfg.kind, early=bool(cfg.early_stop))
            self._table_need = 0  # lay out again once the new rows are in
            self.notify("restarted with the new settings")
            self.refresh_now()

        self.push_screen(SettingsScreen(cfg.with_changes(speed=self.session.speed)), apply)

    def action_export(self) -> None:
        try:
            message = self.runner.export_table()
        except (OSError, ValueError) as exc:
            self.notify(f"export failed: {reason(exc)}; press e to retry", severity="error",
                        timeout=8, markup=False)
            return
        self.notify(message, timeout=6, markup=False)

    def action_export_history(self) -> None:
        try:
            message = self.runner.export_history()
        except (OSError, ValueError) as exc:
            self.notify(f"history export failed: {reason(exc)}", severity="error", markup=False)
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

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        for k in (*KEYS, *TAIL):
            if k.action != "quit_app" and self.supported(k.action):
                yield SystemCommand(
                    f"{k.label} ({k.shown})", k.help, getattr(self, f"action_{k.action}")
                )


def run_app(runner: Runner, quiet: bool = False) -> int:
    """Run the TUI over a runner's session; returns the exit status. Messages for the user
    (a file that could not be saved) go to stderr once the terminal is restored."""
    app = MlpTuiApp(runner, quiet=quiet)
    with runner.signals(app.signalled), screen_on_terminal():
        try:
            app.run()
        finally:
            code = runner.finish()
    if app.return_code and not code:  # the app itself failed (Textual printed why)
        code = app.return_code
    for message in runner.errors:
        sys.stderr.write(f"mlp-tui: error: {printable(message)}\n")
    runner.say_summary(sys.stderr)
    return code

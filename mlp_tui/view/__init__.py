"""Session state -> what the screen shows (pure: no Textual). See `monitor.Monitor`."""

from mlp_tui.view.fmt import fmt_ago, fmt_num, fmt_rate, fmt_speed
from mlp_tui.view.monitor import MAX_PLOTTED, Monitor
from mlp_tui.view.plotspec import Bar, Mark, PlotSeries, PlotSpec
from mlp_tui.view.rows import ALL_ENDED, RowState, overall_state, run_color
from mlp_tui.view.settings import Scale, ViewSettings, auto_scale

__all__ = [
    "ALL_ENDED", "MAX_PLOTTED", "Bar", "Mark", "Monitor", "PlotSeries", "PlotSpec", "RowState",
    "Scale", "ViewSettings", "auto_scale", "fmt_ago", "fmt_num", "fmt_rate", "fmt_speed",
    "overall_state", "run_color",
]

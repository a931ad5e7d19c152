"""The settings form (key `c`): edit the experiment without leaving the screen. Its fields are
the settings declared with a form label (core/settings.py), read and checked by the same
declarations as the command line; applying restarts every run."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from mlp_tui.core.config import ConfigError, ExperimentConfig
from mlp_tui.core.settings import FORM_SETTINGS, GRID, Setting
from mlp_tui.core.values import Choice

LABELS = {s.name: s.form for s in FORM_SETTINGS}  # the settings with a form label, in order


def parse_form(values: dict[str, str], base: ExperimentConfig) -> ExperimentConfig:
    """The form's text values -> a validated config; raises ConfigError naming the field."""
    changes = {s.name: s.parse(values[s.name]) for s in FORM_SETTINGS}
    return base.with_changes(**changes, seeds=())  # a new configuration starts from --seed again


def form_values(cfg: ExperimentConfig) -> dict[str, str]:
    return {s.name: s.text(getattr(cfg, s.name)) for s in FORM_SETTINGS}


def _options(setting: Setting) -> list[tuple[str, str]]:
    """A choice's options; for a grid setting, all of them together as the last (a grid)."""
    assert isinstance(setting.domain, Choice)
    choices = setting.domain.choices
    together = (",".join(choices),) if setting.shape == GRID else ()
    return [(o, o) for o in (*choices, *together)]


class SettingsScreen(ModalScreen[ExperimentConfig | None]):
    """Returns the new config on Apply, None on Cancel/Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    #form {
        width: 60; height: auto; max-height: 100%; overflow-y: auto;
        padding: 0 1; border: thick $primary; background: $surface;
    }
    #fields { grid-size: 2; grid-columns: 22 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    #fields Input.-invalid { background: $error 30%; }
    #error { color: $error; height: auto; min-height: 1; }
    #buttons { height: 1; align-horizontal: right; margin-top: 1; }
    """

    def __init__(self, cfg: ExperimentConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.showing_error = False

    def compose(self) -> ComposeResult:
        values = form_values(self.cfg)
        with Vertical(id="form"):
            yield Static("[b]Settings[/b]  (apply restarts every run)")
            with Grid(id="fields"):
                for s in FORM_SETTINGS:  # a choice is picked from a list, the rest are typed
                    yield Label(s.form)
                    if isinstance(s.domain, Choice):
                        yield Select(_options(s), value=values[s.name], allow_blank=False,
                                     id=f"f-{s.name}", compact=True)
                    else:
                        yield Input(values[s.name], id=f"f-{s.name}", compact=True)
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def values(self) -> dict[str, str]:
        return {s.name: str(self.query_one(f"#f-{s.name}").value) for s in FORM_SETTINGS}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.action_cancel()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_apply()

    def _check(self) -> ExperimentConfig | None:
        """Validate the form; show the first problem by its field's label, or clear it."""
        error = self.query_one("#error", Static)
        try:
            cfg = parse_form(self.values(), self.cfg)
        except ConfigError as exc:
            name = exc.flag.lstrip("-").replace("-", "_")
            label = LABELS.get(name, name.replace("_", " "))
            error.update(Text(f"{label}: {exc.problem}"))
            for widget in self.query(Input):
                widget.set_class(widget.id == f"f-{name}", "-invalid")
            self.showing_error = True
            return None
        self.showing_error = False
        error.update("")
        for widget in self.query(Input):
            widget.remove_class("-invalid")
        return cfg

    def on_input_changed(self, _event: Input.Changed) -> None:
        if self.showing_error:  # recheck as they type, so a fixed value clears its error
            self._check()

    def action_apply(self) -> None:
        cfg = self._check()
        if cfg is not None:
            self.dismiss(cfg)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The settings form (key `c`): edit the experiment without leaving the screen. Values are
checked by the same functions as the command line; applying restarts every run."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from mlp_tui.core.config import (
    MAX_EPOCHS,
    OPTIMIZERS,
    ConfigError,
    ExperimentConfig,
    parse_float,
    parse_int,
    parse_widths,
)
from mlp_tui.core.grid import parse_grid

FIELDS = (
    ("widths", "--widths", "widths"),
    ("depth", "--depth", "depth"),
    ("epochs", "--epochs", "epochs"),
    ("lr", "--lr", "learning rate"),
    ("val_split", "--val-split", "val split"),
    ("speed", "--speed", "speed (ep/s, 0 = max)"),
)


LABELS = {name: label for name, _flag, label in FIELDS}


def parse_form(values: dict[str, str], base: ExperimentConfig) -> ExperimentConfig:
    """The form's text values -> a validated config; raises ConfigError naming the field."""
    cfg = base.with_changes(
        widths=parse_widths(values["widths"]),
        depth=parse_grid("depth", values["depth"]),
        epochs=parse_int("--epochs", values["epochs"], 1, MAX_EPOCHS),
        lr=parse_grid("lr", values["lr"]),
        optimizer=parse_grid("optimizer", values["optimizer"]),
        val_split=parse_float("--val-split", values["val_split"]),
        speed=parse_float("--speed", values["speed"]),
        seeds=(),  # a new configuration starts from --seed again
    )
    return cfg


def form_values(cfg: ExperimentConfig) -> dict[str, str]:
    return {
        "widths": ",".join(str(w) for w in cfg.widths),
        "depth": ",".join(str(d) for d in cfg.values("depth")),
        "epochs": str(cfg.epochs),
        "lr": ",".join(f"{lr:g}" for lr in cfg.values("lr")),
        "optimizer": ",".join(cfg.values("optimizer")),
        "val_split": f"{cfg.val_split:g}",
        "speed": f"{cfg.speed:g}",
    }


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
                for name, _flag, label in FIELDS[:4]:
                    yield Label(label)
                    yield Input(values[name], id=f"f-{name}", compact=True)
                yield Label("optimizer")
                yield Select(
                    [(o, o) for o in (*OPTIMIZERS, ",".join(OPTIMIZERS))],  # both: a grid
                    value=values["optimizer"],
                    allow_blank=False,
                    id="f-optimizer",
                    compact=True,
                )
                for name, _flag, label in FIELDS[4:]:
                    yield Label(label)
                    yield Input(values[name], id=f"f-{name}", compact=True)
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def values(self) -> dict[str, str]:
        out = {name: self.query_one(f"#f-{name}", Input).value for name, _f, _l in FIELDS}
        out["optimizer"] = str(self.query_one("#f-optimizer", Select).value)
        return out

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

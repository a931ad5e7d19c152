"""View settings: the metric views derived from the schema, smoothing stops, the saved form
(a bad file never breaks a launch), the remembered-view file, alerts and the overfitting note."""

from __future__ import annotations

import json

import pytest

from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import Health, Status
from mlp_tui.persist.view_file import load_view, reset_view, save_view, view_path
from mlp_tui.view.alerts import BATCH_S, GATHER_S, Alerts
from mlp_tui.view.rows import OVERFIT_PATIENCE, overfit_since
from mlp_tui.view.settings import (
    SMOOTHING_STEPS,
    ViewSettings,
    metric_views,
    series_metrics,
)


def test_metric_views_pair_train_with_validation():
    instruments = ("grad_norm", "weight_norm", "sharpness")
    assert metric_views(True) == ("loss", "acc", "train_loss", "train_acc", "val_loss",
                                  "val_acc", *instruments)
    assert metric_views(False) == ("loss", "acc", *instruments)
    assert series_metrics("loss", True) == ("train_loss", "val_loss")
    assert series_metrics("loss", False) == ("train_loss",)
    assert series_metrics("val_acc", True) == ("val_acc",)


def test_smoothing_steps_from_0_to_0999_and_back():
    s = ViewSettings()
    seen = []
    for _ in range(len(SMOOTHING_STEPS) + 2):
        s.smoother(+1)
        seen.append(s.smoothing)
    assert seen[-3:] == [0.999, 0.999, 0.999] and seen[0] == 0.1
    for _ in range(len(SMOOTHING_STEPS) + 2):
        s.smoother(-1)
    assert s.smoothing == 0.0


def test_saved_settings_round_trip_and_the_cursor_is_not_saved():
    s = ViewSettings(metric="acc", log=True, smoothing=0.95, robust=False, x_mode="seconds",
                     grid=True, hidden={5, 100}, zoom=2, band="seeds", capacity=True,
                     capacity_at="best", cursor=40)
    data = json.loads(json.dumps(s.to_dict()))
    back = ViewSettings.from_dict(data)
    assert back == ViewSettings(**{**s.__dict__, "cursor": None})


@pytest.mark.parametrize("data", [
    None, [], "x", {"metric": "nonsense"}, {"zoom": 99}, {"smoothing": 0.42}, {"log": "yes"},
    {"hidden": ["5"]}, {"hidden": 5}, {"band": 1}, {"grid": 1}, {"zoom": True},
])
def test_a_bad_saved_value_keeps_its_default(data):
    assert ViewSettings.from_dict(data) == ViewSettings()


def test_view_file_lives_in_the_xdg_config_home(config_home):
    assert view_path() == config_home / "mlp-tui" / "view.json"
    assert load_view() == {}
    assert save_view({"metric": "acc"}) is None
    assert load_view() == {"metric": "acc"}
    view_path().write_text("{not json")
    assert load_view() == {}
    reset_view()
    assert not view_path().exists()
    reset_view()  # twice is fine


def test_an_unwritable_config_dir_is_one_line(config_home):
    (config_home / "mlp-tui").write_text("a file where the folder should be")
    problem = save_view({"metric": "acc"})
    assert problem and problem.startswith("view settings not saved: ") and "\n" not in problem


class FakeRun:
    def __init__(self, index: int, label: str) -> None:
        self.index, self.label = index, label
        self.history = object()
        self.status, self.health = Status.RUNNING, Health.OK

    def __len__(self) -> int:
        return 0


def test_alerts_first_sight_is_the_baseline_bad_news_at_once_finishes_batched():
    runs = [FakeRun(i, f"w={w}") for i, w in enumerate((5, 100, 1000))]
    runs[2].status = Status.FINISHED
    for r in runs:
        r.history = []
    alerts = Alerts()
    assert alerts.update(runs, 0.0) == []  # a finished run seen first: not news
    runs[0].health = Health.STALLED
    assert alerts.update(runs, 0.1) == []  # held a moment for news that comes with it
    told = [("w=5: loss flat for 50 epochs, far from a solution", True)]
    assert alerts.update(runs, 0.1 + GATHER_S) == told
    assert alerts.update(runs, 0.2 + GATHER_S) == []  # told once
    runs[1].status = Status.FINISHED
    assert alerts.update(runs, 0.3 + GATHER_S) == [("w=100 finished", False)]
    runs[0].history = []  # a restart: a new life is a new baseline
    runs[0].status = Status.DIVERGED
    assert alerts.update(runs, 4.0) == []
    runs[0].status = Status.RUNNING
    alerts.update(runs, 4.1)
    runs[0].status = Status.DIVERGED
    assert alerts.update(runs, 4.2) == [  # every run has ended: told at once
        ("w=5: the loss became NaN or infinite (diverged) at epoch 0", True)]


def test_bad_news_that_comes_together_is_one_notification_in_plain_words():
    """A grid's runs turning bad within a moment of each other: one toast, one run a line."""
    runs = [FakeRun(i, f"w=5 d=2 lr=0.0{i}") for i in range(1, 7)]
    for r in runs:
        r.history = []
    alerts = Alerts()
    alerts.update(runs, 0.0)
    runs[0].health = Health.CHANCE
    assert alerts.update(runs, 1.0) == []
    for r in runs[1:]:
        r.health = Health.CHANCE
    assert alerts.update(runs, 1.2) == []
    told = alerts.update(runs, 1.0 + GATHER_S)
    assert len(told) == 1 and told[0][1]
    lines = told[0][0].split("\n")
    assert lines[0] == "w=5 d=2 lr=0.01: accuracy at chance for 50 epochs"
    assert lines[1:4] == [f"w=5 d=2 lr=0.0{i}: accuracy at chance for 50 epochs"
                          for i in (2, 3, 4)]
    assert lines[4] == "and 2 more"
    assert "looks" not in told[0][0]


def test_a_label_is_escaped_and_only_runs_are_split_into_lines():
    """A label is data (a replayed file names its runs): its control bytes, a line break
    among them, are shown escaped; the one real line break is between two runs' news."""
    runs = [FakeRun(0, "w=5\x1b[2J\nspoof"), FakeRun(1, "w=100")]
    for r in runs:
        r.history = []
    alerts = Alerts()
    alerts.update(runs, 0.0)
    runs[0].health = runs[1].health = Health.STALLED
    assert alerts.update(runs, 0.1) == []  # gathered
    ((line, bad),) = alerts.update(runs, 0.1 + GATHER_S)
    assert bad
    assert line.split("\n") == [
        "w=5\\x1b[2J\\x0aspoof: loss flat for 50 epochs, far from a solution",
        "w=100: loss flat for 50 epochs, far from a solution",
    ]


def test_finishes_within_the_batch_window_are_told_together():
    runs = [FakeRun(i, f"w={i}") for i in range(12)]
    for r in runs:
        r.history = []
    alerts = Alerts()
    alerts.update(runs, 0.0)
    runs[0].status = Status.FINISHED
    assert alerts.update(runs, 10.0) == [("w=0 finished", False)]
    for r in runs[1:6]:
        r.status = Status.FINISHED
    assert alerts.update(runs, 10.0 + BATCH_S / 2) == []  # gathered
    for r in runs[6:]:
        r.status = Status.FINISHED
    line, bad = alerts.update(runs, 10.0 + BATCH_S / 2 + 0.1)[0]  # the last run: at once
    assert line == "w=1; w=2; w=3; w=4 and 7 more finished: all runs ended" and not bad


class Curve:
    """A run whose validation loss follows `val` (train loss keeps falling)."""

    def __init__(self, val: list[float]) -> None:
        self.history = RunHistory(0, 0, has_val=True)
        for i, v in enumerate(val):
            row = {"epoch": i + 1, "train_loss": 1.0 / (i + 1), "train_acc": 0.5,
                   "val_loss": v, "val_acc": 0.5, "elapsed_s": float(i)}
            self.history.append(row, Status.RUNNING, Health.OK)


def test_overfitting_is_named_from_the_best_validation_epoch():
    falling = [1.0 - 0.01 * i for i in range(60)]
    assert overfit_since(Curve(falling)) is None
    turned = falling[:30] + [falling[29] + 0.01 * i for i in range(1, 41)]  # best at epoch 30
    assert overfit_since(Curve(turned)) == 30
    # not yet sustained: fewer than OVERFIT_PATIENCE epochs since the best
    assert overfit_since(Curve(turned[: 30 + OVERFIT_PATIENCE - 1])) is None
    # a plateau within OVERFIT_RISE of the best is not overfitting
    flat = falling[:30] + [falling[29] * 1.01] * 40
    assert overfit_since(Curve(flat)) is None

"""The final table (`persist/table.py`) of summaries (`summary.py`) taken from real runs: CSV and
JSON keep every digit, JSON has null for a non-finite value, Markdown rounds to 4 significant
digits; every setting is a column; files are replaced atomically and never a named pipe."""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import threading
from pathlib import Path

import pytest
from disks import FsizeDisk
from helpers import WAIT_S, wait_until

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.core.task import CLASSIFICATION
from mlp_tui.persist import files
from mlp_tui.persist.files import FileRefused, unique_path
from mlp_tui.persist.table import read_table, render_table, write_table
from mlp_tui.report.summary import summarize
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.live import LiveSession

TABLE_COLUMNS = CLASSIFICATION.table_columns

# Non-default settings, so a column that ignored the config would show.
SETTINGS = dict(
    widths=(5, 100),
    epochs=40,
    val_split=0.25,
    standardize=True,
    batch_size=30,
    threads=1,
    device="cpu",
)
DIVERGING = dict(widths=(5,), depth=4, lr=1e4, epochs=200)


def _finished(**cfg) -> Runner:
    runner = Runner(LiveSession(validate(ExperimentConfig(speed=0, **cfg))), Outputs())
    runner.start()
    assert wait_until(lambda: runner.session.ended, timeout=60), "runs did not end"
    return runner


@pytest.fixture(scope="module")
def runs():
    """Summaries of finished runs with a validation split, then of one that diverged: trained
    once for the module, as every test here only reads them (and writes tables of them)."""
    good, bad = _finished(**SETTINGS), _finished(**DIVERGING)
    try:
        rows = good.summaries() + bad.summaries()
        assert [r["status"] for r in rows] == [Status.FINISHED, Status.FINISHED, Status.DIVERGED]
        assert math.isnan(rows[-1]["final_train_loss"])
        yield good, bad, rows
    finally:
        good.finish()
        bad.finish()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and (type(a) is type(b) or isinstance(a, str) and isinstance(b, str))


def test_summaries_state_what_the_histories_hold(runs):
    good, bad, _ = runs
    for run in [*good.session.runs, *bad.session.runs]:
        row = summarize(run)
        assert list(row) == list(TABLE_COLUMNS)
        cols = run.history.read()
        assert row["epochs_done"] == len(cols) > 0
        for m in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert _same(row[f"final_{m}"], cols[m][-1]), m
        finite = [(v, i + 1) for i, v in enumerate(cols["train_loss"]) if math.isfinite(v)]
        best = min(finite, key=lambda p: p[0])  # min keeps the first of equal values
        assert (row["best_train_loss"], row["best_train_loss_epoch"]) == best
        assert row["seconds"] == cols["elapsed_s"][-1]
        assert row["status"] is run.status and row["health"] is run.health
    diverged = summarize(bad.session.runs[0])
    assert diverged["epochs_done"] < DIVERGING["epochs"]
    assert diverged["best_val_loss"] is None and diverged["final_val_loss"] is None


def test_every_setting_is_a_column(runs, tmp_path):
    good, _, rows = runs
    back = {}
    for fmt in ("csv", "json", "md"):
        path = write_table(tmp_path / f"t.{fmt}", rows[:2])
        back[fmt] = read_table(path)
        assert [list(r) for r in back[fmt]] == [list(TABLE_COLUMNS)] * 2
    for run, row in zip(good.session.runs, back["csv"]):
        assert row["batch_size"] == 30 and row["val_split"] == 0.25
        assert row["standardize"] is True and row["threads"] == 1 and row["device"] == "cpu"
        assert row["epochs"] == 40 and row["epochs_done"] == 40 and row["width"] == run.width
        val = run.history.read()["val_loss"]
        best = min(val)
        assert row["best_val_loss"] == best
        assert row["best_val_loss_epoch"] == val.index(best) + 1
    for fmt in ("json", "md"):
        for row in back[fmt]:
            assert (row["batch_size"], row["val_split"], row["standardize"]) == (30, 0.25, True)
            assert (row["threads"], row["device"], row["epochs"]) == (1, "cpu", 40)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_keep_every_digit(runs, tmp_path, fmt):
    *_, rows = runs
    path = tmp_path / f"final.{fmt}"
    assert write_table(path, rows) == path
    back = read_table(path)
    assert len(back) == len(rows)
    for got, want in zip(back, rows):
        for c in TABLE_COLUMNS:
            w = want[c]
            if fmt == "json" and isinstance(w, float) and not math.isfinite(w):
                w = None  # JSON's null
            assert _same(got[c], w), (c, got[c], w)
    # Real losses need more than 4 significant digits: a rounding writer would fail above.
    assert any(len(repr(r["final_train_loss"])) > 8 for r in rows[:2])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_json_writes_non_finite_values_as_null(runs, tmp_path):
    *_, rows = runs
    rows = [*rows, {**rows[0], "final_train_loss": math.inf, "best_val_loss": -math.inf}]
    text = render_table(rows, "json")

    def no_constants(name: str) -> None:
        pytest.fail(f"JSON has {name}")

    payload = json.loads(text, parse_constant=no_constants)
    assert payload[2]["final_train_loss"] is None  # the diverged run's NaN
    assert payload[3]["final_train_loss"] is None and payload[3]["best_val_loss"] is None
    assert payload[2]["status"] == "diverged" and payload[0]["health"] == str(rows[0]["health"])
    csv_back = read_table(write_table(tmp_path / "t.csv", rows))  # CSV spells them out
    assert math.isnan(csv_back[2]["final_train_loss"])
    assert csv_back[3]["final_train_loss"] == math.inf
    assert csv_back[3]["best_val_loss"] == -math.inf


def test_markdown_rounds_to_four_significant_digits(runs, tmp_path):
    *_, rows = runs
    lines = render_table(rows, "md").splitlines()
    assert lines[0] == "| " + " | ".join(TABLE_COLUMNS) + " |"
    assert lines[1] == "|" + "---|" * len(TABLE_COLUMNS)
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    assert len(cells) == len(rows)
    rounded = 0
    for row, shown in zip(rows, cells):
        for c, text in zip(TABLE_COLUMNS, shown):
            v = row[c]
            if isinstance(v, float) and math.isfinite(v):
                assert text == f"{v:.4g}", (c, text, v)
                digits = text.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
                assert len(digits) <= 4
                rounded += float(text) != v
    assert rounded > 0  # real losses really were rounded
    back = read_table(write_table(tmp_path / "t.md", rows))
    assert back[0]["final_train_loss"] == float(f"{rows[0]['final_train_loss']:.4g}")
    assert back[0]["width"] == rows[0]["width"] and back[0]["standardize"] is True
    assert math.isnan(back[2]["final_train_loss"]) and back[2]["status"] == "diverged"


def test_unknown_formats_are_refused(runs, tmp_path):
    *_, rows = runs
    with pytest.raises(ValueError):
        render_table(rows, "xlsx")
    with pytest.raises(ValueError):
        write_table(tmp_path / "final.txt", rows)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_an_existing_files_mode(runs, tmp_path):
    *_, rows = runs
    path = tmp_path / "final.csv"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    write_table(path, rows)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == render_table(rows, "csv")
    assert [p.name for p in tmp_path.iterdir()] == ["final.csv"]


def test_a_named_pipe_is_refused_without_blocking(runs, tmp_path):
    *_, rows = runs
    fifo = tmp_path / "final.csv"
    os.mkfifo(fifo)
    box: dict[str, BaseException] = {}

    def attempt() -> None:
        try:
            write_table(fifo, rows)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(WAIT_S)
    assert not t.is_alive(), "writing to a named pipe blocked"
    assert isinstance(box.get("error"), FileRefused), box
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the pipe, not replaced
    assert [p.name for p in tmp_path.iterdir()] == ["final.csv"]


def test_two_exports_in_one_second_get_two_names(runs, tmp_path, monkeypatch):
    good, *_ = runs
    monkeypatch.setattr(files, "_clock", lambda: 1_795_000_000.0)  # one frozen second
    a = unique_path(tmp_path, "mlp-tui-results", ".csv")
    b = unique_path(tmp_path, "mlp-tui-results", ".csv")
    assert a != b and a.exists() and b.exists()
    monkeypatch.chdir(tmp_path)
    first, second = good.export_table(), good.export_table()  # the `e` key, twice
    written = sorted(set(tmp_path.glob("*.csv")) - {a, b})
    assert len(written) == 2, (first, second)
    assert all(p.with_name(p.stem + ".config.toml").exists() for p in written)  # each its config
    assert {p.name for p in written} == {Path(m.split()[-1]).name for m in (first, second)}
    for path in written:
        assert read_table(path) == read_table(write_table(tmp_path / "ref.csv", good.summaries()))


def test_the_final_export_on_a_full_disk_fails_whole_and_e_writes_it_later(runs, tmp_path):
    """A real full disk (a file-size limit, EFBIG): `--export` at the end fails as a whole and
    says so once; the old file stays, no temp file is left; with room again, `e` writes it."""
    good, _, rows = runs
    target = tmp_path / "final.csv"
    target.write_text("old\n")
    runner = Runner(good.session, Outputs(export=target))  # every run has ended
    disk = FsizeDisk(tmp_path, room_pages=0)
    try:
        told = runner.poll()
        assert runner.poll() is None  # said once, not at every tick
    finally:
        disk.close()
    reason = f"--export {target}: {os.strerror(errno.EFBIG)}"
    assert told == f"export failed: {reason}" and runner.errors == [reason]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["final.csv"]
    assert runner.export_table() == f"final table written to {target}"
    assert read_table(target) == read_table(write_table(tmp_path / "ref.csv", rows[:2]))


def _seed_row(repeat: int, seed: int, **values: float) -> dict[str, object]:
    row: dict[str, object] = {c: None for c in TABLE_COLUMNS}
    row.update(width=5, depth=1, lr=0.1, repeat=repeat, seed=seed, epochs_done=1, epochs=1,
               status="finished", health="ok", seconds=0.0, **values)
    return row


def test_mean_std_over_seeds_is_the_sample_std_and_says_so():
    """#23: 0.7667 and 0.6667 pool as 0.7167 ± 0.071 (n - 1, as pandas), not ± 0.05; a single
    seed claims no spread; the Markdown and headless tables name the figure."""
    from mlp_tui.faces.headless import text_table
    from mlp_tui.persist.table import pooled_rows

    rows = [_seed_row(0, 0, final_train_loss=0.7667), _seed_row(1, 1, final_train_loss=0.6667)]
    assert pooled_rows(rows)[0]["final_train_loss"] == "0.7167 ± 0.071"
    assert pooled_rows(rows[:1])[0]["final_train_loss"] == "0.7667"
    assert "Mean ± sample std over seeds" in render_table(rows, "md")
    assert "mean ± sample std over seeds" in text_table(rows)


def test_the_config_beside_an_export_reproduces_the_rows_after_restarts_and_speed_keys(tmp_path):
    """#23: after a restart of one width and a speed key, the `.config.toml` beside the export
    says each run's own seed and the speed in use, and `--config` of it trains the same rows."""
    from mlp_tui.cli.args import parse_args
    from mlp_tui.persist.table import read_table

    first = Runner(LiveSession(validate(ExperimentConfig(widths=(5, 7), epochs=30, speed=50))),
                   Outputs(export=tmp_path / "a.csv"))
    try:
        first.start()
        first.session.restart(5)  # width 5 takes its next seed: 1
        first.session.set_speed(0)  # what `+` past the top does
        assert wait_until(lambda: first.session.ended, timeout=60)
        first.poll()
    finally:
        first.finish()
    toml = (tmp_path / "a.config.toml").read_text()
    assert "seeds = [1, 0]\n" in toml and "\nspeed = 0\n" in toml and "\nseed = 0\n" in toml
    cfg = parse_args(["--config", str(tmp_path / "a.config.toml")]).config
    again = Runner(LiveSession(cfg), Outputs(export=tmp_path / "b.csv"))
    try:
        again.start()
        assert wait_until(lambda: again.session.ended, timeout=60)
        again.poll()
    finally:
        again.finish()
    a, b = read_table(tmp_path / "a.csv"), read_table(tmp_path / "b.csv")
    assert [r["seed"] for r in a] == [r["seed"] for r in b] == [1, 0]
    assert [r["final_train_loss"] for r in a] == [r["final_train_loss"] for r in b]
    assert "seeds" not in (tmp_path / "b.config.toml").read_text().replace("seeds = [1, 0]", "")

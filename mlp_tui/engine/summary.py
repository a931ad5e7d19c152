"""Final-table rows, from a live run or from replayed history rows, through one code path so that
a replay reproduces the live export exactly."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlp_tui.engine.history import RUNNING, RunHistory
from mlp_tui.engine.trainer import Run
from mlp_tui.export import RunSummary


def best_of(losses: Sequence[float]) -> tuple[float | None, int | None]:
    """Lowest finite loss and its 1-based epoch (the first, on ties)."""
    best, at = math.inf, 0
    for i, v in enumerate(losses):
        if v < best:
            best, at = v, i + 1
    return (best, at) if at else (None, None)


def run_meta(run: Run) -> dict[str, object]:
    cfg = run.cfg
    return {
        "run": run.index,
        "dataset": cfg.dataset,
        "width": run.width,
        "depth": cfg.depth,
        "repeat": run.repeat,
        "seed": run.seed,
        "optimizer": cfg.optimizer,
        "lr": cfg.lr,
    }


def history_rows(
    run: Run, history: RunHistory, seed: int, start: int = 0
) -> list[dict[str, object]]:
    """Long-format history rows (one per epoch) of one life of a run, from epoch start + 1."""
    cols = history.read(start)
    meta = run_meta(run)
    meta["seed"] = seed
    rows = []
    for i in range(len(cols)):
        rec = cols.record(i)
        rows.append(
            {
                **meta,
                "epoch": rec.epoch,
                "train_loss": rec.train_loss,
                "train_acc": rec.train_acc,
                "val_loss": rec.val_loss,
                "val_acc": rec.val_acc,
                "elapsed_s": rec.elapsed_s,
                "status": rec.status,
            }
        )
    return rows


def make_summary(
    meta: dict[str, object],
    epochs: int,
    last: dict[str, object] | None,
    best: tuple[float | None, int | None],
    status: str,
) -> RunSummary:
    def val(key: str):
        return None if last is None else last.get(key)

    return RunSummary(
        run=int(meta["run"]),
        dataset=str(meta["dataset"]),
        width=int(meta["width"]),
        depth=int(meta["depth"]),
        repeat=int(meta["repeat"]),
        seed=int(meta["seed"]),
        optimizer=str(meta["optimizer"]),
        lr=float(meta["lr"]),
        epochs=epochs,
        final_train_loss=val("train_loss"),
        best_train_loss=best[0],
        best_epoch=best[1],
        final_train_acc=val("train_acc"),
        final_val_loss=val("val_loss"),
        final_val_acc=val("val_acc"),
        status=status,
        seconds=float(val("elapsed_s") or 0.0),
    )


def summarize_run(run: Run) -> RunSummary:
    """The run's row as of now."""
    history = run.history
    last = history.last()
    row = None
    if last is not None:
        row = {
            "train_loss": last.train_loss,
            "train_acc": last.train_acc,
            "val_loss": last.val_loss,
            "val_acc": last.val_acc,
            "elapsed_s": last.elapsed_s,
        }
    best = (history.best_loss, history.best_epoch) if history.best_epoch else (None, None)
    epochs = last.epoch if last is not None else 0
    return make_summary(run_meta(run), epochs, row, best, run.status)


def summarize_rows(rows: Sequence[dict[str, object]]) -> RunSummary:
    """The row of one replayed run life: its history rows in epoch order."""
    last = rows[-1]
    status = str(last.get("status") or RUNNING)
    if status == RUNNING:
        status = "stopped"  # the recording ended while the run was still training
    best = best_of([float(r["train_loss"]) for r in rows])
    return make_summary(last, int(last["epoch"]), last, best, status)

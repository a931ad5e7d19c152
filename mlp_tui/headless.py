"""Headless mode: the same engine with no TUI. Progress lines on stderr when it is a terminal,
the final table on stdout, exports written at the end (or on SIGINT/SIGTERM/SIGHUP)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mlp_tui.config import ExperimentConfig
from mlp_tui.engine.recorder import HistoryRecorder
from mlp_tui.engine.summary import summarize_run
from mlp_tui.engine.trainer import Experiment
from mlp_tui.export import RunSummary, write_table

HANDLED_SIGNALS = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None
)


def text_table(rows: Sequence[RunSummary]) -> str:
    """An aligned plain-text table for people reading stdout."""
    has_val = any(r.final_val_loss is not None for r in rows)
    head = ["width", "seed", "epochs", "final loss", "best loss", "best ep", "acc"]
    if has_val:
        head += ["val loss", "val acc"]
    head += ["status", "seconds"]

    def f(v: float | None, spec: str = ".4f") -> str:
        return "-" if v is None else format(v, spec)

    body = []
    for r in rows:
        cells = [
            str(r.width) if r.repeat == 0 else f"{r.width}#{r.repeat}",
            str(r.seed),
            str(r.epochs),
            f(r.final_train_loss),
            f(r.best_train_loss),
            "-" if r.best_epoch is None else str(r.best_epoch),
            f(r.final_train_acc, ".3f"),
        ]
        if has_val:
            cells += [f(r.final_val_loss), f(r.final_val_acc, ".3f")]
        cells += [r.status, f"{r.seconds:.2f}"]
        body.append(cells)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(lines) + "\n"


class _Progress:
    """One line per run on a terminal, redrawn in place."""

    def __init__(self, stream: TextIO, experiment: Experiment) -> None:
        self.stream = stream
        self.experiment = experiment
        self.drawn = 0

    def draw(self) -> None:
        total = self.experiment.cfg.epochs
        lines = []
        for run in self.experiment.runs:
            last = run.history.last()
            loss = f"{last.train_loss:.4f}" if last else "-"
            lines.append(
                f"{run.label:>12}  {len(run.history):>{len(str(total))}}/{total}  "
                f"loss {loss:>8}  {run.status:<8}  {run.epochs_per_s:8.0f} ep/s"
            )
        out = ("\x1b[F" * self.drawn) + "".join(f"\x1b[2K{ln}\n" for ln in lines)
        self.stream.write(out)
        self.stream.flush()
        self.drawn = len(lines)


def run_headless(
    cfg: ExperimentConfig,
    export: Path | None = None,
    history: Path | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Train to the end (or to a signal); returns the exit status (128 + signal number)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    experiment = Experiment(cfg, keep_retired=history is not None)
    recorder = HistoryRecorder(experiment, history) if history else None
    got: list[int] = []
    wake = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        got.append(signum)
        wake.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for s in HANDLED_SIGNALS:
            previous[s] = signal.signal(s, on_signal)
    progress = _Progress(stderr, experiment) if stderr.isatty() else None
    try:
        experiment.start()
        if recorder:
            recorder.start()
        while not experiment.done and not got:
            wake.wait(0.2)
            if progress:
                progress.draw()
        experiment.stop()
        if progress:
            progress.draw()
    finally:
        experiment.stop()
        if recorder:
            recorder.close()
        for s, h in previous.items():
            signal.signal(s, h)
    rows = [summarize_run(r) for r in experiment.runs]
    status = 0
    if recorder and recorder.error:
        stderr.write(f"mlp-tui: error: {recorder.error}\n")
        status = 1
    for run in experiment.runs:
        if run.error:
            stderr.write(f"mlp-tui: {run.label} failed: {run.error}\n")
            status = 1
    try:
        stdout.write(text_table(rows))
        stdout.flush()
    except BrokenPipeError:
        pass
    if export:
        try:
            write_table(export, rows)
        except OSError as exc:
            stderr.write(f"mlp-tui: error: --export {export}: {exc.strerror or exc}\n")
            status = 1
    experiment.finish()  # no worker may be left inside torch when the interpreter exits
    if got:
        return 128 + got[0]
    return status

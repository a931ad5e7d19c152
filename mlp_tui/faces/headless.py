"""The text face: no TUI. Progress lines on stderr when it is a terminal, the final table on
stdout after every file is written. Drives the same Session through the same Runner as the app."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from mlp_tui.core.config import GRID_FIELDS
from mlp_tui.core.task import Task, task_of_columns
from mlp_tui.core.text import printable, reason
from mlp_tui.persist.table import pooled_rows
from mlp_tui.report.stats import STD_LABEL
from mlp_tui.report.summary import RunSummary
from mlp_tui.runner import Runner
from mlp_tui.view import fmt_num, fmt_rate

POLL_S = 0.2


def _columns(task: Task, has_val: bool) -> tuple[dict[str, str], dict[str, str]]:
    """(summary column -> header, -> number format) of the task's metrics: the loss final and
    best, each other metric's final; with validation the same and the monitor's best."""
    loss = task.metric("loss").short
    others = [m for m in task.metrics if m.key != "loss"]
    head = {"final_train_loss": f"final {loss}", "best_train_loss": f"best {loss}",
            "best_train_loss_epoch": "best ep"}
    head |= {f"final_train_{m.key}": m.short for m in others}
    if has_val:
        monitor = task.metric(task.monitor)
        best = "best val" + ("" if monitor.key == "loss" else f" {monitor.short}")
        head |= {"final_val_loss": f"val {loss}"}
        head |= {f"final_val_{m.key}": f"val {m.short}" for m in others}
        head |= {f"best_val_{task.monitor}": best, f"best_val_{task.monitor}_epoch": "val ep"}
    fmt = {f"final_{s}_{m.key}": m.fmt for s in ("train", "val") for m in others if m.fmt}
    fmt |= {c: "d" for c in head if c.endswith("_epoch")}
    return head, fmt


def text_table(rows: Sequence[RunSummary]) -> str:
    """An aligned plain-text table for people reading stdout, one line per run."""
    task = task_of_columns(rows[0] if rows else ())
    has_val = any(r["final_val_loss"] is not None for r in rows)
    axes = _varying(rows)
    columns, fmt = _columns(task, has_val)
    head = ["width", *axes, "seed", "epochs", *columns.values(), "status", "health", "seconds"]
    body = []
    for r in rows:
        cells = [
            str(r["width"]) if not r["repeat"] else f"{r['width']}#{r['repeat']}",
            *(f"{r[a]:g}" if isinstance(r[a], float) else str(r[a]) for a in axes),
            str(r["seed"]),
            f"{r['epochs_done']}/{r['epochs']}",
            *(fmt_num(r[c], fmt.get(c, ".4f")) for c in columns),
            str(r["status"]), str(r["health"]), f"{r['seconds']:.2f}",
        ]
        body.append([printable(c) for c in cells])
    text = _aligned(head, body)
    if any(r["repeat"] for r in rows):
        text += f"\nmean ± {STD_LABEL} over seeds:\n" + _pooled_table(rows, has_val, task)
    return text


def tag_table(runs, metrics: Sequence[str]) -> str:
    """A log's runs: the last step and each tag's last value (blank where a run lacks it)."""
    head = ["run", "points", "last step", *(printable(m) for m in metrics)]
    body = []
    for r in runs:
        last = [r.history.tail(m, 1) for m in metrics]
        step = r.history.last_step()
        body.append([printable(r.label), str(len(r.history)), "-" if step is None else str(step),
                     *(fmt_num(v[0]) if v else "" for v in last)])
    return _aligned(head, body)


def _varying(rows: Sequence[RunSummary]) -> tuple[str, ...]:
    """The grid settings that differ between the runs (the columns a grid adds)."""
    return tuple(f for f in GRID_FIELDS if len({repr(r[f]) for r in rows}) > 1)


def _aligned(head: list[str], body: list[list[str]]) -> str:
    widths = [max([len(h), *(len(b[i]) for b in body)]) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(lines) + "\n"


def _pooled_table(rows: Sequence[RunSummary], has_val: bool, task: Task) -> str:
    """One line per configuration: the seeds' final (and best validation) values pooled."""
    columns = {c: h for c, h in _columns(task, has_val)[0].items()
               if c.startswith("final_") or c == f"best_val_{task.monitor}"}
    keys = ("width", *dict.fromkeys(("depth", *_varying(rows))), "runs")
    head = [*keys, *columns.values()]
    body = [
        [printable(str(p[k])) for k in keys]
        + [printable(str(p[c] or "-")) for c in columns]
        for p in pooled_rows(rows)
    ]
    return _aligned(head, body)


class Progress:
    """One line per run on a terminal, redrawn in place."""

    def __init__(self, stream: TextIO, runner: Runner) -> None:
        self.stream = stream
        self.runner = runner
        self.drawn = 0

    def draw(self) -> None:
        lines = []
        for run in self.runner.session.runs:
            last = run.history.last()
            loss = fmt_num(None if last is None else last["train_loss"])
            total = "?" if run.total is None else run.total  # a log: no planned count
            lines.append(
                f"{printable(run.label):>12}  {len(run.history):>{len(str(total))}}/{total}  "
                f"loss {loss:>8}  {run.status.value:<8}  {run.health.value:<9}  "
                f"{fmt_rate(run.epochs_per_s):>10}"
            )
        problem = self.runner.problem
        if problem:
            lines.append(printable(problem))
        out = ("\x1b[F" * self.drawn) + "".join(f"\x1b[2K{ln}\n" for ln in lines)
        self.stream.write(out)
        self.stream.flush()
        self.drawn = len(lines)


def run_headless(runner: Runner, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the session to its end (or to a signal); files first, then the table on stdout.
    Returns the exit status."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    wake = threading.Event()
    progress = Progress(stderr, runner) if _isatty(stderr) else None
    reported: set[str] = set()

    def warn() -> None:
        problem = runner.problem
        if problem and progress is None and problem not in reported:
            reported.add(problem)  # said while it happens, not only at the end
            stderr.write(f"mlp-tui: warning: {printable(problem)}\n")

    with runner.signals(lambda _signum: wake.set()):
        runner.start()
        while not runner.session.ended and runner.signal is None:
            wake.wait(POLL_S)
            warn()
            if progress:
                progress.draw()
        warn()  # a session that ended at once (a replay) may have one too: a damaged file
        code = runner.finish()
    if progress:
        progress.draw()
    for message in runner.errors:
        stderr.write(f"mlp-tui: error: {printable(message)}\n")
    metrics = runner.session.metrics  # a session's own (TensorBoard tags)
    try:
        if metrics is not None:
            stdout.write(tag_table(runner.session.runs, metrics))
        else:
            stdout.write(text_table(runner.summaries()))
        stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:  # stdout on a full disk: the files are already written
        stderr.write(f"mlp-tui: error: standard output: {reason(exc)}\n")
        code = code or 1
    runner.say_summary(stderr)  # last: what a person reads when the prompt returns
    return code


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

"""`train()` and `monitor()`: the command line's session and runner, driven from Python.

The keywords become the CLI's `Invocation` (`options.py`), `cli.start.start_runner` builds the
same session on the same backend, and the result is read from the runner once every run has
ended: what a `--history` file and an `--export` table would hold, as DataFrames.
"""

from __future__ import annotations

import sys
import threading
import warnings
from pathlib import Path

from mlp_tui.api.frames import frame, history_frame, require_pandas
from mlp_tui.api.options import SettingError, invocation
from mlp_tui.api.result import TrainResult
from mlp_tui.cli.args import Invocation
from mlp_tui.cli.start import start_runner
from mlp_tui.core.config import ConfigError
from mlp_tui.core.schema import Status
from mlp_tui.core.text import reason
from mlp_tui.faces.progress import ProgressBars, output_for
from mlp_tui.runner import Runner

POLL_S = 0.2  # how often the progress lines are redrawn and the end is looked for
UNTHROTTLED = 0.0  # train()'s pace unless `speed=` says otherwise: no one is watching a plot


def train(*, progress: bool = True, **settings: object) -> TrainResult:
    """Train the runs the keywords describe, to their end, and return them as DataFrames.

    Keywords: every run setting by its Python name (`widths=[5, 100]`, `epochs=50`,
    `val_split=0.2`, `task="regression"`, a grid axis as a list: `lr=[0.1, 0.01]`) and the
    session's options (`backend`, `workers`, `history`, `export`, `tensorboard`, `config`...).
    A bad one raises SettingError with the command line's words, before anything trains.
    Interrupting (Ctrl-C, a notebook's stop button) stops the runs and returns what was
    computed, with `interrupted` set."""
    inv = invocation(settings, speed=UNTHROTTLED, watched=False)
    require_pandas()
    runner = _runner(inv, defer=False)
    return collect(runner, _drive(runner, _bars(runner, progress)))


def monitor(**settings: object) -> TrainResult:
    """Open the TUI on the runs the keywords describe (the same keywords as `train`, paced as
    the command line paces them unless `speed=` is given) and return the same result as
    `train` when the user quits. Needs a terminal: in a notebook, use `train`."""
    inv = invocation(settings)
    require_pandas()
    if not _terminal():
        raise RuntimeError("monitor() needs a terminal (stdin and stdout); in a notebook, "
                           "use mlp_tui.train()")
    from mlp_tui.tui.app import run_app

    runner = _runner(inv, defer=True)  # the app draws before torch loads
    run_app(runner, quiet=inv.face.quiet)
    cut = any(r.status is Status.STOPPED for r in runner.session.runs)  # quit before the end
    return collect(runner, interrupted=cut)


def _bars(runner: Runner, progress: bool) -> ProgressBars | None:
    """The progress lines, where there is somewhere to redraw them (a terminal, a notebook)."""
    show = output_for() if progress else None
    return None if show is None else ProgressBars(runner.session, show)


def _terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _runner(inv: Invocation, defer: bool) -> Runner:
    """The session and its runner; a problem the CLI would print in one line is raised as a
    SettingError with that line (a file refused, a data file unreadable)."""
    from mlp_tui.persist.codec import HistoryFormatError
    from mlp_tui.persist.files import FileRefused

    try:
        return start_runner(inv, defer=defer)
    except ConfigError as exc:
        problem = str(exc)
    except FileRefused as exc:
        problem = f"--history: {exc}"
    except HistoryFormatError as exc:
        problem = f"FILE: {exc}"
    except OSError as exc:
        problem = f"{exc.filename or ''}: {reason(exc)}".lstrip(": ")
    raise SettingError(problem)


def _drive(runner: Runner, bars: ProgressBars | None) -> bool:
    """Run the session to its end; True when a KeyboardInterrupt stopped it first. Every run
    is stopped and every file closed before this returns (or raises)."""
    wake = threading.Event()
    interrupted = False
    try:
        runner.start()
        while not runner.session.ended:
            wake.wait(POLL_S)
            runner.poll()
            if bars is not None:
                bars.draw()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runner.finish()
    if bars is not None:
        bars.draw()
    return interrupted


def collect(runner: Runner, interrupted: bool) -> TrainResult:
    """The runs as they are now, as frames; each error is also a warning (said, not only kept)."""
    session = runner.session
    task = session.task
    lives = tuple(session.lives())
    for message in runner.errors:
        warnings.warn(f"mlp-tui: {message}", RuntimeWarning, stacklevel=3)
    return TrainResult(
        history=history_frame(lives, task),
        final=frame(runner.summaries(), task.table_columns),
        config=runner.effective_config(),
        interrupted=interrupted,
        errors=tuple(runner.errors),
        task=task,
        lives=lives,
        models=_saved(runner),
    )


def _saved(runner: Runner) -> tuple[Path, ...]:
    """The weights files `--save-models` wrote, in the order of the lives."""
    models = runner.models
    if models is None:
        return ()
    return tuple(p for paths in models.saved.values() for p in paths)

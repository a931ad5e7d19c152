"""Engine runs hosted in a process of their own (a Ray actor, a worker process), driven by plain
method calls.

The host trains with the very `Run` and `Worker` the thread backend uses (same kernel, same
thread count, same slices), so the numbers are bit-identical and every control keeps its meaning.
The driver asks for epoch batches with `poll`; the rows travel exactly as stored (`RunHistory.raw`).
Nothing here imports Ray: the session wraps this class in `ray.remote` where Ray is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.engine.run import Run


@dataclass(frozen=True)
class Batch:
    """What one `poll` returns: the current life's new rows and the run's state."""

    serial: int  # the life the rows belong to (a restart starts another)
    seed: int
    start: int  # index of the first row in `cols`
    cols: dict[str, list]
    status_codes: list[int]
    health_codes: list[int]
    status: str  # schema.Status value
    health: str  # schema.Health value
    epochs_per_s: float | None
    error: str | None
    device: str
    tail: tuple[dict[str, list], list[int], list[int]] | None = None  # the asked life's last
    # rows, when a restart retired it since the previous poll


def batch(run: Run, serial: int, start: int) -> Batch:
    """Rows of the run's current life from `start` (from 0 when `serial` is not the current
    life's), with the state read before the rows so an ended status never outruns them."""
    retired, life, status = run.snapshot()
    health, rate, error = run.health, run.epochs_per_s, run.error
    first = start if life.serial == serial else 0
    cols, codes, health_codes = life.history.raw(first)
    old = next((lf for lf in retired if lf.serial == serial), None)
    return Batch(
        life.serial, life.seed, first, cols, codes, health_codes, status.value,
        health.value, rate, error, run.device,
        None if old is None else old.history.raw(start),
    )


class UnitHost:
    """One unit of work in a process of its own (a worker process, a Ray actor): one run, or
    with `--stack` the runs of one stack, trained by one `engine.worker.Worker`, each control
    naming its run by index; the first life's seed comes from the driver (a run re-hosted after
    a restart goes on with its next seed).
    `members` are (index, width, repeat, seed) of runs that share `cfg` (and, stacked, width);
    `arrays` (engine.data.Arrays) spare the process scikit-learn's import and any data file."""

    def __init__(
        self, cfg: ExperimentConfig, members: list[tuple[int, int, int, int]], arrays=None
    ) -> None:
        from mlp_tui.engine.baton import Baton
        from mlp_tui.engine.data import load_dataset
        from mlp_tui.engine.step import configure_threads, resolve_device
        from mlp_tui.engine.worker import Worker

        device = resolve_device(cfg.device)
        configure_threads(cfg.threads)
        data, baton = load_dataset(cfg, device, arrays), Baton()
        # The driver's seed: a run re-hosted after a restart goes on with its next one.
        runs = [Run(i, width, repeat, cfg, data, baton, device, seed=seed)
                for i, width, repeat, seed in members]
        self.runs = {run.index: run for run in runs}
        self.unit = Worker(runs)
        if not cfg.stack and len(runs) > 1:
            raise ValueError("only a stack hosts more than one run")
        for run in runs:
            run.set_requeue(self._restarted)

    def _restarted(self, _run: Run) -> None:
        self.unit.start()  # a restart after the unit ended: this process trains it again

    def start(self) -> None:
        self.unit.start()

    def pause(self, index: int) -> None:
        self.runs[index].pause()
        self.runs[index].settle()  # the last epochs are in the history when the driver polls

    def resume(self, index: int) -> None:
        self.runs[index].resume()

    def restart(self, index: int) -> None:
        self.runs[index].restart()

    def set_speed(self, index: int, speed: float) -> None:
        self.runs[index].set_speed(speed)

    def stop(self, timeout: float = 5.0) -> bool:
        for run in self.runs.values():
            run.stop()
        return all(run.join(timeout) for run in self.runs.values())

    def poll(self, index: int, serial: int, start: int) -> Batch:
        return batch(self.runs[index], serial, start)

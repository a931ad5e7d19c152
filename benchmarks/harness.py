"""Shared pieces of the benchmarks: results, interleaved timing, synthetic histories, probes.

The machine is noisy (2 cores shared with other tenants), so no figure is one timing: every figure
is a ratio against a baseline measured in the same invocation, alternating (ABAB...) over several
repetitions, and the median is reported.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import HEALTH_CODE, STATUS_CODE, Health, Status
from mlp_tui.core.task import CLASSIFICATION, Task
from mlp_tui.engine.step import FLUSH_MAX

HERE = Path(__file__).resolve().parent
N_TRAIN = 150  # iris: accuracies are stored as counts out of this


@dataclass(frozen=True)
class Result:
    """One row of the final table."""

    figure: str
    measured: float
    target: float
    unit: str  # "x", "s", "ms" or "MB"
    higher_is_better: bool = False
    detail: str = ""

    @property
    def passed(self) -> bool:
        if not math.isfinite(self.measured):
            return False
        if self.higher_is_better:
            return self.measured >= self.target
        return self.measured <= self.target

    def fmt(self, value: float) -> str:
        if self.unit == "x":
            return f"{value:.3f}x"
        if self.unit == "ms":
            return f"{value:.1f} ms"
        if self.unit == "s":
            return f"{value:.3f} s"
        return f"{value:.1f} {self.unit}"

    @property
    def target_text(self) -> str:
        return (">= " if self.higher_is_better else "<= ") + self.fmt(self.target)


@dataclass
class Samples:
    """Timings of several alternatives, collected in alternation."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def ratio(self, num: str, den: str) -> float:
        """Median of the per-repetition ratios num/den (pairs ran back to back)."""
        return statistics.median(a / b for a, b in zip(self.times[num], self.times[den]))

    def difference(self, a: str, b: str) -> float:
        """Median of the per-repetition differences a - b."""
        return statistics.median(x - y for x, y in zip(self.times[a], self.times[b]))

    def describe(self, *names: str) -> str:
        """Each alternative's median and every sample, in seconds."""
        return "; ".join(
            f"{n} median {self.median(n):.3f} s [{', '.join(f'{t:.3f}' for t in self.times[n])}]"
            for n in names
        )


def interleave(alternatives: dict[str, Callable[[], float]], reps: int) -> Samples:
    """Run every alternative once per repetition, in turn (ABAB...); each returns seconds."""
    samples = Samples({name: [] for name in alternatives})
    for _ in range(reps):
        for name, measure in alternatives.items():
            samples.times[name].append(measure())
    return samples


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- synthetic histories ---------------------------------------------------------------------


def fill_history(epochs: int, seed: int = 0, val: bool = False) -> RunHistory:
    """A RunHistory of `epochs` synthetic epochs: a decaying, slightly noisy loss (and a
    validation loss that turns up, with `val`), written in batches of the engine's read-back
    size (step.FLUSH_MAX), as a live run writes it."""
    history = RunHistory(N_TRAIN, N_TRAIN if val else 0)
    running, ok = STATUS_CODE[Status.RUNNING], HEALTH_CODE[Health.OK]
    for start in range(0, epochs, FLUSH_MAX):
        ks = range(start, min(epochs, start + FLUSH_MAX))
        cols = {
            "train_loss": [
                1.0 / (1.0 + 1e-4 * k) + ((k * 7919 + seed * 104729) % 1000) / 1e5 for k in ks
            ],
            "train_acc": [100 + k % 50 for k in ks],
            "elapsed_s": [k * 1e-4 for k in ks],
        }
        if val:
            cols["val_loss"] = [0.5 + abs(k - epochs / 3) / epochs + (k * 31 % 97) / 1e4
                                for k in ks]
            cols["val_acc"] = [90 + k % 40 for k in ks]
        history.extend(cols, [running] * len(ks), [ok] * len(ks))
    return history


@dataclass
class FakeRun:
    """What the Monitor needs of a run (core.contract.RunView), over a prepared history."""

    index: int
    width: int
    history: RunHistory
    total: int
    repeat: int = 0
    seed: int = 0
    epochs_per_s: float | None = None
    status: Status = Status.RUNNING
    health: Health = Health.OK
    error: str | None = None
    name: str = ""

    @property
    def label(self) -> str:
        return f"w={self.width}"

    @property
    def meta(self) -> dict[str, object]:
        return {"run": self.index, "width": self.width, "repeat": self.repeat, "seed": self.seed,
                "depth": 1}


@dataclass
class FakeSession:
    """What the Monitor reads of a session: its runs and their widths."""

    runs: list[FakeRun]
    has_val: bool = False
    metrics: tuple[str, ...] | None = None
    x_name: str = "epoch"
    task: Task = CLASSIFICATION
    config: None = None  # a recording: no live configuration (no capacity thresholds)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(r.width for r in self.runs)


def fake_grid(epochs: int, widths: Sequence[int], seeds: int) -> FakeSession:
    """widths x seeds runs with validation curves, each `epochs` epochs long."""
    runs = [
        FakeRun(i * seeds + r, w, fill_history(epochs, seed=i * seeds + r, val=True), epochs,
                repeat=r, seed=r)
        for i, w in enumerate(widths)
        for r in range(seeds)
    ]
    return FakeSession(runs, has_val=True)


def fake_session(epochs: int, widths: Sequence[int] = (5, 100, 1000)) -> FakeSession:
    """One run per width, each a full synthetic history of `epochs` epochs."""
    return FakeSession(
        [FakeRun(i, w, fill_history(epochs, seed=i), epochs) for i, w in enumerate(widths)]
    )


# --- processes -------------------------------------------------------------------------------


def rss_mb(field_name: str = "VmRSS") -> float:
    """This process's resident set size (or VmHWM, its peak) in MB, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def wall_time(cmd: Sequence[str], timeout: float = 60.0) -> float:
    """Seconds from spawning `cmd` to its exit; it must succeed."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    return time.perf_counter() - t0


def run_probe(*args: str, timeout: float = 120.0) -> tuple[float, dict]:
    """Run `python ARGS` (a script in benchmarks/ or `-c CODE`) in a fresh interpreter; returns
    (its spawn time on the monotonic clock, the JSON object its last stdout line holds). The
    monotonic clock is system-wide on Linux, so the probe can stamp moments the parent reads."""
    if args[0].endswith(".py"):
        args = (str(HERE / args[0]), *args[1:])
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=HERE
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{args[0]} failed ({proc.returncode}): stdout {proc.stdout.strip()[-300:]!r}, "
            f"stderr {proc.stderr.strip()[-500:]!r}"
        )
    return t0, json.loads(proc.stdout.strip().splitlines()[-1])

"""Helpers shared by every test folder (`tests` is on pytest's pythonpath: `import helpers`).

`plain_loop` is the plain PyTorch loop of the reference notebook, written independently of the
package: iris raw features as float32, `torch.manual_seed(seed)`, `Linear(4, h) -> ReLU ->
Linear(h, 3)`, SGD, cross-entropy, full batch. The engine must reproduce its losses exactly.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import torch

TOL = 1e-6
# torch's own default, read before any test can change it. Large matmuls (width 1000) split their
# sums by thread count, so the reference runs under the engine's count: 1 by default (the fastest
# here), torch's default with `threads=0`.
DEFAULT_THREADS = torch.get_num_threads()
ENGINE_THREADS = 1
T = TypeVar("T")


@functools.lru_cache(maxsize=1)
def _iris():
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return (
        torch.tensor(bunch.data, dtype=torch.float32),
        torch.tensor(bunch.target, dtype=torch.long),
    )


@functools.lru_cache(maxsize=512)
def plain_loop(
    width: int, seed: int, epochs: int, lr: float = 0.1, threads: int = ENGINE_THREADS
) -> tuple[tuple, tuple]:
    """(train losses, train accuracies) per epoch, each measured before that epoch's step,
    under `threads` intra-op threads (0: torch's default)."""
    from torch import nn

    x, y = _iris()
    result: dict[str, list[float]] = {}

    def loop() -> None:
        # In a thread of its own, like an engine worker: OpenMP keeps the thread count per
        # thread, and MKL follows the calling thread's count.
        torch.set_num_threads(threads or DEFAULT_THREADS)
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 3))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        criterion = nn.CrossEntropyLoss()
        losses, accs = result.setdefault("losses", []), result.setdefault("accs", [])
        for _ in range(epochs):
            opt.zero_grad()
            out = model(x)
            loss = criterion(out, y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            accs.append((out.argmax(1) == y).float().mean().item())

    before = torch.get_num_threads()
    worker = threading.Thread(target=loop)
    worker.start()
    worker.join()
    torch.set_num_threads(before)
    losses, accs = result["losses"], result["accs"]
    return tuple(losses), tuple(accs)


@functools.lru_cache(maxsize=64)
def stacked_loop(width: int, seeds: tuple[int, ...], epochs: int, lr: float = 0.1) -> tuple:
    """Per slot of a stack of `seeds`, the train losses of `epochs` uninterrupted stacked epochs
    under the engine's thread count. A slot's numbers depend only on its own seed and the stack's
    shape (not on the other slots' values, nor on their being masked), so a stacked run's history
    equals its slot here exactly, on any machine: both sides run the same batched kernels."""
    from mlp_tui.core.config import ExperimentConfig, validate
    from mlp_tui.engine.data import load_dataset
    from mlp_tui.engine.stack_step import StackedTrainer

    result: list[list[float]] = []
    cfg = validate(ExperimentConfig(widths=(width,), lr=lr, epochs=epochs))

    def loop() -> None:
        torch.set_num_threads(ENGINE_THREADS)
        stack = StackedTrainer(cfg, load_dataset(cfg, "cpu"), width, list(seeds))
        result.extend(stack.epoch()[0].tolist() for _ in range(epochs))

    before = torch.get_num_threads()
    worker = threading.Thread(target=loop)
    worker.start()
    worker.join()
    torch.set_num_threads(before)
    assert len(result) == epochs, "the reference stack did not train"
    return tuple(tuple(row[k] for row in result) for k in range(len(seeds)))


def assert_close(actual, expected, tol: float = TOL) -> None:
    assert len(actual) == len(expected)
    worst = max((abs(a - b) for a, b in zip(actual, expected)), default=0.0)
    assert worst <= tol, f"max deviation {worst} > {tol}"


# The bound on every wait for something asynchronous. Only a failing test reaches it, so it is
# generous: a loaded 2-core machine must never fail a healthy test because a bound ran out.
WAIT_S = 30.0


def in_ci() -> bool:
    """Whether this run is CI's (`.ci/run` sets CI=true, as most CI services do)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(ok: bool, reason: str) -> None:
    """A test that needs what a fresh machine may lack (Debian's chromium): skipped there, its
    reason printed in the summary (-rs), so the README's command passes as written; under CI a
    skip would hide the test, so there it fails."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"{reason} (required under CI=true)", pytrace=False)
    pytest.skip(reason)


def wait_until(
    predicate: Callable[[], bool], timeout: float = WAIT_S, poll: float = 0.005
) -> bool:
    """Whether predicate() held within `timeout` seconds (callers assert it)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


def wait_equal(
    read: Callable[[], T], expected: T, timeout: float = WAIT_S, poll: float = 0.005
) -> T:
    """Until read() == expected; after `timeout` seconds fail, showing the last value read."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(poll)
        value = read()
    assert value == expected, f"still not {expected!r} after {timeout:g} s"
    return value


# A stop takes a few milliseconds (the worker looks at its flag between epochs and at once
# during a pace's wait). This bound only tells a stop that works from one that waits: for the
# run's end, or for a pace of one epoch every 2 s. It holds on a loaded machine.
STOP_S = 1.5


def acted_on(runs) -> bool:
    """Every training run's worker (a thread's, or its stack's) has acted on the controls sent
    so far: the epochs it computed before them are in its history, so a paused run's count is
    final from here on. A control raises a run's flag; its worker takes it down when it acts."""
    return not any(r.interrupt for r in runs if r.active)


STEADY_S = 0.4  # how long a paused run's row count must hold still to count as steady


def grows(run, timeout: float = WAIT_S) -> bool:
    """The run's history gains a row within `timeout` seconds."""
    n = len(run.history)
    return wait_until(lambda: len(run.history) > n, timeout=timeout, poll=0.02)


def steady(run) -> int:
    """The row count once it held still for STEADY_S (a run in another process: rows arrive
    by polls, so "paused" shows before the last rows do)."""
    last = [-1, time.monotonic()]

    def still() -> bool:
        n = len(run.history)
        if n != last[0]:
            last[:] = [n, time.monotonic()]
        return time.monotonic() - last[1] >= STEADY_S

    assert wait_until(still, poll=0.02), f"the row count never held still: {len(run.history)}"
    return last[0]


def cli_command() -> list[str]:
    """The installed `mlp-tui` script, or `python -m mlp_tui` where it is not on PATH."""
    exe = shutil.which("mlp-tui")
    return [exe] if exe else [sys.executable, "-m", "mlp_tui"]


DATA = Path(__file__).parent / "data"


def read_all(reader, max_bytes: int = 8 << 20) -> list[dict]:
    """Every row a HistoryReader has for now. Each call reads up to `max_bytes`, so a file
    takes at most its size over that (and one) calls: a reader that never says it is done
    fails here instead of hanging the test."""
    rows: list[dict] = []
    for _ in range(os.path.getsize(reader.path) // max_bytes + 2):
        rows += reader.read_new(max_bytes)
        if not reader.more:
            return rows
    raise AssertionError(f"{reader.path}: the reader still had more after {len(rows)} rows")


def check_history_file(
    path: Path, allow_torn_tail: bool = False, min_rows: int = 1
) -> dict[tuple[int, int], list[dict]]:
    """The one history-file checker: every whole line parses (through the same reader a replay
    uses), the CSV header is the schema's, each life of each run holds epochs 1, 2, 3, ... with
    no gap (a status row may repeat a life's last epoch), and at least `min_rows` epoch rows.
    Returns the epoch rows of each life, keyed by (run, seed), in file order."""
    from mlp_tui.core.schema import Status
    from mlp_tui.persist.codec import HISTORY_COLUMNS, csv_header
    from mlp_tui.persist.reader import HistoryReader

    text = path.read_bytes()
    if not allow_torn_tail:
        assert text.endswith(b"\n"), "a torn last line"
    if path.suffix == ".csv":
        assert text.decode().startswith(csv_header(HISTORY_COLUMNS))
    with HistoryReader(path) as reader:
        rows = read_all(reader)
    lives: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for row in rows:
        life = lives[(row["run"], row["seed"])]
        ended = Status(row["status"]).ended
        if row["train_loss"] is None and ended and row["epoch"] == len(life):
            continue  # a status row (the rule replay uses); a diverged epoch's NaN is null too
        assert row["epoch"] == len(life) + 1, f"epoch {row['epoch']} after {len(life)}"
        life.append(row)
    assert sum(map(len, lives.values())) >= min_rows
    return dict(lives)

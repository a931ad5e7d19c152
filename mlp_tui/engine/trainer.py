"""Runs: one worker thread per (width, repeat), each owning its model and optimizer.

A worker only computes and appends to its `RunHistory`; readers (the UI, the headless printer,
the history recorder) poll. Controls are thread-safe and exact: a paused run waits on an event and
computes nothing; a restart closes the current history, so no epoch of a previous life can reach
the new one.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from typing import TYPE_CHECKING

from mlp_tui.config import ExperimentConfig
from mlp_tui.engine.health import STALL_CHECK_EVERY, STALL_WINDOW, is_stalled
from mlp_tui.engine.history import (
    DIVERGED,
    FINISHED,
    PAUSED,
    RUNNING,
    STALLED,
    STATUS_CODE,
    STOPPED,
    RunHistory,
)

if TYPE_CHECKING:
    from mlp_tui.engine.data import Dataset

FAILED = "failed"
# torch.manual_seed is process-global: seeding and building must not interleave between workers.
_SEED_LOCK = threading.Lock()


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


# A run computes for at most this long before it hands the baton on. Each hand-over costs the next
# run its caches (width 1000 works on megabytes); three runs take one round in 60 ms, within one
# frame of the UI (12 Hz), so every run moves on every frame. Measured (widths 5/100/1000, 4,000
# epochs, engine/bare-loop throughput, medians of 5): 1.10 at 5 ms, 1.14 at 20 ms, 1.17 at 50 ms.
SLICE_S = 0.02
FLUSH_S = 0.02  # the longest a computed epoch waits before it reaches the history
FLUSH_MAX = 512  # epochs read back in one batch at most
MAX_PACE_DEBT_S = 0.25  # a paced run behind schedule by more than this forgets the debt


class Baton:
    """A fair (first come, first served) turn for computing, shared by the runs of one experiment.

    Python threads cannot compute in parallel anyway (the GIL), but several threads that each
    enter torch's OpenMP regions each bring a team of intra-op threads, and those teams fight for
    the cores: measured on 2 cores, three runs at once went 1.7x slower than one after another.
    Taking turns in slices of SLICE_S keeps every run advancing evenly and gives the running turn
    every core (with `--threads 0`). With one intra-op thread each (the default) the runs still
    gain from it: without the baton, three runs trained at 0.75x a bare loop's speed, with it at
    0.85x (before the lean SGD step; both measured the same day).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[int] = collections.deque()
        self._held = False

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if not self._held and not self._queue:
                self._held = True
                return
            self._queue.append(me)
            while self._held or self._queue[0] != me:
                self._cond.wait()
            self._queue.popleft()
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            if self._queue:
                self._cond.notify_all()

    def pass_turn(self) -> None:
        """Let the runs that wait go first; return at once when nobody waits."""
        if self._queue:
            self.release()
            self.acquire()


class _Pending:
    """Epochs computed but not yet read back from the device.

    Losses and logits are copied into preallocated buffers rather than kept as tensors: holding
    on to even a scalar of each epoch stops the allocator from reusing the large activation
    buffers of wide layers, which cost width 1000 a fifth of its speed. The hot loop writes
    through views made once (`loss_at[j]`), which saves a dispatch per copy against indexing.
    """

    def __init__(self, data: Dataset, batched: bool) -> None:
        import torch

        self.n_classes = c = data.n_classes
        self.y = data.y_train
        self.x_val, self.y_val = data.x_val, data.y_val
        n = data.x_train.shape[0]
        n_val = 0 if data.y_val is None else data.y_val.shape[0]
        per_epoch = (0 if batched else n * c) + n_val * c
        self.rows = max(1, min(FLUSH_MAX, (1 << 20) // max(1, per_epoch)))  # <= 4 MB of logits
        dev = data.x_train.device
        self.loss = torch.empty(self.rows, device=dev)
        self.out = None if batched else torch.empty(self.rows, n, c, device=dev)
        self.correct = torch.empty(self.rows, device=dev) if batched else None
        self.val_out = torch.empty(self.rows, n_val, c, device=dev) if n_val else None
        self.loss_at = self.loss.unbind(0)
        self.out_at = None if self.out is None else self.out.unbind(0)
        self.correct_at = None if self.correct is None else self.correct.unbind(0)
        self.val_at = None if self.val_out is None else self.val_out.unbind(0)
        self.stamps: list[float] = []  # perf_counter() at the end of each pending epoch

    def take(self, m: int, origin: float) -> tuple[list, list, list | None, list | None, list]:
        """Read the first m buffered epochs back with a few batched ops and one host sync:
        columns of train losses, correct counts, validation losses and counts (None without a
        hold-out) and active seconds since `origin`."""
        import torch
        import torch.nn.functional as F

        with torch.no_grad():
            parts = [self.loss[:m]]
            if self.out is not None:
                parts.append((self.out[:m].argmax(2) == self.y).sum(1).float())
            else:
                parts.append(self.correct[:m])
            if self.val_out is not None:
                vl = self.val_out[:m]  # (m, n_val, classes)
                nv = vl.shape[1]
                flat = F.cross_entropy(
                    vl.reshape(m * nv, -1), self.y_val.repeat(m), reduction="none"
                )
                parts.append(flat.view(m, nv).mean(1))
                parts.append((vl.argmax(2) == self.y_val).sum(1).float())
            cols = torch.stack(parts).tolist()
        elapsed = [t - origin for t in self.stamps[:m]]
        del self.stamps[:m]
        corrects = [int(c) for c in cols[1]]
        if self.val_out is None:
            return cols[0], corrects, None, None, elapsed
        return cols[0], corrects, cols[2], [int(c) for c in cols[3]], elapsed


def configure_threads(threads: int) -> int:
    """Set torch's intra-op threads (process-wide); 0 keeps torch's default.

    Measured on 2 cores with widths 5/100/1000: one intra-op thread is fastest, alone (1.35 s
    against 1.6 s for 2,000 epochs of width 1000) and above all with several runs, whose
    threads each bring an OpenMP team that fights the others for the cores (3 runs: 2.5 s with
    one thread each, 5 to 7 s with two). The count changes how MKL splits the K=1000 sum of the
    width-1000 output layer, so bit-equality with a plain loop holds under the same count.
    torch's default (two threads here) is also much slower for a paced run: a width-5 run asked
    for 200 epochs a second managed 58 with it, 200 with one thread.
    """
    import torch

    global _DEFAULT_THREADS
    if _DEFAULT_THREADS is None:
        _DEFAULT_THREADS = torch.get_num_threads()
    torch.set_num_threads(threads if threads > 0 else _DEFAULT_THREADS)
    return torch.get_num_threads()


_DEFAULT_THREADS: int | None = None


class Run:
    """One width (and repeat) trained in its own thread."""

    def __init__(
        self,
        index: int,
        width: int,
        repeat: int,
        cfg: ExperimentConfig,
        data: Dataset,
        keep_retired: bool = False,
        baton: Baton | None = None,
    ) -> None:
        self.index = index
        self.baton = baton or Baton()
        self.width = width
        self.repeat = repeat
        self.cfg = cfg
        self.data = data
        self.seed = cfg.seed + repeat
        self.history = self._new_history()
        self.stalled = False
        self.error: str | None = None
        self.epochs_per_s = 0.0
        # Lives that a restart ended, kept for the history recorder: (seed, history).
        self.keep_retired = keep_retired
        self.retired: collections.deque[tuple[int, RunHistory]] = collections.deque()
        self._state = RUNNING  # RUNNING, FINISHED, DIVERGED, FAILED or STOPPED
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._wake = threading.Event()
        self._stop = False
        self._interrupt = False  # set by every control, so the hot loop reads one attribute
        self._speed = cfg.speed
        self._thread: threading.Thread | None = None

    # --- state -------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    @property
    def status(self) -> str:
        state = self._state
        if state == FINISHED:
            return STALLED if self.stalled else FINISHED
        if state != RUNNING:
            return state
        if self.paused:
            return PAUSED
        return STALLED if self.stalled else RUNNING

    @property
    def active(self) -> bool:
        """Still training (or paused mid-training)."""
        return self._state == RUNNING

    @property
    def label(self) -> str:
        return f"w={self.width}" if self.cfg.repeats == 1 else f"w={self.width}#{self.repeat}"

    def _new_history(self) -> RunHistory:
        data = self.data
        return RunHistory(data.y_train.shape[0], 0 if data.y_val is None else data.y_val.shape[0])

    # --- controls (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=f"run-{self.label}", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        if self._state == RUNNING:
            self._resume.clear()
            self._interrupt = True

    def resume(self) -> None:
        self._resume.set()
        self._interrupt = True

    def toggle(self) -> None:
        if self.paused:
            self.resume()
        else:
            self.pause()

    def restart(self) -> None:
        """Fresh initialization with the next seed; the current history is closed first."""
        with self._lock:
            if self._stop:
                return
            old = self.history
            old.close()
            if self.keep_retired and len(old):
                self.retired.append((self.seed, old))
            self.seed += self.cfg.repeats
            self.stalled = False
            self.error = None
            self.epochs_per_s = 0.0
            self.history = self._new_history()
            self._state = RUNNING
            self._interrupt = True
            self._resume.set()
            self._wake.set()

    def set_speed(self, speed: float) -> None:
        self._speed = speed
        self._interrupt = True
        self._wake.set()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._interrupt = True
            if self._state == RUNNING:
                self._state = STOPPED
            self._resume.set()
            self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # --- the worker --------------------------------------------------------------------------

    def _main(self) -> None:
        # OpenMP keeps the thread count per thread: set it here too, or this worker's MKL calls
        # would use the default count whatever the main thread asked for.
        configure_threads(self.cfg.threads)
        try:
            while not self._stop:
                with self._lock:
                    history, seed = self.history, self.seed
                self._live(history, seed)
                # The life ended (finished, diverged or restarted): wait for a restart or a stop.
                while not self._stop and self.history is history:
                    self._wake.wait()
                    self._wake.clear()
        except Exception as exc:  # surfaced in the table and the exports, never swallowed
            self.error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if self._state == RUNNING:
                    self._state = FAILED

    def _build(self, seed: int):
        import torch

        from mlp_tui.engine.model import build_mlp
        from mlp_tui.engine.optim import PlainSGD

        cfg, data = self.cfg, self.data
        with _SEED_LOCK:
            torch.manual_seed(seed)
            model = build_mlp(data.n_features, self.width, cfg.depth, data.n_classes)
        model.to(data.x_train.device)
        if cfg.optimizer == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        else:
            opt = PlainSGD(model.parameters(), lr=cfg.lr)
        return model, opt

    def _live(self, history: RunHistory, seed: int) -> None:
        """Train one life, holding the baton except while paused or pacing."""
        self.baton.acquire()
        try:
            self._train(history, seed)
        finally:
            self.baton.release()

    def _train(self, history: RunHistory, seed: int) -> None:
        """Train one life until it finishes, diverges, is restarted or stopped.

        Unthrottled, an epoch is the bare loop (forward, loss, zero_grad, backward, step), two
        copies into preallocated buffers, a clock read and one comparison. Everything else
        (reading back, checking health, pacing, handing the baton on) waits for `check_at`:
        losses and logits are read back in one batch (`_flush`) every FLUSH_S seconds, before any
        wait, and at every control. A paced run checks after every epoch.
        """
        import torch
        import torch.nn.functional as F

        model, opt = self._build(seed)
        # Controls that came while the previous life was ending (a pause right after a restart)
        # are looked at before the first epoch.
        self._interrupt = True
        cfg, data = self.cfg, self.data
        x, y = data.x_train, data.y_train
        n = x.shape[0]
        batch = cfg.batch_size if 0 < cfg.batch_size < n else 0
        gen = torch.Generator(device="cpu").manual_seed(seed) if batch else None
        total = cfg.epochs
        perf = time.perf_counter
        pend = _Pending(data, batched=bool(batch))
        loss_at, out_at, correct_at = pend.loss_at, pend.out_at, pend.correct_at
        val_at, x_val, stamps = pend.val_at, pend.x_val, pend.stamps
        cross_entropy, zero_grad, step = F.cross_entropy, opt.zero_grad, opt.step

        t_start = perf()
        origin = t_start  # the start plus the time spent paused: elapsed_s counts active time
        speed = self._speed
        pace_base_t, pace_base_k = t_start, 0
        rate_t, rate_k = t_start, 0
        last_flush = t_start
        slice_end = t_start + SLICE_S
        check_at = 0.0
        done = 0  # epochs read back into the history
        j = 0  # epochs in the buffers
        room = min(pend.rows, total)  # epochs until the buffers are full or the life is done
        now = t_start
        while done < total:
            if self._interrupt:
                self._interrupt = False
                if j:
                    if not self._flush(history, pend, done, j, origin, total):
                        return
                    done, j = done + j, 0
                    room = min(pend.rows, total - done)
                if self._stop or self.history is not history:
                    return
                if not self._resume.is_set():
                    t0 = perf()
                    self.baton.release()
                    self._resume.wait()
                    self.baton.acquire()
                    now = perf()
                    origin += now - t0
                    slice_end = now + SLICE_S
                    if self._stop or self.history is not history:
                        return
                    pace_base_t, pace_base_k = now, done
                    rate_t, rate_k = now, done
                if self._speed != speed:
                    speed = self._speed
                    pace_base_t, pace_base_k = perf(), done
                check_at = 0.0

            if batch:
                perm = torch.randperm(n, generator=gen).to(x.device)
                loss_sum = torch.zeros((), device=x.device)
                correct = torch.zeros((), device=x.device, dtype=torch.long)
                for i in range(0, n, batch):
                    idx = perm[i : i + batch]
                    out = model(x[idx])
                    loss = cross_entropy(out, y[idx])
                    zero_grad(set_to_none=True)
                    loss.backward()
                    step()
                    with torch.no_grad():
                        loss_sum += loss.detach() * idx.shape[0]
                        correct += (out.argmax(1) == y[idx]).sum()
                loss_at[j].copy_(loss_sum / n)
                correct_at[j].copy_(correct)
            else:
                out = model(x)
                loss = cross_entropy(out, y)
                zero_grad(set_to_none=True)
                loss.backward()
                step()
                loss_at[j].copy_(loss.detach())
                out_at[j].copy_(out.detach())
            if val_at is not None:
                with torch.inference_mode():
                    val_at[j].copy_(model(x_val))
            j += 1
            now = perf()
            stamps.append(now)
            if now < check_at and j < room:
                continue

            k = done + j
            pace = False
            if speed > 0:
                ahead = pace_base_t + (k - pace_base_k) / speed - now
                pace = ahead > 0
                if ahead < -MAX_PACE_DEBT_S:  # fell far behind (a busy machine): no burst
                    pace_base_t, pace_base_k = now, k
            if pace or j == room or now - last_flush >= FLUSH_S or now >= slice_end:
                last_flush = now
                if not self._flush(history, pend, done, j, origin, total):
                    return
                done, j = k, 0
                room = min(pend.rows, total - done)
                if now - rate_t >= 0.5:
                    self.epochs_per_s = (k - rate_k) / (now - rate_t)
                    rate_t, rate_k = now, k
                if pace:
                    wait = pace_base_t + (k - pace_base_k) / speed - perf()
                    if wait > 0:
                        self.baton.release()
                        if self._wake.wait(wait):
                            self._wake.clear()
                        self.baton.acquire()
                        slice_end = perf() + SLICE_S
            if now >= slice_end:
                self.baton.pass_turn()
                slice_end = perf() + SLICE_S
            check_at = 0.0 if speed > 0 else min(last_flush + FLUSH_S, slice_end)
        if now > rate_t and done > rate_k:
            self.epochs_per_s = (done - rate_k) / (now - rate_t)
        self._end(history, FINISHED)

    def _flush(
        self, history: RunHistory, pend: _Pending, done: int, m: int, origin: float, total: int
    ) -> bool:
        """Move the first m pending epochs (those after the `done` already read back) into the
        history; False when the life is over (it diverged, or a restart closed its history)."""
        first = done + 1  # the epoch of the first pending row
        losses, corrects, val_losses, val_corrects, elapsed = pend.take(m, origin)
        diverged = not all(map(math.isfinite, losses))
        if diverged:  # the epochs computed after a non-finite loss belong to no one
            m = next(i for i, v in enumerate(losses) if not math.isfinite(v)) + 1
            del losses[m:], corrects[m:], elapsed[m:]
            if val_losses is not None:
                del val_losses[m:], val_corrects[m:]
        codes = self._statuses(history, losses, first, diverged, total, pend.n_classes)
        if not history.extend(losses, corrects, val_losses, val_corrects, elapsed, codes):
            return False  # restarted while these epochs were computed: they belong nowhere
        if diverged:
            self._end(history, DIVERGED)
            return False
        return True

    def _statuses(
        self,
        history: RunHistory,
        losses: list[float],
        first: int,
        diverged: bool,
        total: int,
        n_classes: int,
    ) -> list[int]:
        """Per-epoch status codes for a batch of epochs starting at epoch `first`: the stall
        check runs every STALL_CHECK_EVERY epochs over the last STALL_WINDOW losses, and a
        stalled run's epochs say so from the check that found it."""
        m = len(losses)
        checked = m - 1 if diverged else m  # a non-finite loss is not checked for a stall
        window = history.tail_losses(STALL_WINDOW)  # the losses before this batch
        offset = len(window)
        window += losses
        stalled = self.stalled
        codes: list[int] = []
        pos = 0
        step = STALL_CHECK_EVERY
        e = -(-max(first, STALL_WINDOW) // step) * step  # the first check epoch in the batch
        while e < first + checked:
            i = e - first
            codes += [STATUS_CODE[STALLED if stalled else RUNNING]] * (i - pos)
            pos = i
            end = offset + i + 1
            stalled = is_stalled(window[end - STALL_WINDOW : end], n_classes)
            e += step
        codes += [STATUS_CODE[STALLED if stalled else RUNNING]] * (m - pos)
        self.stalled = stalled
        if diverged:
            codes[-1] = STATUS_CODE[DIVERGED]
        elif first + m - 1 == total and not stalled:
            codes[-1] = STATUS_CODE[FINISHED]
        return codes

    def _end(self, history: RunHistory, state: str) -> None:
        with self._lock:
            if self.history is history and not self._stop:
                self._state = state


class Experiment:
    """All runs of one configuration: widths x repeats, sharing one dataset."""

    def __init__(self, cfg: ExperimentConfig, keep_retired: bool = False) -> None:
        from mlp_tui.engine.data import load_dataset

        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        configure_threads(cfg.threads)
        self.data = load_dataset(cfg, self.device)
        self.baton = Baton()
        self.runs = [
            Run(i * cfg.repeats + r, w, r, cfg, self.data, keep_retired, self.baton)
            for i, w in enumerate(cfg.widths)
            for r in range(cfg.repeats)
        ]
        self.speed = cfg.speed
        self.started_at = 0.0

    def start(self) -> None:
        self.started_at = time.time()
        for run in self.runs:
            run.start()

    def _each(self, index: int | None, width: int | None = None) -> list[Run]:
        """One run by index, every run of one width, or all runs."""
        if index is not None:
            return [self.runs[index]]
        return [r for r in self.runs if width is None or r.width == width]

    def pause(self, index: int | None = None) -> None:
        for run in self._each(index):
            run.pause()

    def resume(self, index: int | None = None) -> None:
        for run in self._each(index):
            run.resume()

    def toggle(self, index: int | None = None, width: int | None = None) -> None:
        """Pause all if any is running, else resume all (or just one run, or one width)."""
        runs = self._each(index, width)
        if any(r.active and not r.paused for r in runs):
            for r in runs:
                r.pause()
        else:
            for r in runs:
                r.resume()

    def restart(self, index: int | None = None, width: int | None = None) -> None:
        for run in self._each(index, width):
            run.restart()

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        for run in self.runs:
            run.set_speed(speed)

    @property
    def paused(self) -> bool:
        return any(r.active for r in self.runs) and all(r.paused for r in self.runs if r.active)

    @property
    def done(self) -> bool:
        return not any(r.active for r in self.runs)

    def wait(self, timeout: float | None = None, poll: float = 0.05) -> bool:
        """Block until every run has ended; True if they did within the timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def stop(self, timeout: float = 1.0) -> bool:
        for run in self.runs:
            run.stop()
        deadline = time.monotonic() + timeout
        ok = True
        for run in self.runs:
            ok &= run.join(max(0.0, deadline - time.monotonic()))
        return ok

    def finish(self, timeout: float = 30.0) -> bool:
        """Before the process exits: wait for every worker to be gone. A worker still inside
        torch's lazy imports (its first optimizer step imports torch._dynamo, about 1.5 s) when
        the interpreter shuts down would abort the process ("terminate called ...")."""
        self.stop(timeout)
        return all(not (r._thread and r._thread.is_alive()) for r in self.runs)

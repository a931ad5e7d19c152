"""One model's full-batch kernel (engine/kernel.py): the model and optimizer of a life, the hot
loop, and the read-back buffers.

Unthrottled, an epoch is the bare loop (forward, loss, zero_grad, backward, step), two copies into
preallocated buffers and a clock read. Everything else (read-back, health, pacing, turns) happens
between calls of `Trainer.compute`, in batches, in the worker (engine/worker.py).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.engine.kernel import BUFFER_FLOATS, FLUSH_MAX, Interruptible

if TYPE_CHECKING:
    from mlp_tui.engine.data import Dataset
# torch.manual_seed is process-global: seeding and building must not interleave between workers.
_SEED_LOCK = threading.Lock()
_DEFAULT_THREADS: int | None = None


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def configure_threads(threads: int) -> int:
    """Set torch's intra-op threads for the calling thread (OpenMP keeps the count per thread);
    0 keeps torch's default. One thread is the fastest setting for these tiny ops, and the count
    changes how MKL splits wide sums, so bit-equality with a plain loop holds under the same
    count (docs/reliability.md, "Reproducing a row")."""
    import torch

    global _DEFAULT_THREADS
    if _DEFAULT_THREADS is None:
        _DEFAULT_THREADS = torch.get_num_threads()
    torch.set_num_threads(threads if threads > 0 else _DEFAULT_THREADS)
    return torch.get_num_threads()


def build(cfg: ExperimentConfig, data: Dataset, width: int, seed: int):
    """The seeded model and its optimizer (seeded immediately before the build, as a notebook
    does, so a row's seed reproduces it)."""
    import torch

    from mlp_tui.engine.model import build_mlp
    from mlp_tui.engine.optim import PlainSGD

    # Dropout masks come from a generator of the run's own, seeded by its seed.
    masks = torch.Generator().manual_seed(seed) if cfg.dropout else None
    with _SEED_LOCK:
        torch.manual_seed(seed)
        model = build_mlp(data.n_features, width, cfg.depth, data.n_outputs, cfg.dropout, masks)
    model.to(data.x_train.device)
    params, wd = model.parameters(), cfg.weight_decay
    if cfg.optimizer == "adam":
        return model, torch.optim.Adam(params, lr=cfg.lr, weight_decay=wd)
    if cfg.momentum:  # torch's own SGD: its momentum buffer, bit for bit
        return model, torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=wd)
    return model, PlainSGD(params, lr=cfg.lr, weight_decay=wd)


def train_targets(cfg: ExperimentConfig, data: Dataset, seed: int):
    """The targets a life trains on: the data's, or with `--label-noise` its own noised copy
    (seeded by the life's seed; validation targets are never noised)."""
    if not cfg.label_noise:
        return data.y_train
    return data.objective.noised(data.y_train, cfg.label_noise, seed, data.n_outputs)


class Trainer:
    """Computes the epochs of one life into preallocated buffers and reads them back in batches:
    the kernel of a unit of one run (`slots` = 1), full batch, with or without dropout.

    Losses and outputs are copied into buffers rather than kept as tensors: holding on to even a
    scalar of each epoch stops the allocator from reusing the large activation buffers of wide
    layers, which slows them markedly (docs/benchmarks.md). The hot loop writes through views made
    once (`loss_at[j]`), which saves a dispatch per copy against indexing. The task's arithmetic
    (`data.objective`) gives the loss and, at read-back, every metric from the buffered outputs.
    """

    slots = 1
    keeps_outputs = True  # the train outputs of every epoch are buffered (a minibatch's are not)

    def __init__(self, cfg: ExperimentConfig, data: Dataset, width: int, seed: int) -> None:
        import torch

        self.cfg, self.data, self.width = cfg, data, width
        self.eval_val = cfg.dropout > 0  # validation in eval mode: without dropout
        n, c, n_val = data.n_train, data.n_outputs, data.n_val
        per_epoch = (n * c if self.keeps_outputs else 0) + n_val * c
        self.rows = max(1, min(FLUSH_MAX, BUFFER_FLOATS // max(1, per_epoch)))
        dev = data.x_train.device
        self.loss = torch.empty(self.rows, device=dev)
        self.out = torch.empty(self.rows, n, c, device=dev) if self.keeps_outputs else None
        self.val_out = torch.empty(self.rows, n_val, c, device=dev) if n_val else None
        self.loss_at = self.loss.unbind(0)
        self.out_at = None if self.out is None else self.out.unbind(0)
        self.val_at = None if self.val_out is None else self.val_out.unbind(0)
        self.stamps: list[float] = []  # perf_counter() at the end of each buffered epoch
        self.buffered = 0
        self.reseed(0, seed)

    def reseed(self, slot: int, seed: int) -> None:
        """A fresh life: the seeded model and optimizer, its training targets and the gauges'
        buffer (engine/instruments.py). Sharpness is read in the plain full-batch loop only:
        a minibatch epoch has no one loss, and dropout's masks would be drawn."""
        from mlp_tui.engine.instruments import Gauges

        self.model, self.opt = build(self.cfg, self.data, self.width, seed)
        self.y_train = train_targets(self.cfg, self.data, seed)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        every = self.cfg.sharpness if self.reads_sharpness else 0
        self.gauges = Gauges(self.rows, every, self.data.x_train.device)
        self.age = 0  # epochs of this life read back: the buffered row j is epoch age + j + 1

    @property
    def reads_sharpness(self) -> bool:
        return not self.eval_val

    def set_active(self, slot: int, active: bool) -> None:
        """Nothing to mask: the worker computes nothing while its one run is paused."""

    def _sharpness(self, j: int) -> None:
        """The hook before the forward pass: epoch j's sharpness at the weights its loss is
        computed at, when a reading is due (the instruments' own forward: nothing shared)."""
        from mlp_tui.engine.curvature import model_loss

        if self.gauges.due(self.age + j):
            loss_of = model_loss(self.model, self.data.objective.loss, self.data.x_train,
                                 self.y_train)
            self.gauges.sharpness(j, loss_of, self.params)

    def _norms(self, j: int) -> None:
        """The hook after backward, before the step: epoch j's gradient and weight norms."""
        self.gauges.norms(j, [p.grad for p in self.params], self.params)

    def compute(self, room: int, until: float, ctl: Interruptible) -> float:
        """Compute epochs into the buffers until `room` are buffered, the clock passes `until`
        or a control interrupts (at least one epoch); returns the clock at the last epoch's end."""
        import torch

        if self.eval_val:
            return self._compute_dropout(room, until, ctl)
        model, x, y = self.model, self.data.x_train, self.y_train
        loss_fn, zero_grad, step = self.data.objective.loss, self.opt.zero_grad, self.opt.step
        loss_at, out_at, val_at = self.loss_at, self.out_at, self.val_at
        x_val, stamps, perf = self.data.x_val, self.stamps, time.perf_counter
        norms, sharp = self._norms, self._sharpness if self.gauges.every else None
        j = self.buffered
        while True:
            if sharp is not None:
                sharp(j)
            out = model(x)
            loss = loss_fn(out, y)
            zero_grad(set_to_none=True)
            loss.backward()
            norms(j)
            step()
            loss_at[j].copy_(loss.detach())
            out_at[j].copy_(out.detach())
            if val_at is not None:
                with torch.inference_mode():
                    val_at[j].copy_(model(x_val))
            j += 1
            now = perf()
            stamps.append(now)
            if j >= room or now >= until or ctl.interrupt:
                self.buffered = j
                return now

    def _validate(self, j: int) -> None:
        """Epoch j's validation outputs, in eval mode when the model has dropout."""
        import torch

        model = self.model
        if self.eval_val:
            model.eval()
        with torch.inference_mode():
            self.val_out[j].copy_(model(self.data.x_val))
        if self.eval_val:
            model.train()

    def _compute_dropout(self, room: int, until: float, ctl: Interruptible) -> float:
        """The full-batch loop with dropout: the train loss as measured in training mode (with
        the epoch's masks), validation in eval mode."""
        model, x, y = self.model, self.data.x_train, self.y_train
        loss_fn, opt = self.data.objective.loss, self.opt
        j = self.buffered
        while True:
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            self._norms(j)
            opt.step()
            self.loss_at[j].copy_(loss.detach())
            self.out_at[j].copy_(out.detach())
            if self.val_at is not None:
                self._validate(j)
            j += 1
            if (now := self._epoch_end(j, room, until, ctl)) is not None:
                return now

    def _epoch_end(self, j: int, room: int, until: float, ctl: Interruptible) -> float | None:
        """Stamp the end of the epoch that made `j` buffered; the clock when `compute` returns
        now (the buffer has `room`, the clock passed `until`, or a control came), else None.
        The plain loop inlines this (a call an epoch is measurable at width 5)."""
        now = time.perf_counter()
        self.stamps.append(now)
        if j >= room or now >= until or ctl.interrupt:
            self.buffered = j
            return now
        return None

    def take(self) -> tuple[list[dict[str, list]], list[float]]:
        """Read every buffered epoch back with a few batched ops and one host sync: the one
        slot's columns keyed by epoch field (ratios as counts), and the epochs' clock stamps."""
        from mlp_tui.engine.tasks import columns, split_metrics

        data, obj = self.data, self.data.objective
        m, self.buffered = self.buffered, 0
        values = self._train_values(m)
        if self.val_out is not None:
            values.update(split_metrics(obj, "val", self.val_out[:m], data.y_val))
        cols = columns(obj.task, values)
        cols.update(self.gauges.columns(m))
        self.age += m
        stamps = self.stamps[:m]
        del self.stamps[:m]
        return [cols], stamps

    def _train_values(self, m: int) -> dict:
        """The train metrics of the first m buffered epochs, from their buffered outputs."""
        from mlp_tui.engine.tasks import split_metrics

        return split_metrics(self.data.objective, "train", self.out[:m], self.y_train,
                             self.loss[:m])

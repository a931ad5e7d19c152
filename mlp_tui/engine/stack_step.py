"""Stacked seeds: the runs of one configuration that differ only by seed, trained as one model.

Each layer's weights of K seeds are stacked on a leading dimension and applied with one
`torch.baddbmm`; each seed's mean loss (the task's, `engine/tasks/`) is summed before one
`backward` (so each seed's
gradient is its own) and one `_foreach_add_` steps every seed. A mask (K, 1, 1) zeroes the update
of seeds that are paused or ended. Batched kernels sum in another order than a single model's, so
losses are not bit-identical to separate runs: they agree to float32 rounding over the first epochs
and, the dynamics being chaotic, only in distribution later (docs/portability.md). A slot's numbers
depend only on its own seed and the stack's shape, never on the other slots.
Full-batch SGD only (the hot path of a seed sweep; config.validate refuses the rest).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.task import INSTRUMENT_NAMES
from mlp_tui.engine.kernel import BUFFER_FLOATS, FLUSH_MAX, Interruptible

if TYPE_CHECKING:
    import torch

    from mlp_tui.engine.data import Dataset


class StackedTrainer:
    """K seeds of one width and config: the seeded initial weights of each seed's own model
    (engine.step.build), stacked. `epoch()` trains every unmasked seed one full-batch epoch;
    `compute` and `take` buffer and read back every seed's epochs (engine/kernel.py)."""

    def __init__(self, cfg: ExperimentConfig, data: Dataset, width: int, seeds: list[int]):
        import torch

        self.cfg, self.data, self.width = cfg, data, width
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor] = []
        slices = [self._initial(seed) for seed in seeds]
        for layer in range(len(slices[0])):
            self.weights.append(torch.stack([s[layer][0] for s in slices]).requires_grad_())
            self.biases.append(torch.stack([s[layer][1] for s in slices]).requires_grad_())
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.k, self.lr, self.weight_decay = len(seeds), cfg.lr, cfg.weight_decay
        dev = data.x_train.device
        self.mask = torch.ones(self.k, 1, 1, device=dev)
        self._active = [True] * self.k
        self._all_active = True
        task = data.objective.task
        splits = ("train", "val") if data.has_val else ("train",)
        self.names = [f.name for f in task.metric_fields
                      if f.name.split("_")[0] in splits and f.name not in INSTRUMENT_NAMES]
        fields = len(self.names)
        self.rows = max(1, min(FLUSH_MAX, BUFFER_FLOATS // (fields * self.k)))
        self.buffer = torch.empty(fields, self.rows, self.k, device=dev)
        self.buffer_at = [self.buffer[f].unbind(0) for f in range(fields)]
        self.stamps: list[float] = []  # perf_counter() at the end of each buffered epoch
        self.buffered = 0
        from mlp_tui.engine.instruments import Gauges

        self.gauges = Gauges(self.rows, cfg.sharpness, dev, self.k)
        self.ages = [0] * self.k  # each slot's epochs read back since its weights were seeded

    @property
    def slots(self) -> int:
        return self.k

    def _initial(self, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight transposed, bias as a row) of each layer of the seed's own model."""
        import torch

        from mlp_tui.engine.step import build

        model = build(self.cfg, self.data, self.width, seed)[0]
        return [
            (m.weight.detach().t().contiguous(), m.bias.detach().unsqueeze(0))
            for m in model
            if isinstance(m, torch.nn.Linear)
        ]

    def reseed(self, index: int, seed: int) -> None:
        """Give one seed's slice the initial weights of another seed (a restarted run)."""
        import torch

        with torch.no_grad():
            for layer, (w, b) in enumerate(self._initial(seed)):
                self.weights[layer][index].copy_(w)
                self.biases[layer][index].copy_(b)
        self.ages[index] = 0
        self.gauges.forget(index)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of every seed, (K, samples, outputs)."""
        import torch

        h = x.unsqueeze(0).expand(self.k, *x.shape)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = h.relu()
        return h

    def epoch(self, j: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch of every seed whose mask is 1; (loss, outputs) per seed before the step.
        `j`: the buffered row its instruments go to (None: not measured)."""
        import torch

        if j is not None and self.gauges.every:
            self._sharpness(j)
        out = self.forward(self.data.x_train)
        per_seed = self.data.objective.row_losses(out, self.data.y_train)
        for p in self.params:
            p.grad = None
        per_seed.sum().backward()
        grads = [p.grad for p in self.params]
        if j is not None:  # the hook after backward, before the update
            self.gauges.norms(j, grads, self.params)
        with torch.no_grad():
            if self.weight_decay:  # coupled L2, as step.PlainSGD and torch.optim.SGD add it
                torch._foreach_add_(grads, self.params, alpha=self.weight_decay)
            if not self._all_active:
                for g in grads:
                    g.mul_(self.mask)
            torch._foreach_add_(self.params, grads, alpha=-self.lr)
        return per_seed.detach(), out.detach()

    def _sharpness(self, j: int) -> None:
        """The hook before the forward pass: each active seed's sharpness, when its own
        reading is due (a seed's first epoch is its initial weights)."""
        from mlp_tui.engine.curvature import stacked_loss

        loss_of = stacked_loss(self.data.objective.loss, self.data.x_train, self.data.y_train)
        for i, active in enumerate(self._active):
            if active and self.gauges.due(self.ages[i] + j):
                params = [p[i] for p in self.params]
                self.gauges.sharpness(j, loss_of, params, seed=i)

    def set_active(self, index: int, active: bool) -> None:
        """Let one seed train, or mask its updates out (paused, or its run ended)."""
        if self._active[index] != active:
            self._active[index] = active
            self.mask[index] = 1.0 if active else 0.0
            self._all_active = all(self._active)

    def compute(self, room: int, until: float, ctl: Interruptible) -> float:
        """Train and buffer epochs until `room` are buffered, the clock passes `until` or a
        control interrupts (at least one epoch); returns the clock at the last epoch's end."""
        import torch

        from mlp_tui.engine.tasks import split_metrics

        data = self.data
        obj, y, y_val, x_val = data.objective, data.y_train, data.y_val, data.x_val
        at, names, stamps, perf = self.buffer_at, self.names, self.stamps, time.perf_counter
        j = self.buffered
        while True:
            per_seed, out = self.epoch(j)
            with torch.inference_mode():
                values = split_metrics(obj, "train", out, y, per_seed)
                if y_val is not None:
                    values.update(split_metrics(obj, "val", self.forward(x_val), y_val))
                for f, name in enumerate(names):
                    at[f][j].copy_(values[name])
            j += 1
            now = perf()
            stamps.append(now)
            if j >= room or now >= until or ctl.interrupt:
                self.buffered = j
                return now

    def take(self) -> tuple[list[dict[str, list]], list[float]]:
        """Every buffered epoch, read back with one host sync: per seed, columns keyed by epoch
        field (ratios as counts); and the epochs' clock stamps."""
        m, self.buffered = self.buffered, 0
        per_seed = self.buffer[:, :m].permute(2, 0, 1).tolist()  # (K, fields, m)
        gauged = self.gauges.take(m)
        for i, active in enumerate(self._active):
            self.ages[i] += m if active else 0
        stamps = self.stamps[:m]
        del self.stamps[:m]
        counts = {f.name for f in self.data.objective.task.metric_fields if f.per}
        out = []
        for fields, gauges in zip(per_seed, gauged):
            cols = dict(zip(self.names, fields)) | dict(zip(INSTRUMENT_NAMES, gauges))
            for name in counts.intersection(cols):
                cols[name] = [int(c) for c in cols[name]]
            out.append(cols)
        return out, stamps

"""Stacked seeds, the fused kernel: the runs of one configuration that differ only by seed,
trained as one computation.

Each layer's weights of K seeds (nn.Linear's layout) are stacked on a leading dimension and
applied with one `torch.baddbmm` to feature-major activations, (K, units, samples); the backward
pass is written out, no autograd graph: the task gives each seed's loss and its gradient with
respect to the outputs (`engine/tasks/`), then one batched matmul per weight gradient and per
input gradient, the ReLU's mask, and one `_foreach_add_` steps every seed. Each seed's gradient is
its own. A mask (K, 1, 1) zeroes the update of seeds that are paused or ended. These kernels sum
in another order than a single model's, so losses are not bit-identical to separate runs: they
agree to float32 rounding over the first epochs and, the dynamics being chaotic, only in
distribution later (docs/portability.md). A slot's numbers depend only on its own seed and the
stack's shape, never on the other slots. Full-batch SGD only (the hot path of a seed sweep;
config.validate refuses the rest).
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
            self.weights.append(torch.stack([s[layer][0] for s in slices]))
            self.biases.append(torch.stack([s[layer][1] for s in slices]))
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.k, self.lr, self.weight_decay = len(seeds), cfg.lr, cfg.weight_decay
        dev = data.x_train.device
        # The inputs feature-major, (features, samples), once: every seed reads the same.
        self.xt = data.x_train.t().contiguous()
        self.xt_val = None if data.x_val is None else data.x_val.t().contiguous()
        # The targets as the loss gradient reads them, made once (not every epoch).
        self.target_t = data.objective.grad_target(data.y_train, data.n_outputs)
        self.mask = torch.ones(self.k, 1, 1, device=dev)
        self._active = [True] * self.k
        self._all_active = True
        task = data.objective.task
        splits = ("train", "val") if data.has_val else ("train",)
        self.names = [f.name for f in task.metric_fields
                      if f.name.split("_")[0] in splits and f.name not in INSTRUMENT_NAMES]
        # Each epoch's losses and outputs are buffered; the metrics are computed at read-back,
        # for every buffered epoch and seed in one batch (a few ops, not a few an epoch).
        n, c, n_val = data.n_train, data.n_outputs, data.n_val
        self.rows = max(1, min(FLUSH_MAX, BUFFER_FLOATS // (self.k * (1 + (n + n_val) * c))))
        self.loss = torch.empty(self.rows, self.k, device=dev)
        self.out = torch.empty(self.rows, self.k, n, c, device=dev)
        self.val_out = torch.empty(self.rows, self.k, n_val, c, device=dev) if n_val else None
        self.loss_at, self.out_at = self.loss.unbind(0), self.out.unbind(0)
        self.val_at = None if self.val_out is None else self.val_out.unbind(0)
        self.stamps: list[float] = []  # perf_counter() at the end of each buffered epoch
        self.buffered = 0
        from mlp_tui.engine.instruments import Gauges

        self.gauges = Gauges(self.rows, cfg.sharpness, dev, self.k)
        self.ages = [0] * self.k  # each slot's epochs read back since its weights were seeded

    @property
    def slots(self) -> int:
        return self.k

    def _initial(self, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight, bias as a column) of each layer of the seed's own model: nn.Linear's
        (outputs, inputs) layout, which the feature-major products below read fastest."""
        import torch

        from mlp_tui.engine.step import build

        model = build(self.cfg, self.data, self.width, seed)[0]
        return [
            (m.weight.detach().clone(), m.bias.detach().unsqueeze(1).clone())
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

    def epoch(self, j: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch of every seed whose mask is 1; (loss, outputs) per seed before the step.
        `j`: the buffered row its instruments go to (None: not measured). The backward pass is
        written out (no autograd graph): about a dozen batched ops for a one-hidden-layer MLP."""
        import torch

        if j is not None and self.gauges.every:
            self._sharpness(j)
        acts = self._activations(self.xt)
        per_seed, grad_out = self.data.objective.row_loss_grads(acts[-1], self.target_t)
        grads = self._backward(acts, grad_out)
        if j is not None:  # the hook after backward, before the update
            self.gauges.norms(j, grads, self.params)
        if self.weight_decay:  # coupled L2, as step.PlainSGD and torch.optim.SGD add it
            torch._foreach_add_(grads, self.params, alpha=self.weight_decay)
        if not self._all_active:
            for g in grads:
                g.mul_(self.mask)
        torch._foreach_add_(self.params, grads, alpha=-self.lr)
        return per_seed, acts[-1].transpose(1, 2)  # (K, samples, outputs), a view

    def _activations(self, xt: torch.Tensor) -> list[torch.Tensor]:
        """Each layer's input (the data, then each hidden layer after its ReLU) and the outputs,
        feature-major, (K, units, samples) each: W @ A + b per seed. With the samples last, the
        products with few outputs or few inputs run 2.5-4x faster than sample-major ones here
        (docs/benchmarks.md, "The fused kernel")."""
        import torch

        acts = [xt.unsqueeze(0).expand(self.k, *xt.shape)]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, w, acts[-1])
            acts.append(h.relu_() if i < last else h)
        return acts

    def _backward(self, acts: list[torch.Tensor], grad: torch.Tensor) -> list[torch.Tensor]:
        """The gradients of each seed's own loss, in `params` order, from the loss gradient
        with respect to the outputs (feature-major, as the activations): per layer, the weight's
        is grad @ input^T, the bias's the sum over samples, and the input's weight^T @ grad
        where the ReLU let it through."""
        import torch

        out: list[torch.Tensor] = []
        for layer in range(len(self.weights) - 1, -1, -1):
            a = acts[layer]
            out += [grad.sum(2, keepdim=True), torch.bmm(grad, a.transpose(1, 2))]
            if layer:
                grad = torch.bmm(self.weights[layer].transpose(1, 2), grad)
                grad = torch.ops.aten.threshold_backward(grad, a, 0)
        return out[::-1]

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

        xt_val, stamps, perf = self.xt_val, self.stamps, time.perf_counter
        loss_at, out_at, val_at = self.loss_at, self.out_at, self.val_at
        j = self.buffered
        while True:
            per_seed, out = self.epoch(j)
            loss_at[j].copy_(per_seed)
            out_at[j].copy_(out)
            if val_at is not None:
                with torch.inference_mode():
                    val_at[j].copy_(self._activations(xt_val)[-1].transpose(1, 2))
            j += 1
            now = perf()
            stamps.append(now)
            if j >= room or now >= until or ctl.interrupt:
                self.buffered = j
                return now

    def take(self) -> tuple[list[dict[str, list]], list[float]]:
        """Every buffered epoch, read back with one host sync: per seed, columns keyed by epoch
        field (ratios as counts); and the epochs' clock stamps."""
        import torch

        from mlp_tui.engine.tasks import split_metrics

        m, self.buffered = self.buffered, 0
        data, obj, k = self.data, self.data.objective, self.k
        rows = m * k  # every buffered epoch of every seed, one row each
        values = split_metrics(obj, "train", self.out[:m].view(rows, *self.out.shape[2:]),
                               data.y_train, self.loss[:m].view(rows))
        if self.val_out is not None:
            values.update(split_metrics(obj, "val", self.val_out[:m].view(
                rows, *self.val_out.shape[2:]), data.y_val))
        with torch.no_grad():
            table = torch.stack([values[name].float() for name in self.names])
        per_seed = table.view(len(self.names), m, k).permute(2, 0, 1).tolist()  # (K, fields, m)
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

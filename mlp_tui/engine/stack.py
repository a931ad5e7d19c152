"""Stacked seeds: the runs of one configuration that differ only by seed, trained as one model.

Each layer's weights of K seeds are stacked on a leading dimension and applied with one
`torch.baddbmm`; each seed's mean cross-entropy is summed before one `backward` (so each seed's
gradient is its own) and one `_foreach_add_` steps every seed. A mask (K, 1, 1) zeroes the update
of seeds that are paused. Batched kernels sum in another order than a single model's, so losses
are not bit-identical to separate runs: after 200 epochs they differ by at most about 4e-7 at
width 5, 2e-6 at width 100 and 2e-5 at width 1000 (FACTS.md "Stacking seeds").
Full-batch SGD only (the hot path of a seed sweep).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlp_tui.config import ExperimentConfig

if TYPE_CHECKING:
    import torch

    from mlp_tui.engine.data import Dataset


def stackable(cfg: ExperimentConfig) -> str | None:
    """Why this point of a config cannot be stacked, or None when it can."""
    if cfg.optimizer != "sgd":
        return "--stack trains with sgd only"
    if cfg.batch_size and cfg.batch_size < cfg.n_samples:
        return "--stack trains full batches only (--batch-size 0)"
    return None


class StackedTrainer:
    """K seeds of one width and config: the seeded initial weights of each seed's own model
    (engine.step.build), stacked; `epoch()` trains every unmasked seed one full-batch epoch."""

    def __init__(self, cfg: ExperimentConfig, data: Dataset, width: int, seeds: list[int]):
        import torch

        from mlp_tui.engine.step import build

        models = [build(cfg, data, width, seed)[0] for seed in seeds]
        linears = [[m for m in model if isinstance(m, torch.nn.Linear)] for model in models]
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor] = []
        for layer in range(len(linears[0])):
            w = torch.stack([lin[layer].weight.detach().t() for lin in linears]).contiguous()
            b = torch.stack([lin[layer].bias.detach().unsqueeze(0) for lin in linears])
            self.weights.append(w.requires_grad_())
            self.biases.append(b.contiguous().requires_grad_())
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.k, self.lr, self.data = len(seeds), cfg.lr, data
        self.mask = torch.ones(self.k, 1, 1, device=data.x_train.device)
        self._y = data.y_train.repeat(self.k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of every seed, (K, samples, classes)."""
        h = x.unsqueeze(0).expand(self.k, *x.shape)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch_baddbmm(b, h, w)
            if i < last:
                h = h.relu()
        return h

    def epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch of every seed whose mask is 1; (loss, logits) per seed before the step."""
        import torch
        import torch.nn.functional as F

        out = self.forward(self.data.x_train)
        k, n, c = out.shape
        losses = F.cross_entropy(out.reshape(k * n, c), self._y, reduction="none").view(k, n)
        per_seed = losses.mean(1)
        for p in self.params:
            p.grad = None
        per_seed.sum().backward()
        grads = [p.grad.mul_(self.mask) for p in self.params]
        with torch.no_grad():
            torch._foreach_add_(self.params, grads, alpha=-self.lr)
        return per_seed.detach(), out.detach()

    def set_active(self, seed_index: int, active: bool) -> None:
        """Pause (mask out) or resume one seed's updates."""
        self.mask[seed_index] = 1.0 if active else 0.0


def torch_baddbmm(b: torch.Tensor, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.baddbmm(b, h, w)

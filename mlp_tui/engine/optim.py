"""Optimizers for the hot loop.

Plain SGD (no momentum) is one in-place update per parameter, `p -= lr * p.grad`; with
`--weight-decay` the gradient first gets `weight_decay * p` added, as `torch.optim.SGD` adds it.
`torch.optim.SGD.step` wraps this in Python that an MLP this small pays for on every epoch: step
hooks, a profiler record, dynamo guards, param-group bookkeeping, a large share of a small width's
epoch (figures: docs/benchmarks.md). `PlainSGD` issues the same update with one
`torch._foreach_add_` call, which on the CPU applies `add_(grad, alpha=-lr)` to each parameter
(after `grad.add(p, alpha=wd)` for the decay), the kernels `torch.optim.SGD` runs there, so the
weights stay bit-identical to a notebook's loop (tests compare them after hundreds of epochs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import torch


class PlainSGD:
    """`torch.optim.SGD(params, lr, weight_decay=...)` without its per-step Python overhead."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float,
                 weight_decay: float = 0.0) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.weight_decay = weight_decay

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (as `torch.optim` does by default)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        with_grad = [p for p in self.params if p.grad is not None]
        if with_grad:
            with torch.no_grad():
                grads = [p.grad for p in with_grad]
                if self.weight_decay:  # torch.optim.SGD's own op, per tensor
                    grads = [g.add(p, alpha=self.weight_decay) for g, p in zip(grads, with_grad)]
                torch._foreach_add_(with_grad, grads, alpha=-self.lr)

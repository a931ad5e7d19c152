"""The multi-layer perceptron: Linear -> ReLU (-> Dropout) -> ... -> Linear.

Imported only when a model is built (it imports torch). Dropout draws its masks from the run's
own generator (`SeededDropout`), never torch's global one: worker threads share that, so a run's
masks would depend on its neighbours' draws. A saved model loads into a plain `nn.Sequential`
with `nn.Dropout` at the same places (dropout has no parameters).
"""

from __future__ import annotations

import torch
from torch import nn


def layer_sizes(n_in: int, width: int, depth: int, n_out: int) -> list[int]:
    """The model as one list of sizes, e.g. [4, 100, 3] for depth 1."""
    return [n_in, *([width] * depth), n_out]


class SeededDropout(nn.Module):
    """`nn.Dropout(p)` whose training-mode masks come from `generator`: `x * mask / (1 - p)`,
    mask ~ Bernoulli(1 - p), one draw per element in order; the identity in eval mode."""

    def __init__(self, p: float, generator: torch.Generator | None) -> None:
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        mask = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * mask / (1 - self.p)


def build_mlp(
    n_in: int, width: int, depth: int, n_out: int, dropout: float = 0.0,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """For depth 1 exactly `Linear(n_in, h) -> ReLU -> Linear(h, n_out)`, built in that order
    so that a seeded build draws the same initial weights as the notebook's model; with
    `dropout`, a `SeededDropout` after each hidden ReLU, drawing from `generator`."""
    sizes = layer_sizes(n_in, width, depth, n_out)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(SeededDropout(dropout, generator))
    return nn.Sequential(*layers)

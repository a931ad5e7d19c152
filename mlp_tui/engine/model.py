"""The multi-layer perceptron: Linear -> ReLU -> ... -> Linear."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


def layer_sizes(n_in: int, width: int, depth: int, n_out: int) -> list[int]:
    """The model as one list of sizes, e.g. [4, 100, 3] for depth 1."""
    return [n_in, *([width] * depth), n_out]


def build_mlp(n_in: int, width: int, depth: int, n_out: int) -> nn.Sequential:
    """For depth 1 exactly `Linear(n_in, h) -> ReLU -> Linear(h, n_out)`, built in that order
    so that a seeded build draws the same initial weights as the notebook's model."""
    from torch import nn

    sizes = layer_sizes(n_in, width, depth, n_out)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)

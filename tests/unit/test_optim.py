"""PlainSGD: the engine's lean SGD step must leave exactly the weights torch.optim.SGD leaves."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlp_tui.engine.optim import PlainSGD


def _train(make_opt, width: int, epochs: int, batch: int = 0) -> list[torch.Tensor]:
    torch.manual_seed(7)
    x = torch.randn(150, 4) * 3
    y = torch.randint(0, 3, (150,))
    model = nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 3))
    opt = make_opt(model.parameters())
    chunks = [slice(i, i + batch) for i in range(0, 150, batch)] if batch else [slice(0, 150)]
    for _ in range(epochs):
        for s in chunks:
            loss = nn.functional.cross_entropy(model(x[s]), y[s])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(("width", "batch"), [(5, 0), (1000, 0), (100, 32)])
def test_plain_sgd_is_bit_identical_to_torch_sgd(width, batch):
    ours = _train(lambda ps: PlainSGD(ps, lr=0.1), width, 60, batch)
    torchs = _train(lambda ps: torch.optim.SGD(ps, lr=0.1), width, 60, batch)
    assert all(torch.equal(a, b) for a, b in zip(ours, torchs))
    assert not torch.equal(ours[0], _train(lambda ps: PlainSGD(ps, lr=0.1), width, 59, batch)[0])


def test_plain_sgd_skips_parameters_without_gradients_and_frozen_ones():
    used, unused, frozen = (torch.ones(2, requires_grad=True) for _ in range(3))
    frozen.requires_grad_(False)
    opt = PlainSGD([used, unused, frozen], lr=0.5)
    (used * torch.tensor([1.0, 2.0])).sum().backward()
    opt.step()
    assert used.tolist() == [0.5, 0.0]
    assert unused.tolist() == [1.0, 1.0] and frozen.tolist() == [1.0, 1.0]
    opt.zero_grad()
    assert used.grad is None

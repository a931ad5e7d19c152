"""Regression: mean squared error as the loss; MAE and R² as metrics. R² is computed per target
against the split's own mean and averaged over the targets, as scikit-learn's `r2_score` does by
default (`multioutput="uniform_average"`); a constant target scores 1 when predicted exactly,
else 0, as scikit-learn's `force_finite` does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlp_tui.core.task import REGRESSION
from mlp_tui.engine.health import STALL_FLOOR_SHARE, Baseline

if TYPE_CHECKING:
    import numpy as np
    import torch


def _r2(sse: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over targets of 1 - SSE/SST; `sse` (..., targets)."""
    import torch

    sst = (y - y.mean(0)).pow(2).sum(0)
    r2 = 1 - sse / torch.where(sst > 0, sst, torch.ones_like(sst))
    exact = torch.where(sse == 0, torch.ones_like(sse), torch.zeros_like(sse))
    return torch.where(sst > 0, r2, exact).mean(-1)


class Regression:
    task = REGRESSION

    def target(self, y: np.ndarray, device: str) -> torch.Tensor:
        import torch

        t = torch.tensor(y, dtype=torch.float32, device=device)
        return t.reshape(t.shape[0], -1)  # (samples, targets), one target a column too

    @property
    def loss(self):
        import torch.nn.functional as F

        return F.mse_loss

    def row_losses(self, outs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (outs - y).pow(2).mean((1, 2))

    def grad_target(self, y: torch.Tensor, n_outputs: int) -> torch.Tensor:
        return y.t().contiguous()

    def row_loss_grads(self, outs_t: torch.Tensor, target_t: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean squared error per row and its gradient, 2 (out - y) / (samples x targets)."""
        err = outs_t - target_t
        return err.pow(2).mean((1, 2)), err.mul_(2.0 / target_t.numel())

    def metrics(self, outs: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        err = outs - y
        return {"mae": err.abs().mean((1, 2)), "r2": _r2(err.pow(2).sum(1), y)}

    def running(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Summed absolute errors, then each target's summed squared errors."""
        import torch

        err = out - y
        return torch.cat((err.abs().sum().reshape(1), err.pow(2).sum(0)))

    def finish(self, sums: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        n, k = y.shape
        return {"mae": sums[..., 0] / (n * k), "r2": _r2(sums[..., 1:], y)}

    def noised(self, y: torch.Tensor, fraction: float, seed: int, n_outputs: int) -> torch.Tensor:
        """Gaussian noise on every target, its std `fraction` times the target's own (over the
        training split), in float64, then as float32."""
        import numpy as np
        import torch

        rng = np.random.RandomState(seed % 2**32)
        values = y.cpu().numpy().astype(np.float64)
        values = values + rng.standard_normal(values.shape) * fraction * values.std(axis=0)
        return torch.tensor(values, dtype=y.dtype, device=y.device)

    def baseline(self, y: np.ndarray, n_outputs: int) -> Baseline:
        """The mean predictor: its MSE is the targets' variance (averaged), its R² is 0; a run
        whose R² never rose above 0 over the health window is no better than it."""
        import numpy as np

        var = float(np.var(np.asarray(y, dtype=np.float64).reshape(len(y), -1), axis=0).mean())
        return Baseline(var, 0.0, 0.0, STALL_FLOOR_SHARE * var, REGRESSION.baseline)

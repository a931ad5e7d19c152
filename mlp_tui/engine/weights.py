"""A run's weights at any epoch, recomputed: the run's own kernel retrained from its seed.

Training is deterministic (seeded initialization, minibatch order, dropout masks and label
noise; the same kernels under the same thread count), so retraining a run reproduces its weights
bit for bit (tests/unit/test_save_models.py checks it against the recorded losses). That is how
`--save-models` gets a run's best weights without the hot loop copying weights every epoch, and
how it gets them for any backend: only the run's settings and seed are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig

if TYPE_CHECKING:
    import torch

    from mlp_tui.engine.data import Dataset


class _Never:
    interrupt = False


def weights_at(
    cfg: ExperimentConfig, width: int, seed: int, epochs: Sequence[int],
    data: Dataset | None = None,
) -> dict[int, dict[str, torch.Tensor]]:
    """The model's `state_dict` after each of `epochs` epochs (0: as initialized), retrained
    from `seed` with the run's kernel in the calling thread (its torch thread count set to the
    run's)."""
    import math

    from mlp_tui.engine.data import load_dataset
    from mlp_tui.engine.kernels import model_kernel
    from mlp_tui.engine.step import configure_threads

    configure_threads(cfg.threads)
    data = data if data is not None else load_dataset(cfg)
    trainer = model_kernel(cfg, data, width, seed)
    wanted, out = sorted(set(epochs)), {}
    done = 0
    for target in wanted:
        while done < target:
            trainer.compute(trainer.buffered + 1, math.inf, _Never)
            done += 1
            if trainer.buffered == trainer.rows:
                trainer.take()
        out[target] = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    return out

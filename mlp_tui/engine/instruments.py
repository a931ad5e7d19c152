"""The instruments' side of a kernel: the gradient norm, weight norm and sharpness of each epoch
(`core/task.py` declares them), written into a read-back buffer of the kernel's.

A kernel makes two calls: `norms(j, grads, params)` after its backward (before the step: the
weights the epoch's loss was computed at), and, where `due()` says, `sharpness(j, ...)` before
its forward. Both only read the weights, so the training is unchanged bit for bit. A reading not
taken stays NaN: a missing reading is empty, never interpolated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlp_tui.core.task import INSTRUMENT_NAMES

if TYPE_CHECKING:
    import torch

GRAD, WEIGHT, SHARP = range(3)  # rows of the buffer, in `INSTRUMENT_NAMES` order


class Gauges:
    """The instruments' buffer of one kernel, (instruments, rows, seeds): one seed for a single
    model, K for a stack. `every`: a sharpness reading every that many epochs of a seed's life
    (its first epoch, its initial weights, always read); 0 = none."""

    def __init__(self, rows: int, every: int, device, seeds: int = 1) -> None:
        import torch

        self.every = every
        self.buffer = torch.full((len(INSTRUMENT_NAMES), rows, seeds), float("nan"),
                                 device=device)
        self.at = [self.buffer[i].unbind(0) for i in range(len(INSTRUMENT_NAMES))]
        self.vectors: list[torch.Tensor | None] = [None] * seeds  # each seed's last top vector
        self.parts: torch.Tensor | None = None  # a single model's per-tensor norms, (rows, n)
        self.split = 0  # the gradients' share of `parts`' columns

    def due(self, age: int) -> bool:
        """A reading at a seed's epoch `age + 1` (age: its epochs computed so far)."""
        return self.every > 0 and age % self.every == 0

    def norms(self, j: int, grads: list[torch.Tensor], params: list[torch.Tensor]) -> None:
        """Epoch j's global L2 norms of the gradient and of the weights, per seed (a stack's
        tensors carry the seeds on their first dimension). A single model's hot loop pays two
        ops: each tensor's norm into a row of `parts`; `take` combines the rows in one batch."""
        import torch

        with torch.no_grad():
            if self.buffer.shape[2] == 1:
                if self.parts is None:
                    self.split = len(grads)
                    self.parts = torch.empty(self.buffer.shape[1], len(grads) + len(params),
                                             device=self.buffer.device)
                torch.stack(torch._foreach_norm([*grads, *params]), out=self.parts[j])
                return
            norm = torch.linalg.vector_norm
            for row, ts in ((GRAD, grads), (WEIGHT, params)):  # one op a tensor, one to combine
                parts = torch.stack([norm(t.flatten(1), dim=1) for t in ts])
                torch.linalg.vector_norm(parts, dim=0, out=self.at[row][j])

    def sharpness(self, j: int, loss_of, params: list[torch.Tensor], seed: int = 0) -> None:
        """Read seed `seed`'s sharpness at `params` into epoch j (warm-started from its last)."""
        from mlp_tui.engine.curvature import sharpness

        reading = sharpness(loss_of, params, self.vectors[seed])
        self.vectors[seed] = reading.vector
        self.at[SHARP][j][seed] = reading.value

    def forget(self, seed: int = 0) -> None:
        """A seed's weights were re-initialized: its next reading starts afresh."""
        self.vectors[seed] = None

    def take(self, m: int) -> list[list[list[float]]]:
        """The first m epochs, per seed: [instrument][epoch] lists; the rows are cleared."""
        if self.parts is not None:  # every buffered epoch of a single model wrote its norms
            sq, k = self.parts[:m].square(), self.split
            self.buffer[GRAD, :m, 0] = sq[:, :k].sum(1).sqrt()
            self.buffer[WEIGHT, :m, 0] = sq[:, k:].sum(1).sqrt()
        out = self.buffer[:, :m].permute(2, 0, 1).tolist()
        self.buffer[:, :m] = float("nan")
        return out

    def columns(self, m: int) -> dict[str, list[float]]:
        """A single model's first m epochs, keyed by epoch field."""
        return dict(zip(INSTRUMENT_NAMES, self.take(m)[0]))

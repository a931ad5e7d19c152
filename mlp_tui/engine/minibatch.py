"""The minibatch kernel: one model trained on shuffled minibatches (`--batch-size`).

An epoch has no one set of outputs to keep: its train metrics are those of each batch's outputs
before its step, summed over the epoch as the task's running statistics (as a minibatch trainer
reports them), so only the sums are buffered. The shuffling order comes from a generator of the
life's own, seeded by its seed.
"""

from __future__ import annotations

from mlp_tui.engine.kernel import Interruptible
from mlp_tui.engine.step import Trainer


class MinibatchTrainer(Trainer):
    """`step.Trainer` with shuffled minibatches: the same buffers, read-back and controls."""

    keeps_outputs = False

    def reseed(self, slot: int, seed: int) -> None:
        import torch

        super().reseed(slot, seed)
        self.batch = self.cfg.batch_size
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self.sums: torch.Tensor | None = None  # each buffered epoch's summed statistics

    @property
    def reads_sharpness(self) -> bool:
        return False  # a minibatch epoch has no one loss to take the Hessian of

    def compute(self, room: int, until: float, ctl: Interruptible) -> float:
        import torch

        model, x, y = self.model, self.data.x_train, self.y_train
        obj = self.data.objective
        loss_fn, running = obj.loss, obj.running
        n, batch = x.shape[0], self.batch
        j = self.buffered
        while True:
            perm = torch.randperm(n, generator=self.gen).to(x.device)
            loss_sum = torch.zeros((), device=x.device)
            stats = None
            for i in range(0, n, batch):
                idx = perm[i : i + batch]
                out = model(x[idx])
                loss = loss_fn(out, y[idx])
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                with torch.no_grad():
                    loss_sum += loss.detach() * idx.shape[0]
                    s = running(out, y[idx])
                    stats = s if stats is None else stats + s
            if self.sums is None:
                self.sums = torch.empty(self.rows, stats.shape[0], device=x.device)
            self.loss[j].copy_(loss_sum / n)
            self.sums[j].copy_(stats)
            if self.val_out is not None:
                self._validate(j)
            j += 1
            if (now := self._epoch_end(j, room, until, ctl)) is not None:
                return now

    def _train_values(self, m: int) -> dict:
        finished = self.data.objective.finish(self.sums[:m], self.y_train)
        return {"train_loss": self.loss[:m], **{f"train_{k}": v for k, v in finished.items()}}

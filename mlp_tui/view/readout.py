"""The cursor's readout line: every visible width's recorded values at the cursor epoch."""

from __future__ import annotations

from mlp_tui.view.fmt import fmt_num


def readout_text(monitor, epoch: int) -> str:
    """`epoch N │ w=5 loss 0.5123/0.6012 acc 0.780/0.700 │ ...` (train/val; means of seeds)."""
    parts = [f"epoch {epoch}"]
    has_val = monitor.has_val
    for width, n, v in monitor.readout(epoch):
        if not n:
            parts.append(f"w={width} not reached")
            continue
        loss, acc = fmt_num(v["train_loss"]), fmt_num(v["train_acc"], ".3f")
        if has_val:
            loss += "/" + fmt_num(v["val_loss"])
            acc += "/" + fmt_num(v["val_acc"], ".3f")
        seeds = f" (mean of {n})" if len(monitor.group(width)) > 1 else ""
        parts.append(f"w={width} loss {loss} acc {acc}{seeds}")
    if has_val:
        parts[0] += " (train/val)"
    return " │ ".join(parts)

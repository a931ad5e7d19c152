"""The cursor's readout line: every visible width's recorded values at the cursor epoch."""

from __future__ import annotations

from mlp_tui.view.fmt import fmt_num


def readout_text(monitor, epoch: int) -> str:
    """`epoch N · loss, acc (train/val) │ w=5 0.5123/0.6012 0.780/0.700 │ ...`: the recorded
    values (the mean over seeds with repeats), never the plotted (sampled, smoothed) ones."""
    has_val = monitor.has_val
    task = monitor.session.task
    score = task.metric(task.score)
    head = f"epoch {epoch} · loss, {score.short}" + (" (train/val)" if has_val else "")
    if monitor.repeats:
        head += ", means over seeds"
    parts = [head]
    for name, n, v in monitor.readout(epoch):
        if not n:
            parts.append(f"{name} not reached")
            continue
        fmt = score.fmt or ".4f"
        loss, acc = fmt_num(v["train_loss"]), fmt_num(v[f"train_{score.key}"], fmt)
        if has_val:
            loss += "/" + fmt_num(v["val_loss"])
            acc += "/" + fmt_num(v[f"val_{score.key}"], fmt)
        parts.append(f"{name} {loss} {acc}")
    return " │ ".join(parts)

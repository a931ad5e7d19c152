"""The planner: the fastest correct way to train an experiment, chosen without a flag.

Two choices, each made only where the user asked for throughput (`--speed 0`, or the Python API,
which trains unthrottled) and gave no flag that decides it:

- **the kernel**: the seeds (`--repeats`) of each width and grid point train stacked on the fused
  kernel (engine/stack_step.py) where it applies (full-batch SGD without momentum, dropout or
  label noise, and not on Ray). A paced run keeps the plain kernel: it computes an epoch when the
  pace asks, so speed buys nothing, and its numbers stay the notebook loop's bit for bit.
  `--exact` keeps the plain kernel everywhere; `--stack` stacks paced runs too.
- **the backend**: worker processes (one per core) where the work pays for their start (the
  estimate below, at least `PROCESS_PAYS_S` of one core), there are at least two units of work
  and two cores, and nobody watches the first epochs (headless, the Python API): a process
  needs a second or two to import torch, and the TUI shows the first epochs as fast as threads.

A unit's kernel is named in the header (`stacked`) and in every exported row (`stack`); the
effective configuration (the config sidecar) records it, so a rerun from the sidecar trains the
same way.
"""

from __future__ import annotations

import os

from mlp_tui.core.config import ExperimentConfig, stackable

# The fused kernel's cost of one epoch of a unit (measured on the AMD EPYC development machine,
# docs/benchmarks.md "Ahead of the peers"): a fixed part of about 60 dispatched ops, and a part
# per hidden unit, sample and seed. The plain kernel's per run (autograd, the norms and the
# metrics: 250 us an epoch at width 5, 810 us at width 1000). Estimates, not promises: they only
# decide whether worker processes pay for their start.
FUSED_FIXED_S, FUSED_PER_UNIT_S = 150e-6, 2.8e-9
PLAIN_FIXED_S, PLAIN_PER_UNIT_S = 240e-6, 5.5e-9
PROCESS_PAYS_S = 4.0  # about twice the start of a pool of worker processes, torch imported


def plan(cfg: ExperimentConfig, backend: str | None, watched: bool,
         plain: bool = False) -> tuple[ExperimentConfig, str]:
    """The configuration and backend to train `cfg` with; `backend` None: not chosen by the
    user. `watched`: a face shows the first epochs (the TUI). `plain`: the runs must be the
    plain kernel's (`--save-models` recomputes weights by retraining a run with it)."""
    unthrottled = cfg.speed == 0
    if (unthrottled and not cfg.exact and not plain and not cfg.stack and cfg.repeats > 1
            and backend != "ray" and stackable(cfg)):
        cfg = cfg.with_changes(stack=True)
    if backend is not None:
        return cfg, backend
    cores = os.cpu_count() or 1
    if (unthrottled and not watched and not cfg.exact and cores >= 2 and units(cfg) >= 2
            and work_seconds(cfg) >= PROCESS_PAYS_S):
        return cfg, "process"
    return cfg, "thread"


def units(cfg: ExperimentConfig) -> int:
    """The units of work: one a run, or one a stack."""
    return cfg.n_runs // cfg.repeats if cfg.stack else cfg.n_runs


def work_seconds(cfg: ExperimentConfig) -> float:
    """One core's seconds to train every run to its last epoch, estimated."""
    points = cfg.points()
    hidden = sum(p.depth for p in points) * sum(cfg.widths)  # hidden units, every run once
    per_unit = (FUSED_PER_UNIT_S if cfg.stack else PLAIN_PER_UNIT_S) * hidden * cfg.n_samples
    fixed = (FUSED_FIXED_S * len(cfg.widths) * len(points) if cfg.stack
             else PLAIN_FIXED_S * cfg.n_runs)
    return cfg.epochs * (fixed + per_unit * cfg.repeats)

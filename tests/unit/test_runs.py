"""The policies every backend shares (core.runs, core.text): the thread backend and the hosted ones
number, seed, name and select their runs the same way, and tell an error the same way."""

from __future__ import annotations

import errno
from dataclasses import replace

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.runs import first_seed, next_seed, pauses, planned_runs, select, units
from mlp_tui.core.text import failure, reason
from mlp_tui.session.hosted import data_shape
from mlp_tui.session.remote import RemoteRun


def _grid():
    return validate(ExperimentConfig(widths=(5, 100), depth=(1, 2), lr=(0.1, 0.01), repeats=3,
                                     seed=7, epochs=5))


def _remote_runs(cfg):
    shape = data_shape(cfg)[1]
    return [RemoteRun(i, w, r, p, shape, cfg.grid_axes())
            for i, (w, p, r) in enumerate(planned_runs(cfg))]


def test_both_backends_plan_the_same_runs_in_the_same_order(make_experiment):
    cfg = _grid()
    threads = make_experiment(**{f: getattr(cfg, f) for f in ("widths", "depth", "lr", "repeats",
                                                              "seed", "epochs")}).runs
    hosted = _remote_runs(cfg)
    key = lambda r: (r.index, r.width, r.repeat, r.seed, r.group, r.label, r.cfg)  # noqa: E731
    assert [key(r) for r in threads] == [key(r) for r in hosted]
    assert len(threads) == 2 * 2 * 2 * 3
    assert [(r.width, r.repeat) for r in threads[:4]] == [(5, 0), (5, 1), (5, 2), (5, 0)]
    assert [r.seed for r in threads[:3]] == [7, 8, 9]


def test_the_seed_rule_a_restart_steps_by_the_repeats():
    cfg = _grid()
    assert [first_seed(cfg, i, r) for i, r in enumerate(range(3))] == [7, 8, 9]
    # --seeds (an export's record of restarts): each run's own, by its index
    seeds = tuple(range(100, 100 + cfg.n_runs))
    assert first_seed(replace(cfg, seeds=seeds), 5, 2) == 105
    assert next_seed(cfg, 8) == 11  # no other repeat ever takes it
    run = _remote_runs(cfg)[1]
    run.relife()
    assert run.seed == 11


def test_a_group_is_a_width_a_configuration_or_every_run():
    runs = _remote_runs(_grid())
    assert len(select(runs, None)) == 24
    assert {r.width for r in select(runs, 100)} == {100} and len(select(runs, 100)) == 12
    picked = select(runs, "w=5 d=2 lr=0.01")
    assert [r.repeat for r in picked] == [0, 1, 2] and {r.group for r in picked} == {
        "w=5 d=2 lr=0.01"}
    assert [len(u) for u in units(runs, stack=True)] == [3] * 8
    assert [len(u) for u in units(runs, stack=False)] == [1] * 24


class _Run:
    def __init__(self, active: bool, paused: bool) -> None:
        self.active, self.paused = active, paused


def test_a_toggle_pauses_while_any_run_trains_else_resumes():
    assert pauses([_Run(True, False), _Run(True, True)])
    assert not pauses([_Run(True, True), _Run(False, False)])  # paused or ended: resume
    assert not pauses([])


def test_an_error_is_told_one_way():
    assert reason(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"
    assert reason(ValueError("bad value")) == "bad value"
    assert failure(RuntimeError("boom")) == "RuntimeError: boom"
    assert failure(RuntimeError("a\n  b" + "c" * 400), limit=10) == "RuntimeError: a bccccccc"

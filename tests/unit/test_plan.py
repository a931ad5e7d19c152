"""The planner (#35 item 3): the fused kernel and worker processes chosen without a flag where
the user asked for throughput, and never where they change what the user asked for: a paced run,
`--exact`, a configuration the fused kernel cannot train, Ray, an explicit backend."""

from __future__ import annotations

import pytest

from mlp_tui.cli.args import parse_args
from mlp_tui.core.config import ConfigError

SWEEP = "--widths 2,3,4,6,8,12,16,24,32,48,64,96,128,256,512,1024 --repeats 8 --epochs 1000"


def _plan(line: str) -> tuple[bool, str]:
    inv = parse_args(line.split())
    return inv.config.stack, inv.backend


def test_an_unthrottled_sweep_of_seeds_gets_the_fused_kernel_and_worker_processes():
    assert _plan(f"--headless --speed 0 {SWEEP}") == (True, "process")


def test_watched_runs_stay_on_threads_and_paced_runs_on_the_plain_kernel():
    assert _plan(f"--speed 0 {SWEEP}") == (True, "thread")  # the TUI: first epochs at once
    assert _plan(f"--headless {SWEEP}") == (False, "thread")  # paced: the notebook's numbers
    assert _plan(f"--headless --speed 20 --stack {SWEEP}") == (True, "thread")  # asked for


def test_exact_keeps_the_plain_kernel_and_refuses_stack():
    assert _plan(f"--headless --speed 0 --exact {SWEEP}") == (False, "thread")
    with pytest.raises(ConfigError, match="--exact"):
        parse_args(f"--headless --speed 0 --exact --stack {SWEEP}".split())


def test_the_default_experiment_and_one_seed_runs_keep_the_plain_kernel_on_threads():
    assert _plan("--headless --speed 0") == (False, "thread")
    assert _plan("--headless --speed 0 --epochs 3000 --widths 5,100") == (False, "thread")


@pytest.mark.parametrize("extra", ["--momentum 0.9", "--dropout 0.1", "--label-noise 0.1",
                                   "--batch-size 32", "--optimizer adam"])
def test_what_the_fused_kernel_cannot_train_stays_plain(extra):
    stack, _ = _plan(f"--headless --speed 0 --widths 5 --repeats 4 {extra}")
    assert stack is False


def test_an_explicit_backend_is_kept():
    assert _plan(f"--headless --speed 0 --backend thread {SWEEP}") == (True, "thread")


def test_the_choice_is_in_the_effective_configuration_and_every_exported_row(tmp_path):
    from mlp_tui.core.schema import RUN_FIELDS

    assert "stack" in [f.name for f in RUN_FIELDS]
    inv = parse_args(f"--headless --speed 0 {SWEEP}".split())
    assert inv.config.stack is True  # the sidecar writes the effective configuration


def test_a_grid_of_depths_and_rates_is_planned_like_any_experiment():
    """CI once failed here: the estimate multiplied a grid axis's tuple."""
    stack, backend = _plan("--headless --speed 0 --widths 5,100 --depth 1,2 --lr 0.1,0.01 "
                           "--repeats 4 --epochs 3")
    assert (stack, backend) == (True, "thread")  # a few epochs: no process pays for its start
    stack, backend = _plan("--headless --speed 0 --widths 512,1024 --depth 1,2 --repeats 4 "
                           "--epochs 5000")
    assert (stack, backend) == (True, "process")


def test_saved_models_keep_the_plain_kernel_they_are_retrained_with(tmp_path):
    stack, _ = _plan(f"--headless --speed 0 --widths 5 --repeats 4 --save-models {tmp_path}/m")
    assert stack is False  # not an error about --stack the user never typed


def test_the_default_experiment_long_and_unthrottled_goes_to_worker_processes():
    """Measured: 3,000 epochs of widths 5, 100, 1000 headless took 6.9 s on threads and 5.4 s on
    two worker processes (AMD EPYC, 2 cores); its kernel stays the plain one (one seed a width)."""
    assert _plan("--headless --speed 0 --epochs 3000") == (False, "process")
    assert _plan("--headless --speed 0 --epochs 300") == (False, "thread")


def test_exact_trains_every_seed_as_the_notebooks_plain_loop():
    from helpers import plain_loop

    from mlp_tui.engine.experiment import Experiment

    line = "--headless --speed 0 --exact --widths 5,100 --repeats 3 --epochs 30"
    inv = parse_args(line.split())
    exp = Experiment(inv.config)
    exp.start()
    try:
        assert exp.wait(60), "runs did not finish"
        for run in exp.runs:
            losses = list(run.history.read()["train_loss"])
            assert losses == list(plain_loop(run.width, run.seed, 30)[0])  # every bit
    finally:
        exp.stop()

"""The input fuzz of tests/unit/test_input_fuzz.py with many more examples; the data files it
accepts are trained on (2 epochs, headless), so "runs" means a table at the end."""

from __future__ import annotations

import pytest
from input_fuzz import fuzz_in_child

MANY = {"config": 600, "csv": 300, "npz": 400, "events": 400}
TRAINED = {"csv": 150, "npz": 150}


@pytest.mark.parametrize("kind", MANY)
def test_many_fuzzed_inputs_run_or_say_one_line(kind):
    fuzz_in_child(kind, MANY[kind], timeout=600)


@pytest.mark.parametrize("kind", TRAINED)
def test_fuzzed_data_files_that_pass_the_checks_train(kind):
    fuzz_in_child(kind, TRAINED[kind], "--train", timeout=600)

"""Fuzz `--config`, `--dataset` (.csv, .npz) and `replay DIR` (event files) end to end through
`main` (tests/input_fuzz.py): each call runs, or says one line and exits 2; never a traceback,
never a raw control byte. Every kind fuzzes in a child process of its own, whose peak RSS must
stay under 500 MB. A bounded number of examples here; tests/e2e/test_input_fuzz_e2e.py runs
many more, and trains on the data files it accepts."""

from __future__ import annotations

import pytest
from input_fuzz import fuzz_in_child

EXAMPLES = {"config": 30, "csv": 20, "npz": 25, "events": 20}


@pytest.mark.parametrize("kind", EXAMPLES)
def test_fuzzed_inputs_run_or_say_one_line(kind):
    fuzz_in_child(kind, EXAMPLES[kind])

"""Fuzz `mlp-tui replay FILE --headless` end to end, in process: arbitrary bytes and mutated
valid histories end in a table on stdout (exit 0) or one line on stderr (exit 2), never a
traceback, within a time bound."""

from __future__ import annotations

import time
from pathlib import Path

from helpers import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlp_tui.cli.main import main

VALID = (DATA / "iris_seed0.jsonl").read_bytes().splitlines(keepends=True)[:40]
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _replay(tmp_path: Path, data: bytes, suffix: str, capsys) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    t0 = time.monotonic()
    code = main(["replay", str(path), "--headless"])
    out, err = capsys.readouterr()
    assert time.monotonic() - t0 < 20, "replay of a small file took too long"
    assert "Traceback" not in err
    if code == 0:
        assert out.startswith(" width") or out.lstrip().startswith("width"), out[:200]
        # only the closing summary (#23): what the recorded runs' health says, no error
        assert all(ln.startswith("mlp-tui: ") and "error" not in ln for ln in err.splitlines())
        assert ("health ok" in err or "not ok:" in err) and err.count("\n") == 1, err
    else:
        assert code == 2, (code, err)
        assert err.startswith("mlp-tui: error: ") and err.count("\n") == 1, err
        assert out == ""


@SETTINGS
@given(data=st.binary(max_size=4000), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_arbitrary_bytes(tmp_path, capsys, data, suffix):
    _replay(tmp_path, data, suffix, capsys)


@SETTINGS
@given(
    cuts=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 400)), max_size=6),
    junk=st.lists(st.binary(min_size=1, max_size=12), max_size=6),
)
def test_mutated_valid_history(tmp_path, capsys, cuts, junk):
    lines = list(VALID)
    for (i, pos), bad in zip(cuts, junk or [b"\x00"] * len(cuts)):
        line = lines[i]
        lines[i] = line[:pos] + bad + line[pos + len(bad) :]
    _replay(tmp_path, b"".join(lines), ".jsonl", capsys)

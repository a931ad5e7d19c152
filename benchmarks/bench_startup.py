"""Start-up: `mlp-tui --help`; what a user waits for, exec to the first drawn header in a real
pty; and the app's first frame against the cost of its imports."""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import Result, interleave, run_probe, wall_time
from pty_header import first_header_s

# What the probe imports (bundled datasets are read without scikit-learn: engine/bundled.py).
HEAVY_IMPORTS = "import torch, textual.app"


def console_script() -> str:
    """The installed `mlp-tui` next to this interpreter (PATH may hold a pyenv shim, a bash
    script that costs more than the command itself), else the one on PATH."""
    beside = Path(sys.executable).with_name("mlp-tui")
    found = str(beside) if beside.exists() else shutil.which("mlp-tui")
    if found is None:
        raise RuntimeError("mlp-tui is not installed")
    return found


def _load() -> str:
    """The 1-minute load average (the figure needs an idle machine to mean its target)."""
    try:
        return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def imports_s() -> float:
    """Seconds from spawning an interpreter to the end of HEAVY_IMPORTS (its exit excluded, as
    the first frame's is)."""
    code = f"import json, time; {HEAVY_IMPORTS}; print(json.dumps({{'done': time.monotonic()}}))"
    spawned, out = run_probe("-c", code)
    return out["done"] - spawned


def first_frame_s() -> float:
    """Seconds from spawning the probe to its first rendered frame."""
    spawned, out = run_probe("first_frame_probe.py")
    return out["first_frame"] - spawned


def startup(reps: int, concurrent: bool = False) -> list[Result]:
    """`concurrent` (smoke runs only: it skews the figures) runs the two slow probes at once."""
    script = console_script()
    s = interleave(
        {
            "python": lambda: wall_time([sys.executable, "-c", "pass"]),
            "help": lambda: wall_time([script, "--help"]),
        },
        reps,
    )
    slow = {"imports": imports_s, "first frame": first_frame_s,
            "pty header": lambda: first_header_s([script])}
    if concurrent:
        with ThreadPoolExecutor(len(slow)) as pool:
            futures = {name: [pool.submit(f) for _ in range(reps)] for name, f in slow.items()}
        s.times.update({name: [f.result() for f in fs] for name, fs in futures.items()})
    else:
        s.times.update(interleave(slow, reps).times)
    return [
        Result(
            "start-up: --help",
            s.median("help"),
            0.3,
            "s",
            detail=f"{script} --help, median of {reps}; "
            + s.describe("help", "python")
            + f"; help/python {s.ratio('help', 'python'):.2f}x",
        ),
        Result(
            "start-up: first header in a pty",
            s.median("pty header"),
            0.6,
            "s",
            detail=f"exec of `{script}` on a 160x45 pty to its first drawn header (LOADING "
            f"TORCH or RUNNING), median of {reps}; load average {_load()}; "
            + s.describe("pty header"),
        ),
        Result(
            "start-up: first frame",
            s.difference("first frame", "imports"),
            0.5,
            "s",
            detail=f"first frame - import cost ({HEAVY_IMPORTS!r}), both from spawn, median of "
            f"{reps} pairs; " + s.describe("first frame", "imports"),
        ),
    ]

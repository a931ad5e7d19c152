"""mlp-tui against its peers on the same work, each as a whole process (start-up and imports
included), run in alternation in one invocation so that the ratios hold on a drifting machine.

    python benchmarks/peers.py                  # every workload, 3 repetitions
    python benchmarks/peers.py --only sweep --reps 1
    python benchmarks/peers.py --quick          # tiny sizes: checks that it runs

Workloads (docs/benchmarks.md, "Ahead of the peers"):
- sweep: iris, widths 2..1024 (16) x 8 seeds x 1,000 epochs, full-batch SGD lr 0.1, every epoch's
  loss kept: `mlp-tui --headless --speed 0` (the planner's choice) against scikit-learn's
  MLPClassifier(solver="sgd", batch_size=150, momentum=0, alpha=0), one fit after another, and
  JAX (jit(vmap(lax.scan)) over the seeds of each width, compile included) when it is installed;
- default: the default experiment (widths 5, 100, 1000) at 3,000 epochs, the same way;
- seeds: width 5 x 32 seeds x 2,000 epochs, the default against `--exact --backend thread`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import interleave  # noqa: E402

SWEEP = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024)

SKLEARN = """
import sys, warnings
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
warnings.simplefilter("ignore", ConvergenceWarning)
x, y = load_iris(return_X_y=True)
widths, seeds, epochs = eval(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for w in widths:
    for s in range(seeds):
        MLPClassifier(hidden_layer_sizes=(w,), solver="sgd", batch_size=150, momentum=0,
                      alpha=0, learning_rate_init=0.1, max_iter=epochs, n_iter_no_change=epochs,
                      tol=0, shuffle=False, random_state=s).fit(x, y)
"""

JAX = """
import sys
import jax, jax.numpy as jnp
from sklearn.datasets import load_iris
x, y = load_iris(return_X_y=True)
x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y)
widths, seeds, epochs = eval(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def init(key, w):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    a, b = 1 / 4 ** 0.5, 1 / w ** 0.5
    return (jax.random.uniform(k1, (4, w), minval=-a, maxval=a),
            jax.random.uniform(k2, (w,), minval=-a, maxval=a),
            jax.random.uniform(k3, (w, 3), minval=-b, maxval=b),
            jax.random.uniform(k4, (3,), minval=-b, maxval=b))

def loss(p):
    h = jax.nn.relu(x @ p[0] + p[1])
    logp = jax.nn.log_softmax(h @ p[2] + p[3])
    return -jnp.take_along_axis(logp, y[:, None], 1).mean()

def step(p, _):
    value, g = jax.value_and_grad(loss)(p)
    return jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g), value

for w in widths:
    params = jax.vmap(lambda k: init(k, w))(jax.random.split(jax.random.PRNGKey(0), seeds))
    run = jax.jit(jax.vmap(lambda p: jax.lax.scan(step, p, None, length=epochs)))
    jax.block_until_ready(run(params)[1])
"""


def _timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})}, timeout=3600)
    return time.perf_counter() - t0


def _mlp_tui(widths: tuple[int, ...], seeds: int, epochs: int, *extra: str):
    exe = shutil.which("mlp-tui") or "mlp-tui"
    out = Path(tempfile.mkdtemp()) / "final.csv"  # every run's final row written, as a user would
    argv = [exe, "--headless", "--quiet", "--speed", "0", "--widths", ",".join(map(str, widths)),
            "--repeats", str(seeds), "--epochs", str(epochs), "--export", str(out), "--force",
            *extra]
    return lambda: _timed(argv)


def _script(source: str, widths: tuple[int, ...], seeds: int, epochs: int):
    return lambda: _timed([sys.executable, "-c", source, repr(widths), str(seeds), str(epochs)])


def workloads(quick: bool) -> dict[str, tuple[str, dict]]:
    scale = 20 if quick else 1
    sweep = (SWEEP[:4] + SWEEP[-2:]) if quick else SWEEP
    jax = importlib.util.find_spec("jax") is not None
    out: dict[str, tuple[str, dict]] = {}
    alts = {"mlp-tui": _mlp_tui(sweep, 8, 1000 // scale),
            "scikit-learn": _script(SKLEARN, sweep, 8, 1000 // scale)}
    if jax:
        alts["jax"] = _script(JAX, sweep, 8, 1000 // scale)
    out["sweep"] = ("16 widths x 8 seeds x 1,000 epochs", alts)
    out["default"] = ("widths 5,100,1000 x 3,000 epochs", {
        "mlp-tui": _mlp_tui((5, 100, 1000), 1, 3000 // scale),
        "scikit-learn": _script(SKLEARN, (5, 100, 1000), 1, 3000 // scale)})
    out["seeds"] = ("width 5 x 32 seeds x 2,000 epochs", {
        "mlp-tui": _mlp_tui((5,), 32, 2000 // scale),
        "--exact --backend thread": _mlp_tui((5,), 32, 2000 // scale, "--exact", "--backend",
                                             "thread")})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="", help="comma list: sweep,default,seeds")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    import platform

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    print(f"{cpu} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.2f} at the start")
    only = [w for w in args.only.split(",") if w]
    for name, (what, alts) in workloads(args.quick).items():
        if only and name not in only:
            continue
        s = interleave(alts, 1 if args.quick else args.reps)
        ratios = ", ".join(f"{other} / mlp-tui {s.ratio(other, 'mlp-tui'):.2f}x"
                           for other in alts if other != "mlp-tui")
        print(f"{name} ({what}): {ratios}")
        print("  " + s.describe(*alts))
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

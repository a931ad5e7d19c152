"""Command line: arguments -> ExperimentConfig, then the app, the headless runner or a replay.

Imports nothing heavy at module level: `mlp-tui --help` must not pay for torch or scikit-learn.
Every value is validated before any training starts; a bad one prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlp_tui import __version__
from mlp_tui.cli_paths import check_output_path
from mlp_tui.cli_sources import check_logdir_arg, dataset_arg, is_logdir, tensorboard_dir
from mlp_tui.config import (
    DATASETS,
    DEVICES,
    EXPORT_SUFFIXES,
    HISTORY_SUFFIXES,
    MAX_DEPTH,
    MAX_EPOCHS,
    MAX_REPEATS,
    MAX_SEED,
    MAX_THREADS,
    ConfigError,
    ExperimentConfig,
    parse_choice,
    parse_float,
    parse_int,
    parse_widths,
    validate,
)
from mlp_tui.config_file import expand as expand_config
from mlp_tui.grid import parse_grid

PROG = "mlp-tui"
BACKENDS = ("thread", "process", "ray")
MAX_PROCESS_WORKERS = 64
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line input: one line for the user, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # argparse takes `-inf`, `-1e-3` or `-5,-6` for an unknown option and answers "expected
        # one argument"; no option here starts with a digit, so let such values through to the
        # checks that say what is wrong with them.
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    prefix = ""  # "replay: " for the replay subcommand

    def error(self, message: str) -> None:  # one line, never the usage block
        raise UsageError(self.prefix + message.removeprefix("argument "))

    def exit(self, status: int = 0, message: str | None = None) -> None:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


@dataclass(frozen=True)
class FaceOptions:
    """What every face takes besides the session: the capacity table, alerts, the view."""

    capacity: Path | None = None
    quiet: bool = False
    reset_view: bool = False


@dataclass(frozen=True)
class Invocation:
    """What the command line asked for."""

    config: ExperimentConfig
    headless: bool
    export: Path | None
    history: Path | None
    force: bool = False
    face: FaceOptions = field(default_factory=FaceOptions)
    backend: str = "thread"
    ray_address: str = "auto"
    workers: int | None = None  # --backend process: None = one per core
    tensorboard: Path | None = None  # --tensorboard DIR


@dataclass(frozen=True)
class ReplayInvocation:
    file: Path
    follow: bool
    headless: bool
    export: Path | None
    face: FaceOptions = field(default_factory=FaceOptions)


def build_parser() -> argparse.ArgumentParser:
    d = ExperimentConfig()
    p = _Parser(
        prog=PROG,
        description=(
            "Train an MLP on a scikit-learn dataset for several hidden widths at once and watch "
            "the losses live. `mlp-tui replay FILE` opens a recorded --history file; "
            "`mlp-tui serve` serves the app in a browser."
        ),
        epilog="Keys in the app: p pause/resume all, space pause/resume one, r/R restart, "
        "+/- speed, m metric (train+val pairs), l log y, o outlier range, s/S smoothing, "
        "left/right/home/end epoch cursor (escape: live), z zoom, b seed band, w loss vs width, "
        "a capacity at epoch/best, g grid, v hide run, x x-axis, 0 reset view, c settings, "
        "e export table, E export history, ? help, q quit.",
    )
    a = p.add_argument
    a("--dataset", default=d.dataset,
      help=f"one of {', '.join(DATASETS)}, or a .csv (header row) or .npz (X, y) file "
      "(default: iris)")
    a("--target", default="", metavar="COLUMN",
      help="--dataset FILE.csv: the label column (default: the last one)")
    a("--widths", default="5,100,1000", help="comma list of hidden widths (default: 5,100,1000)")
    a("--depth", default=str(d.depth),
      help=f"hidden layers, 1..{MAX_DEPTH}; a comma list makes a grid (default: 1)")
    a("--epochs", default=str(d.epochs), help=f"epochs per run, 1..{MAX_EPOCHS} (default: 100)")
    a("--lr", default=str(d.lr), help="learning rate; a comma list makes a grid (default: 0.1)")
    a("--optimizer", default=d.optimizer, help="sgd or adam, or both: sgd,adam (default: sgd)")
    a("--batch-size", default="0",
      help="mini-batch size; 0 = full batch; a comma list makes a grid (default: 0)")
    a("--seed", default=str(d.seed), help="first seed; a restart takes the next (default: 0)")
    a("--val-split", default="0", help="held-out fraction in [0, 1), stratified (default: 0)")
    a("--standardize", action="store_true", help="standardize features (default: raw)")
    a("--repeats", default="1", help=f"seeds per width, 1..{MAX_REPEATS} (default: 1)")
    a("--stack", action="store_true",
      help="train the seeds (--repeats) of each width and grid point as one stacked model: "
      "much faster for narrow nets; full-batch sgd only; losses equal unstacked runs' to float32 "
      "rounding at first, in distribution later (docs/portability.md)")
    a("--device", default=d.device, help="auto, cpu or cuda (default: auto)")
    a(
        "--speed",
        default=str(d.speed),
        help="epochs per second per run; 0 = unthrottled (default: 20)",
    )
    a(
        "--threads",
        default=str(d.threads),
        help="torch intra-op threads; 0 = torch's default (default: 1, the fastest here)",
    )
    a("--config", metavar="FILE.toml",
      help="flags from a TOML file (keys: the flags' names); the command line wins")
    a("--headless", action="store_true", help="no TUI: progress on stderr, final table on stdout")
    a("--export", metavar="PATH", help="final table: .csv, .json or .md (written at the end)")
    a("--history", metavar="PATH", help="per-epoch history, streamed: .csv or .jsonl")
    a("--force", action="store_true", help="overwrite an existing --history file")
    a("--backend", default="thread",
      help="thread, process or ray: where the runs train (default: thread)")
    a("--workers", metavar="N",
      help=f"with --backend process: worker processes, 1..{MAX_PROCESS_WORKERS} (default: one "
      "per core)")
    a(
        "--ray-address",
        metavar="ADDRESS",
        help="with --backend ray: HOST:PORT of a Ray head; default auto (RAY_ADDRESS, else the "
        "head `ray start` recorded here, else a Ray started for this session)",
    )
    a("--tensorboard", metavar="DIR",
      help="TensorBoard event files, one sub-folder per run and seed, written while the runs go "
      "(pip install 'mlp-tui[tensorboard]')")
    _face_args(p)
    a("--version", action="version", version=f"{PROG} {__version__}")
    return p


def _face_args(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--capacity-export", metavar="PATH",
      help="loss against width (seeds pooled) at each run's latest and best-validation epoch: "
      ".csv, .json or .md (written with --export's policy)")
    a("--quiet", action="store_true", help="no terminal bell on alerts (a run ends or goes bad)")
    a("--reset-view", action="store_true",
      help="forget the remembered view (metric, scale, smoothing, layout, hidden runs)")


def _face(ns: argparse.Namespace, *others: Path | None) -> FaceOptions:
    capacity = None
    if ns.capacity_export is not None:
        capacity = check_output_path("--capacity-export", ns.capacity_export, EXPORT_SUFFIXES)
        if any(o is not None and o.resolve() == capacity.resolve() for o in others):
            raise ConfigError("--capacity-export", "must be a file of its own")
        _check_export_target("--capacity-export", capacity)
    return FaceOptions(capacity, ns.quiet, ns.reset_view)


def build_replay_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=f"{PROG} replay",
        description="Open a history file recorded with --history (.csv or .jsonl), or a "
        "TensorBoard log directory written by any program (pip install 'mlp-tui[tensorboard]').",
    )
    p.prefix = "replay: "
    p.add_argument("file", help="the history file, or a TensorBoard log directory")
    p.add_argument("--follow", action="store_true", help="keep reading rows as they are appended")
    p.add_argument("--headless", action="store_true", help="print the final table, no TUI")
    p.add_argument("--export", metavar="PATH", help="write the final table: .csv, .json or .md")
    _face_args(p)
    return p


def parse_args(argv: Sequence[str]) -> Invocation | ReplayInvocation:
    """Parse and validate everything; raises UsageError or ConfigError."""
    argv = list(argv)
    if argv and argv[0] == "replay":
        return _parse_replay(argv[1:])
    parser = build_parser()
    ns = parser.parse_args(expand_config(argv, parser))  # --config FILE: its flags, then argv's
    cfg = ExperimentConfig(
        dataset=dataset_arg(ns.dataset),
        target=ns.target.strip(),
        widths=parse_widths(ns.widths),
        depth=parse_grid("depth", ns.depth),
        epochs=parse_int("--epochs", ns.epochs, 1, MAX_EPOCHS),
        lr=parse_grid("lr", ns.lr),
        optimizer=parse_grid("optimizer", ns.optimizer),
        batch_size=parse_grid("batch_size", ns.batch_size),
        seed=parse_int("--seed", ns.seed, 0, MAX_SEED),
        val_split=parse_float("--val-split", ns.val_split),
        standardize=ns.standardize,
        device=parse_choice("--device", ns.device, DEVICES),
        speed=parse_float("--speed", ns.speed),
        repeats=parse_int("--repeats", ns.repeats, 1, MAX_REPEATS),
        threads=parse_int("--threads", ns.threads, 0, MAX_THREADS),
        stack=ns.stack,
    )
    cfg = validate(cfg)
    export = (
        check_output_path("--export", ns.export, EXPORT_SUFFIXES) if ns.export is not None else None
    )
    history = (
        check_output_path("--history", ns.history, HISTORY_SUFFIXES)
        if ns.history is not None
        else None
    )
    if export is not None and history is not None and export.resolve() == history.resolve():
        raise ConfigError("--history", "must not be the same file as --export")
    _check_targets(export, history, ns.force)
    backend, address = _parse_backend(ns.backend, ns.ray_address)
    if cfg.stack and backend == "ray":
        raise ConfigError("--stack", "needs --backend thread or process")
    workers = None
    if ns.workers is not None:
        if backend != "process":
            raise ConfigError("--workers", "needs --backend process")
        workers = parse_int("--workers", ns.workers, 1, MAX_PROCESS_WORKERS)
    face = _face(ns, export, history)
    tensorboard = tensorboard_dir(ns.tensorboard) if ns.tensorboard is not None else None
    return Invocation(cfg, ns.headless, export, history, ns.force, face, backend, address,
                      workers, tensorboard)


def _parse_backend(backend: str, address: str | None) -> tuple[str, str]:
    """The backend, and Ray's address; a missing Ray is told here (no import: a spec lookup)."""
    import importlib.util

    backend = parse_choice("--backend", backend, BACKENDS)
    if address is not None and backend != "ray":
        raise ConfigError("--ray-address", "needs --backend ray")
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        from mlp_tui.session.ray_cluster import INSTALL_HINT

        raise ConfigError("--backend", INSTALL_HINT)
    address = "auto" if address is None else address.strip()
    if not address:
        raise ConfigError("--ray-address", "empty; give HOST:PORT or auto")
    return backend, address


def _check_targets(export: Path | None, history: Path | None, force: bool) -> None:
    """The files' policies, before anything is loaded (AppendFile checks again when opening)."""
    from mlp_tui.persist.files import FileRefused, check_regular_target

    if export is not None:
        _check_export_target("--export", export)
    if history is not None:
        try:
            check_regular_target(history)
        except FileRefused as exc:
            raise ConfigError("--history", str(exc)) from None
        if not force and history.exists() and history.stat().st_size:
            raise ConfigError(
                "--history",
                f"{history} already exists; pass --force to overwrite it (or choose another file)",
            )


def _check_export_target(flag: str, path: Path) -> None:
    from mlp_tui.persist.files import FileRefused, check_regular_target

    try:
        check_regular_target(path, follow_symlinks=True)
    except FileRefused as exc:
        raise ConfigError(flag, str(exc)) from None


def _parse_replay(argv: list[str]) -> ReplayInvocation:
    ns = build_replay_parser().parse_args(argv)
    path = Path(ns.file).expanduser()
    if is_logdir(path):  # a TensorBoard log directory
        check_logdir_arg(path)
    elif path.suffix.lower() not in HISTORY_SUFFIXES:
        raise ConfigError("FILE", f"{ns.file}: not a history file (use .csv or .jsonl)")
    if "\0" in ns.file:  # no file name holds one; os calls would raise ValueError
        raise ConfigError("FILE", f"{ns.file!r}: no such file")
    try:
        if not path.exists():  # a FIFO or a device is there: the reader says what it is
            raise ConfigError("FILE", f"{ns.file}: no such file")
        if not os.access(path, os.R_OK):
            raise ConfigError("FILE", f"{ns.file}: not readable")
    except OSError as exc:  # is_file() raises for a name too long, say
        raise ConfigError("FILE", f"{ns.file}: {exc.strerror or exc}") from None
    export = (
        check_output_path("--export", ns.export, EXPORT_SUFFIXES) if ns.export is not None else None
    )
    if export is not None and export.resolve() == path.resolve():  # it would overwrite the file
        raise ConfigError("--export", "must not be the replayed FILE itself")
    face = _face(ns, export, path)
    return ReplayInvocation(path, ns.follow, ns.headless, export, face)


def check_device(cfg: ExperimentConfig) -> None:
    """`--device cuda` needs a GPU; asked only when cuda was named (it imports torch)."""
    if cfg.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ConfigError("--device", "cuda was asked for but no CUDA GPU is available")


def _fail(message: str) -> int:
    # One line whatever the user typed: a newline or an escape in a value is shown escaped.
    message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":
        from mlp_tui.cli_serve import run_serve

        return run_serve(list(argv[1:]))
    try:
        inv = parse_args(argv)
        if isinstance(inv, Invocation):
            check_device(inv.config)
    except (UsageError, ConfigError) as exc:
        return _fail(str(exc))
    from mlp_tui.cli_start import start_runner
    from mlp_tui.persist.codec import HistoryFormatError
    from mlp_tui.persist.files import FileRefused
    try:
        runner = start_runner(inv)
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:
        return _fail(str(exc))
    except HistoryFormatError as exc:  # only a replayed file or log directory raises it
        return _fail(f"FILE: {exc}")
    except FileRefused as exc:
        return _fail(f"--history: {exc}")
    except OSError as exc:
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    from mlp_tui.cli_serve import served

    if inv.face.reset_view:
        from mlp_tui.persist.view_file import reset_view

        reset_view()
    interactive = (sys.stdout.isatty() and sys.stdin.isatty()) or served()
    if inv.headless or not interactive:
        if not inv.headless:
            sys.stderr.write(f"{PROG}: not a terminal, running headless\n")
        from mlp_tui.headless import run_headless

        return run_headless(runner)
    from mlp_tui.app import run_app

    return run_app(runner, quiet=inv.face.quiet)


if __name__ == "__main__":
    raise SystemExit(main())

"""What the command line asks for (`Invocation`, `ReplayInvocation`), every value checked before
anything trains: a bad one raises `UsageError` or `ConfigError` (one line, exit 2)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlp_tui.cli.parser import (
    MAX_PROCESS_WORKERS,
    build_parser,
    build_replay_parser,
)
from mlp_tui.cli.paths import check_output_path
from mlp_tui.cli.sources import check_logdir_arg, is_logdir, models_dir, tensorboard_dir
from mlp_tui.core.config import (
    EXPORT_SUFFIXES,
    HISTORY_SUFFIXES,
    ConfigError,
    ExperimentConfig,
    parse_choice,
    parse_int,
    validate,
)
from mlp_tui.core.config_file import expand as expand_config
from mlp_tui.core.plan import plan
from mlp_tui.core.settings import SETTINGS
from mlp_tui.core.text import reason

BACKENDS = ("thread", "process", "ray")


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
    models: Path | None = None  # --save-models DIR


@dataclass(frozen=True)
class ReplayInvocation:
    file: Path
    follow: bool
    headless: bool
    export: Path | None
    face: FaceOptions = field(default_factory=FaceOptions)


def _face(ns: argparse.Namespace, *others: Path | None) -> FaceOptions:
    capacity = None
    if ns.capacity_export is not None:
        capacity = check_output_path("--capacity-export", ns.capacity_export, EXPORT_SUFFIXES)
        if any(o is not None and o.resolve() == capacity.resolve() for o in others):
            raise ConfigError("--capacity-export", "must be a file of its own")
        _check_export_target("--capacity-export", capacity)
    return FaceOptions(capacity, ns.quiet, ns.reset_view)


def parse_args(argv: Sequence[str], watched: bool | None = None) -> Invocation | ReplayInvocation:
    """Parse and validate everything; raises UsageError or ConfigError. `watched`: a face shows
    the first epochs (default: unless --headless), which the planner weighs (core/plan.py)."""
    argv = list(argv)
    if argv and argv[0] == "replay":
        return _parse_replay(argv[1:])
    parser = build_parser()
    ns = parser.parse_args(expand_config(argv, parser))  # --config FILE: its flags, then argv's
    # Each declared setting read from its flag's text, in declaration order (the first bad one
    # is the one said).
    cfg = ExperimentConfig(**{
        s.name: getattr(ns, s.name) if s.switch else s.parse(getattr(ns, s.name))
        for s in SETTINGS
    })
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
    cfg, backend = plan(cfg, backend, not ns.headless if watched is None else watched,
                        plain=ns.save_models is not None)
    face = _face(ns, export, history)
    tensorboard = tensorboard_dir(ns.tensorboard) if ns.tensorboard is not None else None
    models = models_dir(ns.save_models, cfg) if ns.save_models is not None else None
    return Invocation(cfg, ns.headless, export, history, ns.force, face, backend, address,
                      workers, tensorboard, models)


def _parse_backend(backend: str | None, address: str | None) -> tuple[str | None, str]:
    """The backend (None: not given, the planner's), and Ray's address; a missing Ray is told
    here (no import: a spec lookup)."""
    import importlib.util

    if backend is not None:
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
        if not path.exists() and ns.follow and path.parent.is_dir():
            pass  # followed: waited for until it appears (or the user quits)
        elif not path.exists():  # a FIFO or a device is there: the reader says what it is
            raise ConfigError("FILE", f"{ns.file}: no such file")
        elif not os.access(path, os.R_OK):
            raise ConfigError("FILE", f"{ns.file}: not readable")
    except OSError as exc:  # is_file() raises for a name too long, say
        raise ConfigError("FILE", f"{ns.file}: {reason(exc)}") from None
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


"""Command-line checks for the ecosystem flags: `--tensorboard DIR` and a TensorBoard log
directory given to `replay` (`--dataset FILE` is read by its declaration, core/settings.py).
Every check raises ConfigError (one line, exit 2) and imports nothing heavy."""

from __future__ import annotations

from pathlib import Path

from mlp_tui.core.config import ConfigError


def tensorboard_dir(text: str) -> Path:
    """--tensorboard DIR: the package must be there; DIR may not exist yet, but not be a file."""
    from mlp_tui.persist import tensorboard as tb

    if tb.tensorboard_missing():
        raise ConfigError("--tensorboard", tb.INSTALL_HINT)
    if not text.strip() or "\0" in text:
        raise ConfigError("--tensorboard", f"{text!r} is not a folder name")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError("--tensorboard", f"{text} exists and is not a folder")
    return path


def models_dir(text: str, cfg) -> Path:
    """--save-models DIR: a folder (made if missing, not a file); a stack's weights are not
    recomputed by retraining one run (its kernels differ), so not with --stack."""
    if cfg.stack:
        raise ConfigError("--save-models", "not with --stack (a stacked run's weights come "
                          "from batched kernels a single run does not retrace)")
    if not text.strip() or "\0" in text:
        raise ConfigError("--save-models", f"{text!r} is not a folder name")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError("--save-models", f"{text} exists and is not a folder")
    return path


def is_logdir(path: Path) -> bool:
    """`replay PATH` on a directory reads it as a TensorBoard log directory."""
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long, a NUL: the file checks say it
        return False


def check_logdir_arg(path: Path) -> None:
    from mlp_tui.persist.tb_reader import LogdirError, check_logdir

    try:
        check_logdir(path)
    except LogdirError as exc:
        raise ConfigError("FILE", str(exc)) from None

"""The output paths a command line names (--export, --history, --capacity-export): checked
before anything trains, so a run never ends with nowhere to write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mlp_tui.core.config import ConfigError
from mlp_tui.core.text import reason


def check_output_path(flag: str, path: str, suffixes: tuple[str, ...]) -> Path:
    """An export or history path must have a known suffix and a writable, existing folder."""
    if not str(path).strip():
        raise ConfigError(flag, "the path is empty")
    if "\0" in str(path):  # no file name holds one; os calls would raise ValueError
        raise ConfigError(flag, "the path contains a NUL character")
    p = Path(path).expanduser()
    if p.suffix.lower() not in suffixes:
        raise ConfigError(
            flag, f"unsupported format {p.suffix or '(no suffix)'!r} (use {', '.join(suffixes)})"
        )
    try:
        return _check_writable(flag, path, p)
    except OSError as exc:  # is_dir() raises for a folder we may not even look into
        raise ConfigError(flag, f"{path}: {reason(exc)}") from None


def _check_writable(flag: str, path: str, p: Path) -> Path:
    if p.is_dir():
        raise ConfigError(flag, f"{path} is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        if parent.exists():
            raise ConfigError(flag, f"{str(parent)!r} is a file, not a folder")
        raise ConfigError(flag, f"folder {str(parent)!r} does not exist")
    if not (os.access(parent, os.W_OK | os.X_OK) and _can_create_in(parent)):
        raise ConfigError(flag, f"folder {str(parent)!r} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(flag, f"{path} is not writable")
    return p


def _can_create_in(folder: Path) -> bool:
    """Try it: `os.access` says yes to root everywhere, even in /proc, and knows nothing of
    immutable folders; a failure found only when the run ends would lose the export."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".mlp-tui-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True

"""The remembered view: a small JSON file in the user's config directory (XDG rules:
$XDG_CONFIG_HOME/mlp-tui/view.json, else ~/.config/mlp-tui/view.json).

Reading never fails a launch: a missing, unreadable or malformed file gives no settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlp_tui.core.text import reason
from mlp_tui.persist.files import write_atomic

APP_DIR = "mlp-tui"
VIEW_FILE = "view.json"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / APP_DIR


def view_path() -> Path:
    return config_dir() / VIEW_FILE


def load_view() -> dict[str, object]:
    """The saved settings, or {} when there are none (or they cannot be read)."""
    try:
        data = json.loads(view_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_view(settings: dict[str, object]) -> str | None:
    """Save the settings; returns why not (one line) when the file cannot be written."""
    path = view_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(settings, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        return f"view settings not saved: {reason(exc)}"
    return None


def reset_view() -> None:
    """Forget the saved settings (`--reset-view`, or the reset key)."""
    try:
        view_path().unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass

"""The browser face: `mlp-tui serve` hands the same app to textual-serve, behind a guard.

Each browser tab gets a process of its own running `mlp-tui [training flags]` with Textual's
web driver, so every tab goes through the CLI's `start_runner` and the runner, as the TUI does.
A visitor can start processes and write files on the host, so the server is built to be left
running (web_server.py): a token, Host and Origin checked (web_guard.py), at most `max_apps`
apps, each started only after its tab has said something valid (web_tab.py), input bounded
(web_input.py), each app with its own shares and files and ended with its tab (web_apps.py).
On the server's exit, every app still alive is asked to quit (TERM), then killed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

EXTRA_HINT = "pip install 'mlp-tui[serve]'"
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve sets in TEXTUAL_DRIVER


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    app_argv: tuple[str, ...]  # the training flags, handed to every app process as given
    token: str | None = None  # None: the loopback opt-out (--no-token)
    max_apps: int = 4
    tab_memory: int = 2**30  # bytes a tab's runs may take
    tab_work: int = 2 * 10**9  # width-epochs a tab may train
    outputs: tuple[tuple[str, Path], ...] = ()  # (--export, path): a fresh name per tab
    public: bool = False


def is_loopback(host: str) -> bool:
    """Only an address that is loopback for sure; a host name other than localhost is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def have_extra() -> bool:
    try:
        import textual_serve.server  # noqa: F401
    except ImportError:
        return False
    return True


def serve(options: ServeOptions) -> int:
    """Run the server until INT or TERM; returns the exit status. Raises OSError when the
    address cannot be bound."""
    from mlp_tui.faces.web_apps import AppPool, TabShares
    from mlp_tui.faces.web_guard import Guard
    from mlp_tui.faces.web_server import AppServer

    pool = AppPool(options.app_argv, options.outputs, options.max_apps,
                   TabShares(options.tab_memory, options.tab_work))
    guard = Guard(options.token, options.public, options.port)
    server = AppServer(options.host, options.port, guard, pool)
    try:
        server.serve()
    finally:
        pool.kill_left()  # should the loop end without aiohttp's shutdown
    return 0

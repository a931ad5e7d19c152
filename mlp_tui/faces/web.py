"""The browser face: `mlp-tui serve` hands the same app to textual-serve.

textual-serve starts one process per browser tab; each runs `mlp-tui [training flags]` with
Textual's web driver, so every tab goes through the CLI's `start_runner` and the runner, as the
TUI does. This module only owns the web server and the processes it starts: on the server's
exit, every app process still alive is asked to quit (TERM: the app saves and stops its runs),
and killed if it has not ended within APP_QUIT_S.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

EXTRA_HINT = "pip install 'mlp-tui[serve]'"
APP_QUIT_S = 10.0  # an app stops its workers and writes its files within this
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve sets in TEXTUAL_DRIVER


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    app_argv: tuple[str, ...]  # the training flags, handed to every app process as given


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


def app_command(argv: Sequence[str]) -> str:
    """The shell line textual-serve runs per tab; `exec` so the app is the server's own child
    (its PID is the one we stop), not a shell's."""
    return shlex.join(["exec", sys.executable, "-m", "mlp_tui", *argv])


def serve(options: ServeOptions) -> int:
    """Run the server until INT or TERM; returns the exit status. Raises OSError when the
    address cannot be bound."""
    server = _make_server(options)
    try:
        server.serve()
    finally:
        _kill_left(server.apps)  # should the loop end without aiohttp's shutdown
    return 0


INDEX = "app_index.html"  # textual-serve's page template
# Keys work at once, without a click first: the page gives the terminal the focus as soon as
# xterm.js has made its input element (tried for 10 s, then left to the user's click).
FOCUS_SCRIPT = """<script>
(function () {
  var tries = 0;
  var timer = setInterval(function () {
    var input = document.querySelector(".xterm-helper-textarea");
    if (input && document.activeElement !== input) { input.focus(); }
    if ((input && document.activeElement === input) || ++tries > 100) { clearInterval(timer); }
  }, 100);
})();
</script>
"""


def focused_page(page: str) -> str:
    """textual-serve's page with FOCUS_SCRIPT before its end."""
    head, sep, tail = page.rpartition("</body>")
    return head + FOCUS_SCRIPT + sep + tail if sep else page + FOCUS_SCRIPT


def _make_server(options: ServeOptions):
    import textual_serve.server as module
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    apps: set[asyncio.subprocess.Process] = set()

    class TrackedAppService(AppService):
        """An AppService whose process the server can find again to stop it."""

        async def _open_app_process(self, width: int = 80, height: int = 24):
            process = await super()._open_app_process(width, height)
            apps.add(process)
            return process

    class AppServer(Server):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.apps = apps

        async def on_shutdown(self, app) -> None:
            await asyncio.gather(*(_stop(p) for p in list(apps)))

        async def _make_app(self):
            """textual-serve's application, its page focusing the terminal on load."""
            import aiohttp_jinja2
            import jinja2

            app = await super()._make_app()
            page = (Path(self.templates_path) / INDEX).read_text(encoding="utf-8")
            aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({INDEX: focused_page(page)}))
            return app

    # Server.handle_websocket builds its AppService by this module-level name (textual-serve
    # 1.1.3 offers no other hook); one server per process, so patching it here is contained.
    module.AppService = TrackedAppService
    return AppServer(
        app_command(options.app_argv), host=options.host, port=options.port, title="mlp-tui"
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    """TERM (the app's web driver turns it into a quit: runs stop, files are written), then
    KILL after APP_QUIT_S."""
    if process.returncode is not None:
        return
    try:
        process.terminate()
        await asyncio.wait_for(process.wait(), APP_QUIT_S)
    except ProcessLookupError:
        return
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()


def _kill_left(apps: set) -> None:
    """Outside any event loop: TERM, wait, KILL whatever app process is still there."""
    left = [p.pid for p in apps if p.returncode is None]
    for pid in left:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + APP_QUIT_S
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if not _reaped(pid)]
        time.sleep(0.05)
    for pid in left:
        _signal(pid, signal.SIGKILL)
        _reaped(pid, block=True)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _reaped(pid: int, block: bool = False) -> bool:
    try:
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:  # already reaped
        return True
    return done == pid

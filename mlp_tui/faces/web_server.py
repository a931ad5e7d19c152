"""textual-serve's Server, made safe to leave running: every request passes the Guard (Host,
Origin, token), the page sets the token's cookie and says when the server is full, each
websocket is a tab (web_tab.py) whose app the AppPool starts and ends, and the log is one short
line an event (no tracebacks, no locals, no access log with the token in it).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from mlp_tui.core.text import printable
from mlp_tui.faces.web_apps import AppPool
from mlp_tui.faces.web_guard import Guard
from mlp_tui.faces.web_input import MAX_MESSAGE_BYTES, query_size
from mlp_tui.faces.web_tab import busy_text, run_tab

log = logging.getLogger("mlp-tui.serve")
INDEX = "app_index.html"  # textual-serve's page template
LOGGERS = ("mlp-tui.serve", "textual-serve", "aiohttp")
REFUSED = "mlp-tui: refused. Open the address `mlp-tui serve` printed, with its ?token=...\n"
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


class OneLine(logging.Formatter):
    """A record in one line: an exception's type and message only, never its traceback (whose
    frames' locals held a visitor's bytes), control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = f"{text}: {type(exc).__name__}: {exc}"
        return "mlp-tui serve: " + printable(" ".join(text.split()))[:300]


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class AppServer(Server):
    def __init__(self, host: str, port: int, guard: Guard, pool: AppPool) -> None:
        super().__init__("mlp-tui", host=host, port=port, title="mlp-tui")
        self.guard, self.pool = guard, pool
        self.public_url = f"http://{url_host(host)}:{port}"

    @property
    def url(self) -> str:
        """The address to open: with the token, which the page then keeps in a cookie."""
        return f"{self.public_url}/" + (f"?token={self.guard.token}" if self.guard.token else "")

    def initialize_logging(self) -> None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLine())
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers[:] = [handler]
            logger.setLevel(logging.INFO if name != "aiohttp" else logging.WARNING)
            logger.propagate = False

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guarded])
        page = (Path(self.templates_path) / INDEX).read_text(encoding="utf-8")
        aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({INDEX: focused_page(page)}))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _guarded(self, request: web.Request, handler):
        host = request.headers.get("Host", "")
        why = self.guard.host_refusal(host) or self.guard.origin_refusal(
            request.headers.get("Origin"), host, required=request.path == "/ws"
        )
        token = request.query.get("token"), request.cookies.get(self.guard.cookie)
        if why is None and not request.path.startswith("/static/") and not self.guard.authorized(
            *token
        ):
            why = "no token, or not this server's"
        if why is not None:
            log.info("refused %s %s: %s", request.method, request.path[:80], why)
            return web.Response(status=403, text=REFUSED)
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page; with ?token= it sets the cookie and drops the token from the address."""
        if "token" in request.query:  # authorized already (the middleware)
            rest = {k: v for k, v in request.query.items() if k != "token"}
            response = web.HTTPFound(str(request.rel_url.with_query(rest)))
            if self.guard.token is not None:
                response.set_cookie(self.guard.cookie, self.guard.token, httponly=True,
                                    samesite="Strict", path="/")
            raise response
        if self.pool.full:
            return web.Response(status=503, text=busy_text(self.pool) + "\n")
        base = f"http://{request.headers['Host']}"
        size = request.query.get("fontsize", "16")
        context = {
            "font_size": min(max(int(size), 6), 64) if size.isdigit() and len(size) < 4 else 16,
            "app_websocket_url": f"ws://{request.headers['Host']}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template(INDEX, request, context)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        size = query_size(request.query.get("width"), request.query.get("height"))
        try:
            await run_tab(ws, self.pool, size, self.download_manager)
        except asyncio.CancelledError:
            await ws.close()
        except Exception as exc:  # one line (OneLine): the tab ends, the server goes on
            log.info("a tab ended on an error: %s: %s", type(exc).__name__, exc)
            await ws.close()
        return ws

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: the address is printed once it is bound (see serve)."""

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(self.pool.stop(p) for p in list(self.pool.live)))

    def serve(self, debug: bool = False) -> None:
        """Until INT or TERM. Unlike textual-serve's: the address printed only once bound (a
        client reading it may connect at once), no access log (its lines held the token)."""
        self.initialize_logging()
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()  # OSError: taken
            print(f"mlp-tui serve: {self.url}", flush=True)
            print(f"  at most {self.pool.max_apps} tabs at once; Ctrl+C to stop", flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown: every app asked to quit, then killed

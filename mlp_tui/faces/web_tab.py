"""One browser tab's websocket: no app until the tab has said something valid, then its keys
forwarded within their bounds, and the app ended with the socket.

The order matters: the server has already checked the token, Host and Origin (web_server.py);
here the first message must arrive within FIRST_MESSAGE_S and parse, and a slot must be free
(AppPool), before any process starts. A malformed message closes the tab with one log line.
When the socket closes for any reason, the input still queued for the app is dropped and the
app is ended (AppPool.stop: TERM, then KILL).
"""

from __future__ import annotations

import asyncio
import logging
from itertools import count

from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService

from mlp_tui.faces.web_apps import AppPool
from mlp_tui.faces.web_input import KeyBucket, Malformed, Message, count_keys, parse

log = logging.getLogger("mlp-tui.serve")
FIRST_MESSAGE_S = 10.0  # a page sends its size at once; a socket that says nothing is closed
STDIN_WAIT_S = 5.0  # an app that reads none of its input this long is stuck: the tab ends
TRY_LATER = 1013  # websocket close code: the server is busy, try again later
TAB_NUMBERS = count(1)


def busy_text(pool: AppPool) -> str:
    return (
        f"mlp-tui: this server already runs {pool.max_apps} apps, its most "
        "(mlp-tui serve --max-apps); close another tab, then reload this page."
    )


class TabApp(AppService):
    """textual-serve's AppService (its packet protocol, its downloads) with our process: started
    by the pool, fed with a bounded wait, ended by the pool."""

    def __init__(self, pool: AppPool, tab: int, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.pool, self.tab = pool, tab

    async def _open_app_process(self, width: int = 80, height: int = 24):
        self._process = process = await self.pool.spawn(self._build_environment(width, height))
        self._stdin = process.stdin
        log.info("tab %d: app %d started", self.tab, process.pid)
        return process

    async def run(self) -> None:
        """The app's output to the tab; when the app has ended (quit, crash), the tab closes."""
        await super().run()
        await self.remote_close()

    async def _send(self, packet: bytes) -> bool:
        try:
            self.stdin.write(packet)
            await asyncio.wait_for(self.stdin.drain(), STDIN_WAIT_S)
        except (RuntimeError, OSError, asyncio.TimeoutError):
            return False
        return True

    async def send_bytes(self, data: bytes) -> bool:
        return await self._send(self.encode_packet(b"D", data))

    async def send_meta(self, data: dict[str, str | None | int | bool]) -> bool:
        import json

        return await self._send(self.encode_packet(b"M", json.dumps(data).encode("utf-8")))

    async def stop(self) -> None:
        """Queued input dropped, TERM, KILL after a bound; the output task ends with the pipe."""
        process, task = self._process, self._task
        self._task = None
        if process is None:
            return
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        seconds = await self.pool.stop(process)
        if task is not None:
            await task
        log.info("tab %d: app %d ended %.1f s after its tab closed", self.tab, process.pid,
                 seconds)


async def run_tab(ws: web.WebSocketResponse, pool: AppPool, size: tuple[int, int],
                  downloads) -> None:
    """The tab's whole life on an open websocket."""
    tab = next(TAB_NUMBERS)
    first = await _first(ws, tab)
    if first is None:
        return
    if not pool.take_slot():
        log.info("tab %d: refused, %d apps already running (--max-apps)", tab, pool.max_apps)
        await ws.send_bytes(busy_text(pool).encode() + b"\r\n")
        await ws.close(code=TRY_LATER, message=b"too many apps")
        return
    app = TabApp(pool, tab, write_bytes=ws.send_bytes, write_str=ws.send_str, close=ws.close,
                 download_manager=downloads)
    try:
        try:
            await app.start(*size)
        except OSError as exc:
            pool.give_slot()
            log.info("tab %d: the app could not start (%s)", tab, exc.strerror or exc)
            await ws.close(code=WSCloseCode.INTERNAL_ERROR)
            return
        await _forward(ws, app, first, tab)
    finally:
        await app.stop()


async def _first(ws: web.WebSocketResponse, tab: int) -> Message | None:
    """The first message, parsed; None (and the socket closed) when there is none in time."""
    try:
        msg = await ws.receive(timeout=FIRST_MESSAGE_S)
    except asyncio.TimeoutError:
        log.info("tab %d: nothing said in %.0f s, closed", tab, FIRST_MESSAGE_S)
        await ws.close(code=WSCloseCode.POLICY_VIOLATION)
        return None
    if msg.type != WSMsgType.TEXT:
        await _refuse(ws, tab, msg)
        return None
    try:
        return parse(msg.data)
    except Malformed as exc:
        return await _malformed(ws, tab, exc)


async def _forward(ws: web.WebSocketResponse, app: TabApp, first: Message, tab: int) -> None:
    """Every message to the app, within the key bucket; ends with the socket."""
    bucket = KeyBucket()
    message: Message | None = first
    while message is not None:
        cost = count_keys(message.text) if message.kind == "stdin" else 1
        if not bucket.take(cost):
            if bucket.dropped == 1:
                log.info("tab %d: input over its bounds, dropped (logged once)", tab)
        elif not await _deliver(ws, app, message):
            log.info("tab %d: its app reads no input, closed", tab)
            return
        msg = await ws.receive()
        if msg.type != WSMsgType.TEXT:
            if msg.type not in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                await _refuse(ws, tab, msg)
            return
        try:
            message = parse(msg.data)
        except Malformed as exc:
            message = await _malformed(ws, tab, exc)


async def _deliver(ws: web.WebSocketResponse, app: TabApp, message: Message) -> bool:
    if message.kind == "stdin":
        return await app.send_bytes(message.text.encode("utf-8", "replace"))
    if message.kind == "resize":
        return await app.send_meta({"type": "resize", "width": message.size[0],
                                    "height": message.size[1]})
    if message.kind == "ping":
        await ws.send_json(["pong", message.text])
        return True
    return await app.send_meta({"type": message.kind})


async def _malformed(ws: web.WebSocketResponse, tab: int, exc: Malformed) -> None:
    log.info("tab %d: malformed message (%s), closed", tab, exc)
    await ws.close(code=WSCloseCode.UNSUPPORTED_DATA)
    return None


async def _refuse(ws: web.WebSocketResponse, tab: int, msg) -> None:
    """A binary frame, or an error (a message over MAX_MESSAGE_BYTES): one line, closed."""
    what = "an error" if msg.type == WSMsgType.ERROR else f"a {msg.type.name.lower()} frame"
    log.info("tab %d: %s instead of a text message, closed", tab, what)
    await ws.close(code=WSCloseCode.UNSUPPORTED_DATA)

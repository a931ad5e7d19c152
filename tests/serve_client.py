"""A real `mlp-tui serve` on a free loopback port, and a websocket client to poke it: for the
serve tests. Every process the server starts is found through /proc (its children) and, when a
test ends, the server gets TERM, then every process seen is killed by its PID if still there."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from helpers import cli_command, wait_until

START_S = 60.0  # the server alone imports textual and aiohttp, not torch
APP_UP_S = 90.0  # an app imports torch and draws, on a loaded 2-core machine
URL_RE = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9._~-]+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and not gone(int(entry.name)):
                found.add(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def rss(pid: int) -> int:
    """Resident bytes of a process (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    token: str
    cwd: Path
    seen: set[int] = field(default_factory=set)  # every app PID seen, to end them all

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.url}

    def apps(self) -> set[int]:
        now = children(self.proc.pid)
        self.seen |= now
        return now

    def log(self) -> str:
        return (self.cwd / "server.err").read_text(errors="replace")

    def ws_url(self, token: str | None = "", **query) -> str:
        token = self.token if token == "" else token
        params = {**({"token": token} if token else {}), **query}
        return f"{self.url}/ws?" + "&".join(f"{k}={v}" for k, v in params.items())


def start_server(cwd: Path, *flags: str, env: dict | None = None) -> Served:
    out, err = (cwd / "server.out").open("wb"), (cwd / "server.err").open("wb")
    cmd = [*cli_command(), "serve", "--port", str(free_port()), *flags]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True,
                            env={**os.environ, **(env or {})})
    found: list[re.Match] = []

    def printed() -> bool:
        found[:] = [m for m in [URL_RE.search((cwd / "server.out").read_text())] if m]
        return bool(found) or proc.poll() is not None

    try:
        assert wait_until(printed, START_S), "the server printed no URL"
        assert found, (cwd / "server.err").read_text()[-2000:]
    except BaseException:
        end_server(Served(proc, 0, "", cwd))
        raise
    return Served(proc, int(found[0].group(1)), found[0].group(2), cwd)


def end_server(served: Served) -> float:
    """TERM to the server; then KILL, by PID, anything it started that is still there. Returns
    the seconds until the server and every app it started were gone."""
    start = time.monotonic()
    served.apps()
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
        try:
            served.proc.wait(30)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait(10)
    wait_until(lambda: all(gone(p) for p in served.seen), 15)
    took = time.monotonic() - start
    for pid in served.seen:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)
    return took


async def read_until(ws, needle: bytes, timeout: float) -> bool:
    """Read the app's output until `needle` shows (the screen drew it) or the time is up."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return False
        if msg.type == aiohttp.WSMsgType.BINARY:
            seen = (seen + msg.data)[-65536:]
            if needle in seen:
                return True
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                          aiohttp.WSMsgType.ERROR):
            return False
    return False


async def drain(ws, seconds: float) -> None:
    """Keep reading (a client that reads is not a frozen one) for a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=max(0.05, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return


async def close_code(ws, timeout: float) -> int | None:
    """Read (the app's output) until the server closes the socket; its close code."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ws.closed:
        try:
            await ws.receive(timeout=max(0.05, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
    return ws.close_code

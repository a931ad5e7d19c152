"""`mlp-tui serve` left running is safe (issue 37): a real server on 127.0.0.1, a websocket
client, every process ended by its PID. One test per finding of the hostile pass on 2844d1d:
1 any page could drive it, 2 an app per connection before a word and no cap, 3 input queued
without bound and outliving its tab, 5 resize unchecked, 6 state shared between visitors,
7 malformed messages: tracebacks, and an app each. (4, the shares, is in test_serve_limits.)"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from helpers import wait_until
from serve_client import (
    APP_UP_S,
    close_code,
    end_server,
    gone,
    read_until,
    rss,
    start_server,
)

pytestmark = pytest.mark.e2e
FLAGS = ("--epochs", "100000", "--speed", "50")
QUIT_BOUND_S = 15.0  # TERM, then KILL after 10 s, then reaped


@pytest.fixture
def served(tmp_path):
    started = []

    def start(*flags: str, env: dict | None = None):
        started.append(start_server(tmp_path, *FLAGS, *flags, env=env))
        return started[-1]

    yield start
    for s in started:
        end_server(s)
        assert "Traceback" not in s.log(), s.log()[-2000:]


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


async def _status(session, url: str, **headers) -> int:
    async with session.get(url, headers=headers, allow_redirects=False) as r:
        return r.status


def test_1_no_page_no_socket_without_the_token_the_host_and_the_origin(served):
    s = served()

    async def poke():
        async with aiohttp.ClientSession() as session:
            got = {
                "no token": await _status(session, f"{s.url}/"),
                "wrong token": await _status(session, f"{s.url}/?token=guessedguessed"),
                "rebinding": await _status(session, f"{s.url}/?token={s.token}",
                                           Host=f"evil.example:{s.port}"),
                "token": await _status(session, f"{s.url}/?token={s.token}"),
            }
            for name, url, headers in (
                ("ws no token", s.ws_url(None), s.origin),
                ("ws other page", s.ws_url(), {"Origin": f"http://127.0.0.1:{s.port + 1}"}),
                ("ws evil", s.ws_url(), {"Origin": "http://evil.example",
                                         "Host": "evil.example"}),
            ):
                try:
                    async with session.ws_connect(url, headers=headers) as ws:
                        await ws.send_json(["stdin", "e"])
                    got[name] = 101
                except aiohttp.WSServerHandshakeError as exc:
                    got[name] = exc.status
            return got

    got = _run(poke())
    assert got.pop("token") == 302  # sets the cookie, drops the token from the address
    assert set(got.values()) == {403}, got
    time.sleep(1.0)
    assert not s.apps() and not list(s.cwd.glob("mlp-tui-*"))


def test_1_the_cookie_the_page_set_opens_the_socket(served):
    s = served()

    async def visit():  # a browser keeps a cookie of an IP address; aiohttp only when unsafe
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(f"{s.url}/?token={s.token}") as page:  # follows the 302
                assert page.status == 200 and str(page.url) == f"{s.url}/"
                assert f"ws://127.0.0.1:{s.port}/ws" in await page.text()
            async with session.ws_connect(f"{s.url}/ws", headers=s.origin) as ws:
                await ws.send_json(["resize", {"width": 100, "height": 30}])
                return await read_until(ws, b"w=1000", APP_UP_S)

    assert _run(visit())


def test_2_no_app_before_a_word_and_none_for_sockets_opened_and_closed(served):
    s = served()

    async def churn():
        async with aiohttp.ClientSession() as session:
            for _ in range(20):
                async with session.ws_connect(s.ws_url(), headers=s.origin):
                    pass
            async with session.ws_connect(s.ws_url(), headers=s.origin) as ws:
                await asyncio.sleep(2.0)
                silent = s.apps()
                await ws.send_json(["ping", "1"])
                assert (await ws.receive_json(timeout=10)) == ["pong", "1"]
                assert wait_until(lambda: len(s.apps()) == 1, 30)
            return silent

    assert _run(churn()) == set()
    assert wait_until(lambda: all(gone(p) for p in s.seen), QUIT_BOUND_S)


def test_2_the_cap_holds_and_says_so(served):
    s = served("--max-apps", "1")

    async def two_tabs():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.ws_connect(s.ws_url(), headers=s.origin) as first:
                await first.send_json(["resize", {"width": 100, "height": 30}])
                assert await read_until(first, b"w=1000", APP_UP_S)
                async with session.get(f"{s.url}/?token={s.token}") as page:
                    full = page.status, await page.text()
                async with session.ws_connect(s.ws_url(), headers=s.origin) as second:
                    await second.send_json(["resize", {"width": 100, "height": 30}])
                    said = await second.receive(timeout=10)
                    closed = await close_code(second, 10)
                apps = s.apps()
            return full, said.data, closed, apps

    (status, page), said, closed, apps = _run(two_tabs())
    assert status == 503 and "--max-apps" in page
    assert b"--max-apps" in said and closed == 1013
    assert len(apps) == 1


def test_3_input_is_bounded_and_dropped_with_its_tab(served):
    s = served()

    async def flood():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(s.ws_url(), headers=s.origin) as ws:
                await ws.send_json(["resize", {"width": 100, "height": 30}])
                assert await read_until(ws, b"w=1000", APP_UP_S)
                (app,) = s.apps()
                await ws.send_json(["stdin", "e" * 2000])  # 2,000 exports in one message
                for _ in range(300):  # a key held down: 300 exports asked for at once
                    await ws.send_json(["stdin", "e"])
                await asyncio.sleep(3.0)
                await ws.send_json(["stdin", "x" * 400_000])  # over the message bound
                closed = await close_code(ws, 30)
            start = time.monotonic()
            assert wait_until(lambda: gone(app), QUIT_BOUND_S)
            return closed, time.monotonic() - start

    closed, took = _run(flood())
    assert closed == 1009  # message too big: this tab ends, the server goes on
    files = list(s.cwd.glob("mlp-tui-results-*.csv"))
    assert 1 <= len(files) <= 2, files  # one export each 5 s
    assert took < QUIT_BOUND_S


def test_5_resize_is_bounded(served):
    s = served()

    async def huge():
        async with aiohttp.ClientSession() as session:
            url = s.ws_url(width=4000, height=2000)
            async with session.ws_connect(url, headers=s.origin) as ws:
                await ws.send_json(["resize", {"width": 4000, "height": 2000}])
                assert await read_until(ws, b"w=1000", APP_UP_S)
                await asyncio.sleep(3.0)
                (app,) = s.apps()
                return rss(app)

    assert 0 < _run(huge()) < 900 * 2**20  # 1.2 GB on 2844d1d


def test_6_tabs_share_no_file_and_never_write_the_remembered_view(served, tmp_path):
    config = tmp_path / "config"
    s = served("--export", "shared.csv", env={"XDG_CONFIG_HOME": str(config)})

    async def tab(session):
        async with session.ws_connect(s.ws_url(), headers=s.origin) as ws:
            await ws.send_json(["resize", {"width": 100, "height": 30}])
            assert await read_until(ws, b"w=1000", APP_UP_S)
            await ws.send_json(["stdin", "l"])  # a view key: remembered outside serve
            await asyncio.sleep(1.0)
            await ws.send_json(["stdin", "e"])
            await asyncio.sleep(2.0)

    async def two():
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(tab(session), tab(session))

    _run(two())
    assert wait_until(lambda: all(gone(p) for p in s.seen), QUIT_BOUND_S)
    tables = sorted(s.cwd.glob("shared-tab-*.csv"))
    assert len(tables) == 2 and not (s.cwd / "shared.csv").exists(), tables
    assert not (config / "mlp-tui" / "view.json").exists()


def test_7_malformed_messages_one_short_line_and_no_app(served):
    s = served()

    async def bad():
        async with aiohttp.ClientSession() as session:
            for payload in ('{"not": "a list"}', "[", '["stdin", 7]', '["resize", {}]',
                            "\x1b]0;owned\x07"):
                async with session.ws_connect(s.ws_url(), headers=s.origin) as ws:
                    await ws.send_str(payload)
                    await ws.receive(timeout=10)
            async with session.ws_connect(s.ws_url(), headers=s.origin) as ws:
                await ws.send_bytes(b"\x00" * 100)
                await ws.receive(timeout=10)

    _run(bad())
    assert not s.apps()
    lines = [line for line in s.log().splitlines() if "malformed" in line or "frame" in line]
    assert len(lines) == 6 and all(len(line) < 200 for line in lines), lines
    assert "\x1b" not in s.log()

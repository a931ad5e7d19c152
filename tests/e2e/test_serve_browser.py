"""`mlp-tui serve` in a real browser: textual-serve on a free loopback port, Debian's chromium
driven by Playwright, the address the server printed (with its token) opened as is; the
address without the token is refused. The app renders without a click, `p` pauses every run
(read back from the terminal's own text buffer), a closed tab ends its app process and writes
its own export, and TERM to the server ends the server and every app process it started. Saves
a screenshot (SERVE_SCREENSHOT names where; docs/serve.png was made this way)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from helpers import cli_command, require, wait_until

from mlp_tui.core.schema import Status
from mlp_tui.persist.table import read_table

CHROMIUM = "/usr/bin/chromium"
START_S = 90.0  # the server, then an app process that imports torch, on a loaded 2-core machine
# xterm.js draws on a canvas (WebGL), so its DOM rows are empty; the Terminal object is in a
# closure. textual-serve's page sets `this.fitAddon` right after `this.terminal`: a setter on
# Object.prototype catches that object, and xterm's public buffer API gives the screen's text.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'fitAddon', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'fitAddon', {value, writable: true, configurable: true});
    window.__textual = this;
  },
});
"""
SCREEN_TEXT = """() => {
  const t = window.__textual && window.__textual.terminal;
  if (!t) return '';
  const b = t.buffer.active, rows = [];
  for (let i = 0; i < t.rows; i++) rows.push(b.getLine(b.viewportY + i).translateToString(true));
  return rows.join('\\n');
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _screen_shows(page, *words: str) -> bool:
    text = page.evaluate(SCREEN_TEXT)
    return all(w in text for w in words)


def _printed_url(log: Path) -> str | None:
    found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9._~-]+", log.read_text())
    return found.group(0) if found else None


@pytest.fixture
def chromium() -> str:
    """Debian's chromium: a fresh machine has none (skipped, the reason said); CI must."""
    require(os.access(CHROMIUM, os.X_OK),
            f"no {CHROMIUM}: `apt-get install chromium` to run it (.ci/run does, and requires it)")
    return CHROMIUM


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    cmd = [*cli_command(), "serve", "--port", str(port), "--epochs", "100000", "--speed", "50"]
    cmd += ["--export", "results.csv"]  # each tab's app writes its own when it ends
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        printed = tmp_path / "server.log"
        assert wait_until(lambda: _printed_url(printed) or proc.poll() is not None, START_S)
        assert proc.poll() is None and _listening(port), printed.read_text()[-2000:]
        yield proc, _printed_url(printed)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # only when the test failed before its TERM
        proc.wait(30)
        log.close()


def test_the_app_in_a_browser_pauses_and_every_process_ends(chromium, server, tmp_path):
    from playwright.sync_api import sync_playwright

    proc, url = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            stranger = browser.new_context().new_page()  # no cookie, no token: refused
            assert stranger.goto(url.split("?")[0]).status == 403
            tabs = browser.new_context(viewport={"width": 1400, "height": 900})  # one cookie jar
            page = tabs.new_page()
            page.add_init_script(CATCH_TERMINAL)
            page.goto(url)  # as printed: the page keeps the token in a cookie
            assert wait_until(lambda: _screen_shows(page, "RUNNING", "w=1000"), START_S), (
                page.evaluate(SCREEN_TEXT)
            )
            app = _children(proc.pid)
            assert len(app) == 1  # one app process for the tab, the server's own child

            page.focus(".xterm-helper-textarea")  # where xterm.js takes keys (no click: the
            page.keyboard.press("p")  # app would take that as a click on the table)
            assert wait_until(lambda: _screen_shows(page, "PAUSED"), 30), page.evaluate(
                SCREEN_TEXT
            )
            text = page.evaluate(SCREEN_TEXT)
            assert text.count("paused") == 3 and "running" not in text, text  # every run
            page.screenshot(path=os.environ.get("SERVE_SCREENSHOT", str(tmp_path / "serve.png")))

            other = tabs.new_page()  # a second tab of the same browser: the cookie goes with it
            other.set_viewport_size({"width": 1000, "height": 700})
            other.add_init_script(CATCH_TERMINAL)
            other.goto(url.split("?")[0])  # the cookie is enough once the page set it
            assert wait_until(lambda: _screen_shows(other, "RUNNING"), START_S)
            both = _children(proc.pid)
            assert len(both) == 2 and app < both  # a second tab, a second app of its own

            page.close()  # the server tells that tab's app to quit
            assert wait_until(lambda: all(_gone(pid) for pid in app), 30)
            assert not _gone(next(iter(both - app)))
            assert wait_until(lambda: any(f.stat().st_size for f in tmp_path.glob("results-*")), 30)
            (table,) = [f for f in tmp_path.glob("results-tab-*.csv") if f.stat().st_size]
            rows = read_table(table)  # written by that app's runner on quit, a file of its own
            assert [r["status"] for r in rows] == [Status.STOPPED.value] * 3, rows
            assert all(r["epochs_done"] >= 1 for r in rows), rows

            proc.send_signal(signal.SIGTERM)  # with a tab still open
            assert proc.wait(60) == 0
        finally:
            browser.close()
    assert all(_gone(pid) for pid in both)
    assert "Traceback" not in (tmp_path / "server.log").read_text()

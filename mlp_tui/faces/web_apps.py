"""The app processes `mlp-tui serve` starts, one per browser tab: at most `max_apps` at once,
each with its own share of the machine and nothing of the other tabs'.

A slot is taken before an app starts and given back only once its process has been reaped, so
tabs opened and closed in a burst cannot start more apps than the cap. Each app gets:
- its own config folder (XDG_CONFIG_HOME, removed with the app): a visitor's view keys never
  rewrite the server user's remembered view, nor another tab's;
- its own `--export` / `--capacity-export` file (a fresh name beside the one given), not one
  file every tab overwrites;
- its shares (core/limits.py): memory (the tabs' shares add up to half of what was free at the
  server's start), CPU (width-epochs), exports (one each few seconds, a few dozen in all).
Stopping an app drops the input still queued for it, sends TERM (the app saves and quits),
then KILL after APP_QUIT_S.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlp_tui.core.limits import EXPORT_EVERY_ENV, EXPORT_MAX_ENV, TAB_MEMORY_ENV, TAB_WORK_ENV
from mlp_tui.persist.files import unique_path

log = logging.getLogger("mlp-tui.serve")
APP_QUIT_S = 10.0  # an app stops its workers and writes its files within this
APP_MEMORY = 2**30  # what one tab's app may need (torch alone is ~0.3 GB): the default cap's unit
TAB_WORK = 2 * 10**9  # width-epochs: about an hour of one core on iris
EXPORT_EVERY_S = 5
EXPORT_MAX = 20


def default_max_apps(available: int, cpus: int | None = None) -> int:
    """Two apps a core, fewer when memory is short (one per APP_MEMORY free), at least one."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(2 * cpus, available // APP_MEMORY))


@dataclass(frozen=True)
class TabShares:
    """What each tab's app may take; handed over in its environment."""

    memory: int  # bytes for its runs
    work: int  # width-epochs

    def environment(self) -> dict[str, str]:
        return {
            TAB_MEMORY_ENV: str(self.memory),
            TAB_WORK_ENV: str(self.work),
            EXPORT_EVERY_ENV: str(EXPORT_EVERY_S),
            EXPORT_MAX_ENV: str(EXPORT_MAX),
        }


@dataclass
class AppPool:
    argv: tuple[str, ...]  # the training flags
    outputs: tuple[tuple[str, Path], ...]  # (flag, path) of every file an app writes on its own
    max_apps: int
    shares: TabShares
    live: dict[asyncio.subprocess.Process, tuple[Path, list[Path]]] = field(default_factory=dict)
    slots: int = 0  # taken: apps starting or alive, until reaped

    @property
    def full(self) -> bool:
        return self.slots >= self.max_apps

    def take_slot(self) -> bool:
        if self.full:
            return False
        self.slots += 1
        return True

    def give_slot(self) -> None:
        self.slots = max(0, self.slots - 1)

    def tab_argv(self) -> tuple[list[str], list[Path]]:
        """The flags for one app: its own fresh file for each output (the last flag wins)."""
        argv, reserved = list(self.argv), []
        for flag, path in self.outputs:
            fresh = unique_path(path.parent, f"{path.stem}-tab", path.suffix)
            reserved.append(fresh)
            argv += [flag, str(fresh)]
        return argv, reserved

    async def spawn(self, env: dict[str, str]) -> asyncio.subprocess.Process:
        """Start one app in a slot already taken (see take_slot)."""
        config = Path(tempfile.mkdtemp(prefix="mlp-tui-tab-"))
        argv, reserved = self.tab_argv()
        env = {**env, **self.shares.environment(), "XDG_CONFIG_HOME": str(config)}
        pipe = asyncio.subprocess.PIPE
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "mlp_tui", *argv, stdin=pipe, stdout=pipe, stderr=pipe,
                env=env,
            )
        except BaseException:
            _clean(config, reserved)
            raise
        self.live[process] = (config, reserved)
        return process

    async def stop(self, process: asyncio.subprocess.Process) -> float:
        """Drop its queued input, TERM, KILL after APP_QUIT_S; reap it, free its slot. Returns
        the seconds it took."""
        start = time.monotonic()
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.transport.abort()  # what the app has not read yet is dropped
        if process.returncode is None:
            try:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), APP_QUIT_S)
            except ProcessLookupError:
                pass
            except asyncio.TimeoutError:
                log.info("app %d: still running %.0f s after TERM, killed", process.pid, APP_QUIT_S)
                process.kill()
                await process.wait()
        entry = self.live.pop(process, None)
        if entry is not None:  # stopped once: the server's end and the tab's can both ask
            _clean(*entry)
            self.give_slot()
        return time.monotonic() - start

    def kill_left(self) -> None:
        """Outside any event loop (the server is ending): TERM, wait, KILL what is left."""
        left = [p.pid for p in self.live if p.returncode is None]
        for pid in left:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + APP_QUIT_S
        while left and time.monotonic() < deadline:
            left = [pid for pid in left if not _reaped(pid)]
            time.sleep(0.05)
        for pid in left:
            _signal(pid, signal.SIGKILL)
            _reaped(pid, block=True)
        for config, reserved in self.live.values():
            _clean(config, reserved)
        self.live.clear()


def _clean(config: Path | None, reserved: list[Path]) -> None:
    """Remove a tab's config folder, and the output names it reserved but never wrote."""
    if config is not None:
        shutil.rmtree(config, ignore_errors=True)
    for path in reserved:
        try:
            if path.stat().st_size == 0:
                path.unlink()
        except OSError:
            pass


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

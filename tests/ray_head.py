"""A real Ray head for the Ray backend's tests: `ray start --head --block` on 127.0.0.1, a free
port, two CPUs, in a session of its own so that every process it spawns (GCS, raylet, agents,
actor workers) can be found by session id and shown to be gone after `stop`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
# Ray 2.59+ turns token authentication on for a head started locally; a driver that connects by
# address must then send the token (~/.ray/auth_token, which `ray start` writes).
ENV = {"RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_processes(sid: int) -> list[str]:
    """Command lines of the live processes in session `sid` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state ppid pgrp session ...
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(cmd.strip() or stat.split()[1])
    return found


def _stat(pid: int) -> list[str] | None:
    """Fields after "(comm)": state ppid pgrp session ... (starttime is index 19)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid` (Ray starts its daemons in sessions of their own, so the
    tree, not the session, finds them), keyed by pid with its start time."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) and st[0] != "Z":
            children.setdefault(int(st[1]), []).append(int(entry.name))
    found, todo = {}, list(children.get(pid, []))
    while todo:
        p = todo.pop()
        st = _stat(p)
        if st is not None:
            found[p] = st[19]
            todo.extend(children.get(p, []))
    return found


def still_alive(procs: dict[int, str]) -> list[int]:
    """The processes of `procs` that still run (same pid and start time, not a zombie)."""
    alive = []
    for p, start in procs.items():
        st = _stat(p)
        if st is not None and st[0] != "Z" and st[19] == start:
            alive.append(p)
    return alive


class RayHead:
    """One head node; `address` once started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: socket paths
        self.log = Path(self.temp) / "head.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        ray = str(Path(sys.executable).parent / "ray")
        cmd = [
            ray,
            "start",
            "--head",
            "--block",
            f"--port={self.port}",
            "--num-cpus=2",
            "--node-ip-address=127.0.0.1",
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            "--disable-usage-stats",
            f"--temp-dir={self.temp}",
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **ENV},
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"Ray runtime started" not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ray head did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> list[str]:
        """SIGTERM to the head (it stops its processes), SIGKILL to any left; returns what was
        still alive after the grace period (empty when the head cleaned up by itself)."""
        if self.proc is None:
            return []
        sid = self.proc.pid
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while session_processes(sid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = session_processes(sid)
        if left:
            os.killpg(sid, signal.SIGKILL)  # the head's own group; the rest by session below
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == sid:
                            os.kill(int(entry.name), signal.SIGKILL)
                    except (OSError, ValueError):
                        pass
        self.proc = None
        return left

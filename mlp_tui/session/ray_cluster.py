"""Finding (or starting) the Ray cluster a session trains on, and leaving it as found.

Ray is optional and imported only here and in `ray_session`. Every failure before training is a
`ConfigError`: one line naming the flag and the address, exit 2.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from mlp_tui.core.config import ConfigError

INSTALL_HINT = "Ray is not installed; install it with: pip install 'mlp-tui[ray]'"
CONNECT_TIMEOUT_S = 3.0  # a reachable head answers a TCP connect well within this
DEFAULT_PORT = 6379


@dataclass
class Cluster:
    """A connection to Ray; `started` when this session started the local Ray itself."""

    address: str  # what the user gave, or "local" for one started here
    started: bool

    def free_cpus(self) -> int:
        import ray

        return int(ray.available_resources().get("CPU", 0))

    def close(self) -> None:
        """Disconnect; a local Ray started here goes with it (ray.shutdown stops it)."""
        import ray

        if ray.is_initialized():
            ray.shutdown()


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend", INSTALL_HINT) from None
    return ray


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A TCP connect to the head's port, so an unreachable cluster fails in seconds (ray.init
    would retry for a minute or more)."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host:
        host, port = hostport, str(DEFAULT_PORT)
    try:
        number = int(port)
    except ValueError:
        raise ConfigError("--ray-address", f"{address}: not HOST:PORT") from None
    try:
        with socket.create_connection((host.strip("[]"), number), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = f"no answer within {timeout:g} s"
        raise ConfigError(
            "--ray-address", f"cannot reach a Ray cluster at {address}: {reason}"
        ) from None


AUTH_HINT = (
    "the cluster asks for a token: set RAY_AUTH_MODE=token, with the token in RAY_AUTH_TOKEN or "
    "~/.ray/auth_token (docs/backends.md, Ray)"
)


@contextlib.contextmanager
def _stderr_kept(log: list[str]) -> Iterator[None]:
    """Ray's C++ core writes its retries straight to file descriptor 2 (twenty lines for a
    refused token); keep them off the terminal while connecting, and hand them to the caller."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            log.append(sink.read().decode(errors="replace"))


def _init(ray, where: str, keep_stderr: bool = True, **kwargs) -> None:
    """ray.init, its failure as one line naming the address. A Ray started here is not given the
    kept descriptor: its daemons would inherit it for their lifetime."""
    log: list[str] = []
    try:
        with _stderr_kept(log) if keep_stderr else contextlib.nullcontext():
            ray.init(**kwargs)
    except ConnectionError:
        if "Unauthenticated" in "".join(log):
            raise ConfigError("--ray-address", f"{where}: {AUTH_HINT}") from None
        raise
    except Exception as exc:  # a port that answers but is no Ray head, say
        if "Unauthenticated" in "".join(log):
            raise ConfigError("--ray-address", f"{where}: {AUTH_HINT}") from None
        line = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError("--ray-address", f"{where}: {line}") from None


def recorded_address() -> str | None:
    """The head the last `ray start` on this machine recorded (Ray's ray_current_cluster file,
    under RAY_TMPDIR, else TMPDIR, else /tmp), or None."""
    root = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    try:
        with open(os.path.join(root, "ray", "ray_current_cluster")) as f:
            return f.read().strip() or None
    except OSError:
        return None


def connect(address: str) -> Cluster:
    """`auto`: the cluster in RAY_ADDRESS, else the one `ray start` recorded here if it answers,
    else a local Ray started for this session. (Not Ray's own `auto`, which falls back to any
    head process it finds on the machine, someone else's test cluster included.) Anything else:
    that cluster, checked reachable first."""
    ray = import_ray()
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS") or "auto"
    if address == "auto" and (recorded := recorded_address()):
        try:
            check_reachable(recorded, timeout=1.0)
            address = recorded
        except ConfigError:
            pass  # a stale record: that head is gone
    if address != "auto":
        check_reachable(address)
        try:
            _init(ray, address, address=address, **quiet)
        except ConnectionError as exc:
            line = " ".join(str(exc).split()) or type(exc).__name__
            raise ConfigError("--ray-address", f"{address}: {line}") from None
        return Cluster(address, started=False)
    _init(ray, "local", keep_stderr=False, address="local", include_dashboard=False, **quiet)
    return Cluster("local", started=True)

"""Who may use `mlp-tui serve`: a token, and the Host and Origin a browser sends.

A visitor can start processes and write files on the host, so the server asks what Jupyter
Server asks: the token printed with the URL (then a cookie), a Host that names the address it
serves (a DNS-rebinding page names its own), and for the websocket an Origin equal to that Host
(a page of another site or another local port has its own). Pure checks, no aiohttp: the server
(faces/web_server.py) turns a refusal into a 403 and one log line.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{12,256}")  # URL-safe: the printed URL needs no quoting
TOKEN_HINT = "12 to 256 of A-Z a-z 0-9 . _ ~ -"


def new_token() -> str:
    """A fresh token for this server start: 192 random bits."""
    return secrets.token_urlsafe(24)


def valid_token(token: str) -> bool:
    return TOKEN_RE.fullmatch(token) is not None


def loopback_name(host: str) -> bool:
    """`localhost`, 127.x.y.z or ::1 (bracketed or not): a name only this machine answers."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(header: str) -> str | None:
    """The host name of a Host header (`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:80` -> `[::1]`),
    or None when it is not one."""
    if not header or any(c.isspace() or c in "/@?#\\" for c in header):
        return None
    try:
        parts = urlsplit(f"http://{header}")
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return None
    return parts.hostname


@dataclass(frozen=True)
class Guard:
    """The checks for one server: its token (None: the loopback opt-out) and whether it serves
    beyond loopback (then any Host: the token is what keeps a rebinding page out)."""

    token: str | None
    public: bool
    port: int

    @property
    def cookie(self) -> str:
        """Cookies are not kept apart by port: one name per port, so two servers on one
        machine do not overwrite each other's."""
        return f"mlp-tui-token-{self.port}"

    def host_refusal(self, host_header: str) -> str | None:
        """Why this Host is refused, or None."""
        name = split_host(host_header)
        if name is None:
            return "no Host, or not a host name"
        if not self.public and not loopback_name(name):
            return "a Host that is not a loopback name (DNS rebinding?)"
        return None

    def origin_refusal(self, origin: str | None, host_header: str, required: bool) -> str | None:
        """Why this Origin is refused, or None: it must be this page's own, `http://` + Host.
        A browser always sends one with a websocket (`required`); a command-line client sends
        none and has the token to show instead."""
        if origin is None:
            return "no Origin" if required and self.token is None else None
        if origin.lower() not in (f"http://{host_header}".lower(), f"https://{host_header}".lower()):
            return "an Origin other than this server's"
        return None

    def authorized(self, query_token: str | None, cookie_token: str | None) -> bool:
        """The token given in the URL or in the cookie the page set; any when there is none."""
        if self.token is None:
            return True
        given = [t for t in (query_token, cookie_token) if t]
        return any(hmac.compare_digest(t.encode(), self.token.encode()) for t in given)

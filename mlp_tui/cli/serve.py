"""`mlp-tui serve`: its arguments, checked like the TUI's, then the web server (faces.web).

`main` dispatches here; each browser tab's app process runs `main` again."""

from __future__ import annotations

import argparse
import os
import sys

from mlp_tui.cli.args import Invocation, check_device, parse_args
from mlp_tui.cli.parser import PROG, Parser, UsageError, fail
from mlp_tui.core.config import ConfigError, parse_int
from mlp_tui.core.text import reason


def build_serve_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=f"{PROG} serve",
        description="Serve the app over HTTP with textual-serve (extra mlp-tui[serve]): each "
        "browser tab trains its own runs. Any other flag is a training flag, as for mlp-tui.",
        allow_abbrev=False,  # a training flag's prefix must not be taken for one of these
    )
    p.prefix = "serve: "
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", default="8000", help="port, 1..65535 (default: 8000)")
    p.add_argument(
        "--public",
        action="store_true",
        help="allow a --host that is not loopback (there is no authentication)",
    )
    return p


def parse_serve(argv: list[str]):
    """`serve [--host H] [--port N] [--public] [training flags]`: the training flags are
    validated here as for the TUI, then passed on as given to each app process."""
    from mlp_tui.faces.web import EXTRA_HINT, ServeOptions, have_extra, is_loopback

    ns, rest = build_serve_parser().parse_known_args(argv)
    port = parse_int("--port", ns.port, 1, 65535)
    if not is_loopback(ns.host) and not ns.public:
        raise ConfigError(
            "--host", f"{ns.host} is not a loopback address; add --public to serve on it"
        )
    if rest and rest[0] in ("replay", "serve"):
        raise UsageError(f"serve: {rest[0]} is not a training flag")
    inv = parse_args(rest)
    assert isinstance(inv, Invocation)
    check_device(inv.config)
    for flag, given in (
        ("--headless", inv.headless),
        ("--history", inv.history),
        ("--force", inv.force),
    ):
        if given:
            raise ConfigError(flag, "not with serve (each browser tab runs an app of its own)")
    if not have_extra():
        raise UsageError(f"serve needs the serve extra: {EXTRA_HINT}")
    return ServeOptions(ns.host, port, tuple(rest)), ns.public


def run_serve(argv: list[str]) -> int:
    """The browser face: the web server's own lifecycle; each tab's app runs `main` again."""
    try:
        options, public = parse_serve(argv)
    except (UsageError, ConfigError) as exc:
        return fail(str(exc))
    from mlp_tui.faces.web import serve

    if public:
        sys.stderr.write(
            f"{PROG}: warning: serving on {options.host}:{options.port} with no authentication: "
            "anyone who can reach it can start and control training on this machine\n"
        )
    try:
        return serve(options)
    except OSError as exc:  # the address is taken or cannot be bound
        return fail(f"--port {options.port}: {reason(exc)}")


def served() -> bool:
    """Started by `mlp-tui serve` for a browser tab: Textual draws through the web driver."""
    from mlp_tui.faces.web import WEB_DRIVER

    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER

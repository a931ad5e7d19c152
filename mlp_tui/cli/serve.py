"""`mlp-tui serve`: its arguments, checked like the TUI's, then the web server (faces.web).

`main` dispatches here; each browser tab's app process runs `main` again."""

from __future__ import annotations

import argparse
import os
import sys

from mlp_tui.cli.args import Invocation, check_device, parse_args
from mlp_tui.cli.parser import PROG, Parser, UsageError, fail
from mlp_tui.core.config import ConfigError, available_memory, estimate_bytes, parse_int
from mlp_tui.core.limits import check_work
from mlp_tui.core.text import human_bytes, reason

MAX_WORK = 10**15  # --tab-work's bound: far beyond any tab, below any overflow


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
        help="allow a --host that is not loopback (anyone with the token can start training)",
    )
    p.add_argument("--token", help="the token visitors need (default: a new random one, printed "
                   "in the address)")
    p.add_argument("--no-token", action="store_true",
                   help="no token, loopback only: every page you open and every user of this "
                   "machine can then start training as you")
    p.add_argument("--max-apps", help="browser tabs (app processes) at once (default: two a "
                   "core, fewer when memory is short)")
    p.add_argument("--tab-work", help="width-epochs (epochs x width x depth x runs) one tab may "
                   "train (default: 2000000000, about an hour of a core on iris)")
    return p


def parse_serve(argv: list[str]):
    """`serve [--host H] [--port N] [--public] [--token T | --no-token] [--max-apps N]
    [--tab-work N] [training flags]`: the training flags are validated here as for the TUI,
    and against one tab's shares, then passed on as given to each app process."""
    from mlp_tui.faces.web import EXTRA_HINT, ServeOptions, have_extra, is_loopback
    from mlp_tui.faces.web_apps import TAB_WORK, default_max_apps
    from mlp_tui.faces.web_guard import TOKEN_HINT, new_token, valid_token

    ns, rest = build_serve_parser().parse_known_args(argv)
    port = parse_int("--port", ns.port, 1, 65535)
    if not is_loopback(ns.host) and not ns.public:
        raise ConfigError(
            "--host", f"{ns.host} is not a loopback address; add --public to serve on it"
        )
    if ns.no_token and (ns.token is not None or not is_loopback(ns.host)):
        raise ConfigError("--no-token", "only on a loopback --host, and not with --token")
    if ns.token is not None and not valid_token(ns.token):
        raise ConfigError("--token", f"must be {TOKEN_HINT}")
    available = available_memory()
    most = 64 * (os.cpu_count() or 1)
    max_apps = (default_max_apps(available) if ns.max_apps is None
                else parse_int("--max-apps", ns.max_apps, 1, most))
    work = TAB_WORK if ns.tab_work is None else parse_int("--tab-work", ns.tab_work, 1, MAX_WORK)
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
    memory = available // 2 // max_apps
    _check_tab(inv, work, memory)
    if not have_extra():
        raise UsageError(f"serve needs the serve extra: {EXTRA_HINT}")
    outputs = tuple((flag, path) for flag, path in (
        ("--export", inv.export), ("--capacity-export", inv.face.capacity)) if path is not None)
    token = None if ns.no_token else ns.token or new_token()
    return ServeOptions(ns.host, port, tuple(rest), token, max_apps, memory, work,
                        outputs, ns.public)


def _check_tab(inv: Invocation, work: int, memory: int) -> None:
    """The training flags within one tab's shares: else no tab could start."""
    check_work(inv.config, ConfigError, budget=work)
    cfg = inv.config
    total = sum(estimate_bytes(p, w) for p in cfg.points() for w in cfg.widths) * cfg.repeats
    if total > memory:
        raise ConfigError("--widths", f"needs about {human_bytes(total)} of memory, more than "
                          f"the {human_bytes(memory)} each of --max-apps tabs may take")


def run_serve(argv: list[str]) -> int:
    """The browser face: the web server's own lifecycle; each tab's app runs `main` again."""
    try:
        options = parse_serve(argv)
    except (UsageError, ConfigError) as exc:
        return fail(str(exc))
    from mlp_tui.faces.web import serve

    where = f"{options.host}:{options.port}"
    if options.public:
        sys.stderr.write(f"{PROG}: warning: serving on {where} beyond this machine: anyone "
                         "who has the address with its token can start and control training "
                         "here (HTTP, not encrypted: prefer an SSH tunnel)\n")
    if options.token is None:
        sys.stderr.write(f"{PROG}: WARNING: serving on {where} with NO TOKEN (--no-token): "
                         "every user of this machine can start and control training as you\n")
    try:
        return serve(options)
    except OSError as exc:  # the address is taken or cannot be bound
        return fail(f"--port {options.port}: {reason(exc)}")


def served() -> bool:
    """Started by `mlp-tui serve` for a browser tab: Textual draws through the web driver."""
    from mlp_tui.faces.web import WEB_DRIVER

    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


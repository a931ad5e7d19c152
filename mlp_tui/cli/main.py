"""`mlp-tui`: the command line's entry point. Parses and checks everything, builds the session and
its runner (`start`), then hands them to a face: the app, headless, or (`serve`) the web server.

Imports nothing heavy at module level: `mlp-tui --help` must not pay for torch or scikit-learn.
Every value is validated before any training starts; a bad one prints one line and exits 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mlp_tui.cli.args import Invocation, check_device, parse_args
from mlp_tui.cli.parser import PROG, UsageError, fail
from mlp_tui.core.config import ConfigError
from mlp_tui.core.text import reason


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":
        from mlp_tui.cli.serve import run_serve

        return run_serve(list(argv[1:]))
    try:
        inv = parse_args(argv)
        if isinstance(inv, Invocation):
            check_device(inv.config)
    except (UsageError, ConfigError) as exc:
        return fail(str(exc))
    from mlp_tui.cli.serve import served
    from mlp_tui.cli.start import start_runner
    from mlp_tui.persist.codec import HistoryFormatError
    from mlp_tui.persist.files import FileRefused

    interactive = (sys.stdout.isatty() and sys.stdin.isatty()) or served()
    headless = inv.headless or not interactive
    try:
        runner = start_runner(inv, defer=not headless)  # the app draws before torch loads
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:
        return fail(str(exc))
    except HistoryFormatError as exc:  # only a replayed file or log directory raises it
        return fail(f"FILE: {exc}")
    except FileRefused as exc:
        return fail(f"--history: {exc}")
    except OSError as exc:
        return fail(f"{exc.filename or ''}: {reason(exc)}".lstrip(": "))
    if inv.face.reset_view:
        from mlp_tui.persist.view_file import reset_view

        reset_view()
    if headless:
        if not inv.headless:
            sys.stderr.write(f"{PROG}: not a terminal, running headless\n")
        from mlp_tui.faces.headless import run_headless

        return run_headless(runner)
    from mlp_tui.tui.app import run_app

    return run_app(runner, quiet=inv.face.quiet)


if __name__ == "__main__":
    raise SystemExit(main())

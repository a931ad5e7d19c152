"""The argument parsers (`mlp-tui`, `mlp-tui replay`) and how bad input ends: one line on stderr,
exit status 2, never the usage block. Imports nothing heavy: `--help` stays instant."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Sequence

from mlp_tui import __version__
from mlp_tui.core.settings import GRID_FLAGS, SETTINGS

PROG = "mlp-tui"
EXIT_USAGE = 2
MAX_PROCESS_WORKERS = 64
# The flags that take one comma list: `--widths 5 100` gets the hint to write `5,100`.
LIST_FLAGS = ("--widths", *GRID_FLAGS.values())
NEGATIVE_NUMBER = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


class UsageError(Exception):
    """Bad command-line input: one line for the user, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (`UsageError`) that takes `-1e-3` for a value."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # argparse takes `-inf`, `-1e-3` or `-5,-6` for an unknown option and answers "expected
        # one argument"; no option here starts with a digit, so let such values through to the
        # checks that say what is wrong with them.
        self._negative_number_matcher = NEGATIVE_NUMBER

    prefix = ""  # "replay: " for the replay subcommand

    def error(self, message: str) -> None:  # one line, never the usage block
        raise UsageError(self.prefix + message.removeprefix("argument "))

    def parse_args(self, args: Sequence[str] | None = None, namespace=None):  # type: ignore[override]
        """argparse's, but what it could not place gets a hint at the likely fix."""
        args = list(sys.argv[1:] if args is None else args)
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            options = [o for o in self._option_string_actions if o.startswith("--")]
            self.error(unrecognized(args, extras, options))
        return ns

    def exit(self, status: int = 0, message: str | None = None) -> None:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def unrecognized(args: Sequence[str], extras: Sequence[str], options: Sequence[str]) -> str:
    """The one line for arguments argparse could not place: a list written with spaces
    (`--widths 5 100`: use commas), a misspelt flag (`--widht`: did you mean --widths?), or
    argparse's own words."""
    spaced = _spaced_list(args, options)
    if spaced is not None:
        flag, values = spaced
        return f"{flag} takes one comma list, without spaces: {flag} {','.join(values)}"
    for extra in extras:
        name = extra.split("=", 1)[0]
        if name.startswith("-") and name not in options:
            close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (see {PROG} --help)"
            return f"unknown option {name}{hint}"
    return "unrecognized arguments: " + " ".join(extras)


def _spaced_list(args: Sequence[str], options: Sequence[str]) -> tuple[str, list[str]] | None:
    """A list flag followed by more than one bare value: the flag and those values."""
    for i, arg in enumerate(args):
        flag, eq, first = arg.partition("=")
        if flag not in LIST_FLAGS or flag not in options:
            continue
        values = [first] if eq else []
        for token in args[i + 1:]:
            if token.startswith("--") or (token.startswith("-") and not _number(token)):
                break
            values.append(token)
        if len(values) > 1:
            return flag, [v.strip(",") for v in values]
    return None


def _number(token: str) -> bool:
    return NEGATIVE_NUMBER.match(token) is not None


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=PROG,
        description=(
            "Train an MLP on a scikit-learn dataset for several hidden widths at once and watch "
            "the losses live. `mlp-tui replay FILE` opens a recorded --history file; "
            "`mlp-tui serve` serves the app in a browser."
        ),
        epilog="Keys in the app: p pause/resume all, space pause/resume one, r/R restart, "
        "+/- speed, m metric (train+val pairs), l log y, o outlier range, s/S smoothing, "
        "left/right/home/end epoch cursor (escape: live), z zoom, b seed band, w loss vs width, "
        "a capacity at epoch/best, g grid, v hide run, x x-axis, 0 reset view, c settings, "
        "e export table, E export history, ? help, q quit.",
    )
    for setting in SETTINGS:  # every run setting, as declared (core/settings.py)
        if setting.switch:
            p.add_argument(setting.flag, action="store_true", help=setting.help)
        else:
            p.add_argument(setting.flag, default=setting.text(setting.default),
                           metavar=setting.metavar, help=setting.help)
    a = p.add_argument
    a("--config", metavar="FILE.toml",
      help="flags from a TOML file (keys: the flags' names); the command line wins")
    a("--headless", action="store_true", help="no TUI: progress on stderr, final table on stdout")
    a("--export", metavar="PATH", help="final table: .csv, .json or .md (written at the end)")
    a("--history", metavar="PATH", help="per-epoch history, streamed: .csv or .jsonl")
    a("--force", action="store_true", help="overwrite an existing --history file")
    a("--save-models", metavar="DIR",
      help="each run's best (lowest validation loss, else train loss) and last weights as "
      "plain state_dict .pt files, each with a .json of its settings, epoch and losses")
    a("--backend",
      help="thread, process or ray: where the runs train (default: chosen, docs/backends.md: "
      "worker processes for large unthrottled headless work, else threads)")
    a("--workers", metavar="N",
      help=f"with --backend process: worker processes, 1..{MAX_PROCESS_WORKERS} (default: one "
      "per core)")
    a(
        "--ray-address",
        metavar="ADDRESS",
        help="with --backend ray: HOST:PORT of a Ray head; default auto (RAY_ADDRESS, else the "
        "head `ray start` recorded here, else a Ray started for this session)",
    )
    a("--tensorboard", metavar="DIR",
      help="TensorBoard event files, one sub-folder per run and seed, written while the runs go "
      "(pip install 'mlp-tui[tensorboard]')")
    _face_args(p)
    a("--version", action="version", version=f"{PROG} {__version__}")
    return p


def _face_args(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--capacity-export", metavar="PATH",
      help="loss against width (seeds pooled) at each run's latest and best-validation epoch: "
      ".csv, .json or .md (written with --export's policy)")
    a("--quiet", action="store_true", help="no terminal bell on alerts (a run ends or goes bad)")
    a("--reset-view", action="store_true",
      help="forget the remembered view (metric, scale, smoothing, layout, hidden runs)")


def build_replay_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=f"{PROG} replay",
        description="Open a history file recorded with --history (.csv or .jsonl), or a "
        "TensorBoard log directory written by any program (pip install 'mlp-tui[tensorboard]').",
    )
    p.prefix = "replay: "
    p.add_argument("file", help="the history file, or a TensorBoard log directory")
    p.add_argument("--follow", action="store_true", help="keep reading rows as they are appended")
    p.add_argument("--headless", action="store_true", help="print the final table, no TUI")
    p.add_argument("--export", metavar="PATH", help="write the final table: .csv, .json or .md")
    _face_args(p)
    return p


def fail(message: str) -> int:
    """Say what is wrong in one line and return the usage exit status."""
    # One line whatever the user typed: a newline or an escape in a value is shown escaped.
    message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return EXIT_USAGE

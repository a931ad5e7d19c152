"""The one way mlp-tui opens a file it reads: config, data, history and event files.

Symlinks are followed, then anything but a regular file (a FIFO, a device such as /dev/zero, a
directory, a socket) is refused; opening never blocks. A kind of input may carry a size cap
(`Cap`), raised by an environment variable; a file over it is refused before it is read.
Refusals are `InputRefused`, one line that names the file and the limit.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


class InputRefused(ValueError):
    """A file mlp-tui will not read; `str()` is the one line the user sees."""


def describe_mode(mode: int) -> str:
    """What a path that is not a regular file is, for a refusal."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def size_text(n: int) -> str:
    """`512 MiB`, `16 GiB`, `1.5 KiB`: a size in the units the caps are stated in."""
    if n < 1024:
        return f"{n} bytes"
    if n >= 1 << 70:
        return "over 1024 EiB"
    value, power = n / 1024, 0
    while value >= 1024 and power < 5:
        value, power = value / 1024, power + 1
    unit = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")[power]
    return f"{value:.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"


@dataclass(frozen=True)
class Cap:
    """The most bytes mlp-tui reads from one kind of input, and the setting that raises it."""

    what: str  # "a --config file": the kind, as a refusal names it
    default_mib: float
    setting: str  # an environment variable, in MiB

    def limit(self) -> int:
        text = os.environ.get(self.setting, "").strip()
        if not text:
            return int(self.default_mib * 2**20)
        try:
            mib = float(text)
        except ValueError:
            mib = math.nan
        if not (math.isfinite(mib) and mib > 0):
            raise InputRefused(f"{self.setting}={text!r}: expected a size in MiB above 0")
        return max(1, int(mib * 2**20))

    def check(self, path: Path | str, size: int, what: str | None = None) -> None:
        """Refuse `size` bytes of this kind over the limit; `what` names the part, if not the
        whole file (`X.npy holds 16 GiB (float64, ...)`)."""
        limit = self.limit()
        if size > limit:
            part = what or size_text(size)
            if part == size_text(limit):  # just over: the bytes tell them apart
                part = f"{size:,} bytes"
            raise InputRefused(f"{path}: {part}, over the {self.limit_text(limit)}")

    def limit_text(self, limit: int | None = None) -> str:
        limit = self.limit() if limit is None else limit
        return f"{size_text(limit)} limit for {self.what} (set {self.setting} to raise it)"


CONFIG_CAP = Cap("a --config file", 1, "MLP_TUI_MAX_CONFIG_MB")
DATA_CAP = Cap("a --dataset file", 256, "MLP_TUI_MAX_DATA_MB")  # the file, and each array in it
EVENT_CAP = Cap("an event record", 64, "MLP_TUI_MAX_EVENT_MB")  # one record of an event file


def open_regular(path: Path | str) -> int:
    """A read-only descriptor on `path`, refused unless it is a regular file; never blocks."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise InputRefused(f"{path}: not a regular file (it is {describe_mode(st.st_mode)})")
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: swapped for a FIFO since the stat, still no wait
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputRefused(f"{path}: not a regular file (it is {describe_mode(mode)})")
    return fd


def open_input(path: Path | str, cap: Cap) -> BinaryIO:
    """A regular file no longer than the cap, open for reading (a binary file object).
    OSError for a missing or unreadable file; InputRefused for anything else refused."""
    fd = open_regular(path)
    try:
        cap.check(path, os.fstat(fd).st_size)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_input(path: Path | str, cap: Cap) -> bytes:
    """The whole of a small input file, refused over the cap (also one that grew since)."""
    with open_input(path, cap) as f:
        data = f.read(cap.limit() + 1)
    cap.check(path, len(data))
    return data

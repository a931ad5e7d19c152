"""Full disks for tests, both real (`import disks`; `tests` is on pytest's pythonpath).

- `FsizeDisk`: RLIMIT_FSIZE caps every file this process writes; a write past it fails with
  EFBIG (Python ignores SIGXFSZ from start-up, so the signal does not kill the process). Anyone
  may lower their own limit and raise it back up to the hard limit: no root needed, so this one
  always runs.
- `TmpfsDisk`: a tiny tmpfs, nearly filled: ENOSPC for real. Mounting needs root (or a
  tmpfs the test may mount); elsewhere it skips, saying so.

Both give a folder (`dir`), the bytes a file there may still grow by (`room`), `free()` to make
room for everything, and `close()`.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest

PAGE = 4096
KINDS = ("fsize", "tmpfs")


class FsizeDisk:
    """Every file of this process stops at `room_pages` pages: EFBIG for real."""

    def __init__(self, folder: Path, room_pages: int) -> None:
        self.dir = folder
        self.limit = room_pages * PAGE
        self.old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        self.old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # as Python sets it
        self.set_room(self.limit)

    def set_room(self, limit: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, self.old_limit[1]))

    def room(self, path: Path | None = None) -> int:
        return self.limit - (path.stat().st_size if path is not None else 0)

    def free(self) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, self.old_limit)

    def close(self) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, self.old_limit)
        signal.signal(signal.SIGXFSZ, self.old_handler)


class TmpfsDisk:
    """A tmpfs of `size_pages` pages with a filler file leaving `room_pages`: ENOSPC for real."""

    def __init__(self, mnt: Path, room_pages: int, size_pages: int = 8) -> None:
        if os.geteuid() != 0:
            pytest.skip("needs root to mount a tmpfs (the fsize variant runs without)")
        mnt.mkdir(exist_ok=True)
        size = size_pages * PAGE
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
            capture_output=True,
            text=True,
        )
        if r.returncode:
            pytest.skip(f"cannot mount a tmpfs here (the fsize variant runs): {r.stderr.strip()}")
        self.dir = mnt
        self.filler = mnt / "filler"
        self.filler.write_bytes(b"f" * (size - room_pages * PAGE))

    def room(self, path: Path | None = None) -> int:
        """Free pages, plus the slack in the last page of `path`."""
        st = os.statvfs(self.dir)
        slack = (-path.stat().st_size) % PAGE if path is not None else 0
        return st.f_bavail * st.f_frsize + slack

    def free(self) -> None:
        self.filler.unlink()

    def close(self) -> None:
        r = subprocess.run(["umount", str(self.dir)], capture_output=True)
        if r.returncode:
            subprocess.run(["umount", "-l", str(self.dir)], check=True)


def make_disk(kind: str, tmp_path: Path, room_pages: int, size_pages: int = 8):
    """A full disk of `kind` ("fsize" or "tmpfs") under tmp_path."""
    if kind == "tmpfs":
        return TmpfsDisk(tmp_path / "mnt", room_pages, size_pages)
    return FsizeDisk(tmp_path, room_pages)

"""Files that never lie and never lose what fits: the history's append-only writer, atomic
table writes, and default names that never collide.

Policies (documented in the README): an existing non-empty history file is refused unless
`--force` (then it is truncated); a history path that is a symlink, a FIFO or a device is
refused; a second writer of the same history (another mlp-tui) is refused by an exclusive lock;
an export keeps the mode of the file it replaces.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

CHUNK_BYTES = 1 << 20  # lines written per os.write at most


class FileRefused(ValueError):
    """A path we will not write; `str()` is one line for the user."""


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import: os.umask is process-wide and not thread-safe
_NAME_LOCK = threading.Lock()


def check_regular_target(path: Path, history: bool = False) -> None:
    """Refuse an existing FIFO, device or socket (and, for a history, a symlink)."""
    try:
        st = os.lstat(path) if history else os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FileRefused(f"{path}: {exc.strerror or exc}") from None
    if history and stat.S_ISLNK(st.st_mode):
        raise FileRefused(f"{path} is a symbolic link (give the real path)")
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"{path} is not a regular file")


class AppendFile:
    """The history file: whole lines appended, under an exclusive lock."""

    def __init__(self, path: Path, header: str = "", force: bool = False) -> None:
        self.path = Path(path)
        self.error: str | None = None
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(self.path, flags | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileRefused(f"{path} is a symbolic link (give the real path)") from None
            if exc.errno == errno.ENXIO:  # a FIFO with no reader
                raise FileRefused(f"{path} is not a regular file") from None
            raise
        try:
            self._check(fd, force)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        if header and os.fstat(fd).st_size == 0:
            self.write_lines([header])

    def _check(self, fd: int, force: bool) -> None:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"{self.path} is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FileRefused(f"{self.path} is in use by another mlp-tui") from None
        if st.st_size:
            if not force:
                raise FileRefused(
                    f"{self.path} already exists; pass --force to overwrite it "
                    "(or choose another file)"
                )
            os.ftruncate(fd, 0)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def write_lines(self, lines: Sequence[str]) -> int:
        """Append as many whole lines as fit, in order; returns how many. A short write is cut
        back to the last whole line; a full disk is noted in `error`, not raised."""
        done = 0
        while done < len(lines):
            n = self._write_some(lines, done)
            if n == 0:
                return done
            done += n
        self.error = None
        return done

    def _write_some(self, lines: Sequence[str], start: int) -> int:
        """Write one chunk of lines from `start`, halving it on failure; returns lines written."""
        end, size = start, 0
        while end < len(lines) and (end == start or size + len(lines[end]) <= CHUNK_BYTES):
            size += len(lines[end])
            end += 1
        while end > start:
            if self._write_whole("".join(lines[start:end]).encode()):
                return end - start
            if end - start == 1:
                return 0
            end = start + (end - start) // 2
        return 0

    def _write_whole(self, data: bytes) -> bool:
        good = os.lseek(self._fd, 0, os.SEEK_END)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, good)
            except OSError:
                pass
            self.error = f"history file {self.path}: {exc.strerror or exc}"
            return False
        return True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def __enter__(self) -> AppendFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_atomic(path: Path, text: str) -> Path:
    """Write to a temp file beside `path`, fsync, then rename: never a half-written file. An
    existing file keeps its mode; a symlink is written through (its target is replaced)."""
    target = Path(os.path.realpath(path))
    check_regular_target(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return Path(path)


def unique_path(folder: Path, stem: str, suffix: str) -> Path:
    """`folder/stem.suffix`, or with -2, -3, ... when taken: reserved at once (an empty file the
    caller then replaces), so two exports in one second never overwrite each other."""
    with _NAME_LOCK:
        for n in range(1, 10_000):
            path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            return path
    raise FileRefused(f"no free name like {stem}{suffix} in {folder}")

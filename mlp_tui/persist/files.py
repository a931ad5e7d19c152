"""Files that never lie and never lose what fits: the history's append-only writer, atomic
exports, collision-free default names, and the CLI's check that a target is a regular file.

Policies (POSIX only: `fcntl.flock`, `O_NOFOLLOW`):
- The history (`AppendFile`) refuses a symlink, anything but a regular file, a file another
  mlp-tui is writing, and an existing non-empty file unless `force=True`, which truncates it.
- An export (`write_atomic`) follows a final symlink, resolved once, and replaces the file it
  points to: the link stays a link. The replaced file keeps its mode bits.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from mlp_tui.core.inputs import describe_mode
from mlp_tui.core.text import reason

__all__ = [
    "AppendFile",
    "FileRefused",
    "check_regular_target",
    "unique_path",
    "write_atomic",
]

_SPACE_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}  # a shorter write may still fit
_MAX_NAME_TRIES = 10_000


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # once, at import: os.umask is process-wide and not thread-safe
_clock = time.time  # the tests freeze it to prove two names in one second differ


class FileRefused(ValueError):
    """A path mlp-tui will not write to; `str()` is the one line the user sees."""


def _not_regular(path: Path, mode: int) -> FileRefused:
    return FileRefused(f"{path} is not a regular file (it is {describe_mode(mode)})")


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileRefused(f"{path}: {reason(exc)}") from None


def check_regular_target(path: Path, *, follow_symlinks: bool = False) -> None:
    """Refuse a path that exists and is not a regular file (named pipe, device, socket,
    directory). A symlink is refused too (the history's rule); exports pass
    `follow_symlinks=True`, which checks what the link points to instead."""
    path = Path(path)
    st = _lstat(path)
    if st is None:
        return
    if stat.S_ISLNK(st.st_mode):
        if not follow_symlinks:
            raise FileRefused(f"{path} is a symbolic link; give the file's real path")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return  # a dangling link: write_atomic creates the file it names
        except OSError as exc:
            raise FileRefused(f"{path}: {reason(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode)


class AppendFile:
    """The history file: whole lines appended in order, as many as fit, never a torn one.

    Refuses symlinks, non-regular files, a file another writer holds (`flock`), and an
    existing non-empty file unless `force=True`, which truncates it. A failed write is kept in
    `error` (one line) instead of raised, so a full disk costs only the lines that do not fit;
    the caller retries the rest later.
    """

    chunk_lines = 16_384  # lines per write(); on ENOSPC a chunk is halved until its prefix fits

    def __init__(self, path: Path, header: str = "", force: bool = False) -> None:
        if header and not header.endswith("\n"):
            raise ValueError("the header must end with a newline")
        self.path = Path(path)
        self.error: str | None = None
        self._fd = -1
        self._header = header
        self._torn_at: int | None = None  # the last whole line's end, if cutting back failed
        check_regular_target(self.path)  # before open: opening a device can have effects
        self._fd = self._open()
        try:
            self._claim(force)
        except BaseException:
            os.close(self._fd)
            self._fd = -1
            raise
        self._header_pending = bool(header) and os.fstat(self._fd).st_size == 0
        if self._header_pending:
            self._write_header()

    def _open(self) -> int:
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        )
        try:
            return os.open(self.path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP and os.path.islink(self.path):
                raise FileRefused(
                    f"{self.path} is a symbolic link; give the file's real path"
                ) from None
            if exc.errno in (errno.ENXIO, errno.EISDIR):  # a pipe with no reader; a folder
                raise FileRefused(f"{self.path} is not a regular file") from None
            raise FileRefused(f"{self.path}: {reason(exc)}") from None

    def _claim(self, force: bool) -> None:
        """The checks that hold for the opened file, not for whatever the name meant before."""
        st = os.fstat(self._fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(self.path, st.st_mode)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FileRefused(f"{self.path} is in use by another mlp-tui") from None
        if st.st_size:
            if not force:
                raise FileRefused(
                    f"{self.path} already exists and is not empty (use --force to overwrite it)"
                )
            os.ftruncate(self._fd, 0)

    def _write_header(self) -> bool:
        try:
            self._append(self._header.encode())
        except OSError as exc:
            self._fail(exc)
            return False
        self._header_pending = False
        return True

    def write_lines(self, lines: Sequence[str]) -> int:
        """Append as many whole lines (each ending in a newline) as fit, in order; returns how
        many. A failure is recorded in `error` and the count so far returned."""
        if self._fd < 0:
            raise ValueError(f"{self.path} is closed")
        for line in lines:
            if not line.endswith("\n"):
                raise ValueError(f"a line must end with a newline: {line[:40]!r}")
        if self._header_pending and not self._write_header():
            return 0
        written, step = 0, self.chunk_lines
        while written < len(lines):
            end = min(len(lines), written + step)
            try:
                self._append("".join(lines[written:end]).encode())
            except OSError as exc:
                if exc.errno in _SPACE_ERRORS and end - written > 1:
                    step = (end - written) // 2  # a prefix may fit: bisect the chunk
                    continue
                self._fail(exc)
                return written
            written = end
        self.error = None
        return written

    def _append(self, data: bytes) -> None:
        """All of `data` or none: a short write is cut back to the last whole line."""
        if self._torn_at is not None:
            os.ftruncate(self._fd, self._torn_at)
            self._torn_at = None
        good = os.fstat(self._fd).st_size
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                if n == 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[n:]
        except OSError:
            try:
                os.ftruncate(self._fd, good)
            except OSError:
                self._torn_at = good  # cut it back before the next write
            raise

    def _fail(self, exc: OSError) -> None:
        self.error = f"cannot write {self.path}: {reason(exc)}"

    def close(self) -> None:
        """Flush to disk (a network file system may report a full disk only now) and release
        the lock."""
        if self._fd < 0:
            return
        try:
            if self._torn_at is not None:
                os.ftruncate(self._fd, self._torn_at)
            os.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)
        finally:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> AppendFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_atomic(path: Path, text: str) -> Path:
    """Write to a temp file beside `path`, fsync, rename: the target holds the old text or the
    new, never half. An existing file keeps its mode bits (and owner, where allowed); a new one
    gets 0o666 & ~umask. A final symlink is resolved once and its target replaced, so the link
    stays a link. Returns the path written (the link's target for a link)."""
    target = Path(path)
    if os.path.islink(target):
        target = Path(os.path.realpath(target))
    check_regular_target(target)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, stat.S_IMODE(st.st_mode) if st else 0o666 & ~_UMASK)
        if st and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.fchown(fd, st.st_uid, st.st_gid)
            except PermissionError:
                pass  # only root may give a file away; the new file is then ours
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(target.parent)
    return target


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot fsync a folder, and then the
    rename is as durable as they allow."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unique_path(folder: Path, stem: str, suffix: str) -> Path:
    """A fresh name such as `mlp-tui-results-20261128-140512.csv`, then `-2`, `-3`, ... when
    taken. The name is reserved by creating an empty file (O_EXCL), so two presses in one
    second or two processes never get the same one; the caller replaces it with
    `write_atomic` (and removes it if that fails)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(_clock()))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for n in range(1, _MAX_NAME_TRIES + 1):
        candidate = Path(folder) / f"{stem}-{stamp}{f'-{n}' if n > 1 else ''}{suffix}"
        try:
            fd = os.open(candidate, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileRefused(f"no free name for {stem}-{stamp}{suffix} in {folder}")

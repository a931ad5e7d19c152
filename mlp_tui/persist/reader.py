"""Reads a history file as it grows, in bounded chunks, whatever the file holds.

Memory stays bounded by the chunk size and `MAX_LINE` however large the file. Opening never
blocks: only regular files are read (a FIFO, a device such as /dev/zero, a directory or a socket
is refused, also behind a symlink). While following, a file truncated or rewritten in place, or
replaced by a new one (log rotation), is read again from its start and reported in `restarted`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mlp_tui.core.inputs import InputRefused, open_regular
from mlp_tui.persist.codec import (
    HISTORY_FORMATS,
    MAX_LINE,
    HistoryFormatError,
    decode_header,
    decode_row,
    history_format,
)

READ_SIZE = 1 << 20  # one read; a call reads several up to its max_bytes
HEAD_BYTES = 512  # the file's first bytes, compared on each call to notice a rewrite in place
_BOM = b"\xef\xbb\xbf"


def _open(path: Path) -> int:
    """The one bounded opener (`inputs.open_regular`), its refusal as a history error."""
    try:
        return open_regular(path)
    except InputRefused as exc:
        raise HistoryFormatError(str(exc)) from None


class HistoryReader:
    """Decoded rows of the complete lines added to a history file since the last call.

    `more` says the last call stopped at its byte budget (or before a bad line) with more to
    read. `restarted` is set ("file was truncated", "file was replaced") when the rows returned
    start again from the beginning of the file; the caller drops what it had and clears it.
    A path that vanishes is waited for, reading on from the file already open. A bad line
    raises `HistoryFormatError` ("{path}: line {n}: {problem}") once the rows before it have
    been returned, and again on every call until the file is truncated or replaced.
    """

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.fmt = fmt or history_format(self.path)
        if self.fmt not in HISTORY_FORMATS.values():
            raise HistoryFormatError(f"unknown history format {self.fmt!r}")
        self.more = False
        self.restarted: str | None = None
        self._fd = _open(self.path)
        self._reset()

    def _reset(self) -> None:
        st = os.fstat(self._fd)
        self._ident = (st.st_dev, st.st_ino)
        self._pos = 0  # file offset of the next byte to read
        self._pending = b""  # the unfinished record before _pos
        self._line = 1  # line number of the first line of _pending
        self._header: tuple[str, ...] | None = None
        self._head = b""

    def read_new(self, max_bytes: int = 8 << 20) -> list[dict[str, object]]:
        """The rows of the whole records added since the last call, reading at most
        `max_bytes`; an unfinished last line waits for its newline."""
        if self._fd < 0:
            raise ValueError("history reader is closed")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self._follow()
        rows: list[dict[str, object]] = []
        budget = max_bytes
        while budget > 0:
            data = os.pread(self._fd, min(budget, READ_SIZE), self._pos)
            if not data:
                break
            budget -= len(data)
            self._remember_head(data)
            if not self._consume(data, rows):
                self.more = True  # the bad line's error comes with the next call
                return rows
        self.more = self._pos < os.fstat(self._fd).st_size
        return rows

    def _follow(self) -> None:
        """Notice a replaced, truncated or rewritten file and start again from its start."""
        try:
            st = os.stat(self.path)
        except OSError:
            st = None  # gone (or unreachable) for now: read on from the open file
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                raise HistoryFormatError(f"{self.path}: not a regular file")
            if (st.st_dev, st.st_ino) != self._ident:
                try:
                    fd = _open(self.path)
                except FileNotFoundError:
                    return
                os.close(self._fd)
                self._fd = fd
                self._reset()
                self.restarted = "file was replaced"
                return
        if os.fstat(self._fd).st_size < self._pos or (
            self._head and os.pread(self._fd, len(self._head), 0) != self._head
        ):
            self._reset()
            self.restarted = "file was truncated"

    def _remember_head(self, data: bytes) -> None:
        have, start = len(self._head), self._pos
        if have < HEAD_BYTES and start <= have < start + len(data):
            self._head += data[have - start : HEAD_BYTES - start]

    def _consume(self, data: bytes, rows: list[dict[str, object]]) -> bool:
        """Decode the whole records in pending + data into rows; False when it stopped before
        a bad record (rows were already found, so they go first)."""
        buf = self._pending + data
        base = self._pos - len(self._pending)
        self._pos += len(data)
        start = scan = 0
        line = self._line
        odd = False  # inside a quoted CSV field: its newline does not end the record
        while (nl := buf.find(b"\n", scan)) >= 0:
            if self.fmt == "csv":
                odd ^= bool(buf.count(b'"', scan, nl) & 1)
            scan = nl + 1
            if odd and nl - start <= MAX_LINE:
                continue
            try:
                if nl - start > MAX_LINE:
                    raise self._error(line, f"line longer than {MAX_LINE} bytes")
                self._take(buf[start:nl], base + start, line, rows)
            except HistoryFormatError:
                self._rewind(base + start, line)
                if rows:
                    return False
                raise
            line += buf.count(b"\n", start, nl) + 1
            start = scan
        if len(buf) - start > MAX_LINE:
            self._rewind(base + start, line)
            if rows:
                return False
            raise self._error(line, f"line longer than {MAX_LINE} bytes")
        self._pending = buf[start:]
        self._line = line
        return True

    def _rewind(self, offset: int, line: int) -> None:
        """Stand before the record at `offset`, so the next call reads it again."""
        self._pos, self._pending, self._line = offset, b"", line

    def _take(self, record: bytes, offset: int, line: int, rows: list[dict[str, object]]) -> None:
        if offset == 0 and record.startswith(_BOM):
            record = record[len(_BOM) :]
        if record.endswith(b"\r"):
            record = record[:-1]
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(line, "not UTF-8 text") from None
        if not text.strip(" \t"):
            return
        try:
            if self.fmt == "csv" and self._header is None:
                self._header = decode_header(text)
            else:
                rows.append(decode_row(text, self.fmt, self._header))
        except HistoryFormatError as exc:
            raise self._error(line, str(exc)) from None

    def _error(self, line: int, problem: str) -> HistoryFormatError:
        return HistoryFormatError(f"{self.path}: line {line}: {problem}")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

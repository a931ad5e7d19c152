"""Reading a TensorBoard log directory written by any program, with tensorboard's own accumulator.

Every folder under the log directory that holds event files is a run; its scalar tags are its
metrics. `EventAccumulator.Reload()` reads only what was appended since the last call, so
following a directory costs what is new. A directory without any scalar is an error the CLI
reports in one line.

The records of each event file are framed and checked here (`EventFile`), not by tensorboard's
record reader, which allocates whatever a record's length field claims: every file is opened
through `inputs.open_regular`, and a record is read only when its length is under `EVENT_CAP`
and the file holds all of it. A truncated file yields the events before the cut (more may come
while following); a damaged one (a record over the cap, a failed checksum, a record that is not
an event) yields the events before the damage, and `damage` says where, for the header.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlp_tui.core.inputs import EVENT_CAP, InputRefused, open_regular, size_text
from mlp_tui.persist import tensorboard as tb_out
from mlp_tui.persist.codec import HistoryFormatError

READ_SIZE = 1 << 20  # one read of an event file; a record over it is read on its own


class LogdirError(HistoryFormatError):
    """The directory cannot be replayed; `str()` is the one line the user sees."""


@dataclass
class TagPoints:
    """One scalar tag of one run: its points in the order they were logged."""

    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)


def check_logdir(path: Path) -> None:
    if tb_out.tensorboard_missing():
        raise LogdirError(f"replaying a TensorBoard log directory {tb_out.INSTALL_HINT}")
    if not path.is_dir():
        raise LogdirError(f"{path}: not a directory")


class EventFile:
    """One event file's events, for tensorboard's DirectoryWatcher (its loader interface:
    `Load()` yields the events added since the last call). Each record is a length (8 bytes,
    little-endian), the length's masked CRC-32C, the data, and the data's masked CRC-32C.
    Reading stops for good at damage, and `damage` says where."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.close(open_regular(path))  # refused now (InputRefused), not halfway through a Load
        self.offset = 0  # where the next record starts
        self.damage: str | None = None

    def Load(self) -> Iterator[object]:  # noqa: N802 (tensorboard's name)
        if self.damage is not None:
            return
        fd = open_regular(self.path)
        try:
            yield from self._events(fd)
        finally:
            os.close(fd)

    def _events(self, fd: int) -> Iterator[object]:
        from google.protobuf.message import DecodeError
        from tensorboard.compat.proto import event_pb2
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

        size, cap = os.fstat(fd).st_size, EVENT_CAP.limit()
        window, start = b"", self.offset  # file bytes from `start`, read READ_SIZE at a time

        def read(at: int, n: int) -> bytes:
            nonlocal window, start
            if not (start <= at and at + n <= start + len(window)):
                window, start = os.pread(fd, max(n, READ_SIZE), at), at
            return window[at - start : at - start + n]

        while size - self.offset >= 12:
            head = read(self.offset, 12)
            if len(head) < 12:
                return  # cut since the fstat
            (length,), (crc,) = struct.unpack("<Q", head[:8]), struct.unpack("<I", head[8:])
            if masked_crc32c(head[:8]) != crc:
                self._damaged("a record's length fails its checksum")
                return
            if length > cap:
                self._damaged(f"a record claims {size_text(length)}, over the "
                              f"{EVENT_CAP.limit_text(cap)}")
                return
            if size - self.offset < 16 + length:
                return  # not all written yet, or cut: as tensorboard, wait for the rest
            body = read(self.offset + 12, length + 4)
            if len(body) < length + 4:
                return
            data, (crc,) = body[:length], struct.unpack("<I", body[length:])
            if masked_crc32c(data) != crc:
                self._damaged("a record fails its checksum")
                return
            try:
                event = event_pb2.Event.FromString(data)
            except DecodeError:
                self._damaged("a record is not an event")
                return
            self.offset += 16 + length
            yield _scalars_only(event)

    def _damaged(self, what: str) -> None:
        self.damage = f"{self.path}: damaged at byte {self.offset}: {what}"


def _scalars_only(event):
    """What the accumulator needs to keep scalars: the step and time, the file version and
    session restarts (its purge rules), and the summary's simple values. Graphs, images,
    histograms and tensors are never handed on (nothing here shows them)."""
    from tensorboard.compat.proto import event_pb2

    what = event.WhichOneof("what")
    if what in (None, "file_version", "session_log"):
        return event
    if what == "summary" and all(v.WhichOneof("value") == "simple_value"
                                 for v in event.summary.value):
        return event  # the common case: scalars only
    kept = event_pb2.Event(wall_time=event.wall_time, step=event.step)
    if what == "summary":
        kept.summary.SetInParent()
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                kept.summary.value.add(tag=value.tag, simple_value=value.simple_value)
    return kept


class LogdirReader:
    """Finds the runs of a log directory and reads their new scalar points."""

    def __init__(self, path: Path) -> None:
        check_logdir(path)
        from tensorboard.backend.event_processing import (
            directory_watcher,
            event_accumulator,
            io_wrapper,
        )

        logging.getLogger("tensorboard").setLevel(logging.ERROR)  # no chatter on the terminal
        self._make = event_accumulator.EventAccumulator
        self._watcher = directory_watcher.DirectoryWatcher
        self._is_events = io_wrapper.IsSummaryEventsFile
        self._is_run_file = io_wrapper.IsTensorFlowEventsFile
        self.path = Path(path)
        self._accumulators: dict[str, object] = {}
        self._counts: dict[tuple[str, str], int] = {}  # points handed out per (run, tag)
        self._files: dict[str, EventFile] = {}
        self.damage: str | None = None  # the first damaged event file's message, and a count

    def run_names(self) -> list[str]:
        """Folders holding event files, relative to the log directory, sorted. Symlinked
        folders are followed; a folder reached again (by a link, or a link loop) counts once,
        under its real path when it has one inside the directory."""
        seen: dict[tuple[int, int], str] = {}
        runs: set[str] = set()
        for follow in (False, True):  # the real folders first, then what links add
            for folder, dirs, files in os.walk(self.path, followlinks=follow):
                try:
                    st = os.stat(folder)
                except OSError:
                    dirs[:] = []
                    continue
                if seen.setdefault((st.st_dev, st.st_ino), folder) != folder:
                    dirs[:] = []
                    continue
                dirs.sort()
                if any(self._is_run_file(f) for f in files):
                    runs.add(Path(folder).relative_to(self.path).as_posix())
        return sorted(runs)

    def _accumulator(self, name: str):
        """tensorboard's accumulator for one run, its events read by `EventFile`."""
        folder = str(self.path / name)
        acc = self._make(folder, size_guidance={"scalars": 0})
        if not hasattr(acc, "_generator"):
            raise LogdirError(f"this tensorboard ({_tb_version()}) is not one mlp-tui can read "
                              "safely; install tensorboard 2.21")
        acc._generator = self._watcher(folder, self._event_file, self._is_events)
        return acc

    def _event_file(self, path: str) -> EventFile:
        if path not in self._files:
            self._files[path] = EventFile(path)
        return self._files[path]

    def read_new(self) -> dict[str, dict[str, TagPoints]]:
        """{run: {tag: the points new since the last call}} for every run with news."""
        out: dict[str, dict[str, TagPoints]] = {}
        for name in self.run_names():
            acc = self._accumulators.get(name)
            if acc is None:
                acc = self._accumulators[name] = self._accumulator(name)
            try:
                acc.Reload()
                tags = acc.Tags().get("scalars", [])
            except InputRefused as exc:
                raise LogdirError(str(exc)) from None
            except (OSError, ValueError, RuntimeError) as exc:
                raise LogdirError(f"{self.path / name}: unreadable event file ({exc})") from None
            finally:
                self._note_damage()
            for tag in tags:
                events = acc.Scalars(tag)
                seen = self._counts.get((name, tag), 0)
                if len(events) <= seen:
                    continue
                new = events[seen:]
                self._counts[(name, tag)] = len(events)
                out.setdefault(name, {})[tag] = TagPoints(
                    [int(e.step) for e in new], [float(e.value) for e in new],
                    [float(e.wall_time) for e in new],
                )
        return out

    def _note_damage(self) -> None:
        found = [f.damage for f in self._files.values() if f.damage]
        if len(found) > 1:
            found[0] += f" (and {len(found) - 1} more damaged event files)"
        self.damage = found[0] if found else None


def _tb_version() -> str:
    try:
        from tensorboard import version

        return version.VERSION
    except ImportError:
        return "unknown version"

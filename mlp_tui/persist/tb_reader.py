"""Reading a TensorBoard log directory written by any program, with tensorboard's own reader.

Every folder under the log directory that holds event files is a run; its scalar tags are its
metrics. `EventAccumulator.Reload()` reads only what was appended since the last call, so
following a directory costs what is new. A truncated or damaged event file yields the events
before the damage (the reader stops there and says nothing); a directory without any scalar is
an error the CLI reports in one line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from mlp_tui.persist import tensorboard as tb_out
from mlp_tui.persist.codec import HistoryFormatError


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


class LogdirReader:
    """Finds the runs of a log directory and reads their new scalar points."""

    def __init__(self, path: Path) -> None:
        check_logdir(path)
        from tensorboard.backend.event_processing import event_accumulator

        logging.getLogger("tensorboard").setLevel(logging.ERROR)  # no chatter on the terminal
        self._make = event_accumulator.EventAccumulator
        self.path = Path(path)
        self._accumulators: dict[str, object] = {}
        self._counts: dict[tuple[str, str], int] = {}  # points handed out per (run, tag)

    def run_names(self) -> list[str]:
        """Folders holding event files, relative to the log directory, sorted."""
        from tensorboard.backend.event_processing import io_wrapper

        names = []
        for folder in io_wrapper.GetLogdirSubdirectories(str(self.path)):
            rel = Path(folder).relative_to(self.path).as_posix()
            names.append("." if rel == "." else rel)
        return sorted(names)

    def read_new(self) -> dict[str, dict[str, TagPoints]]:
        """{run: {tag: the points new since the last call}} for every run with news."""
        out: dict[str, dict[str, TagPoints]] = {}
        for name in self.run_names():
            acc = self._accumulators.get(name)
            if acc is None:
                acc = self._make(str(self.path / name), size_guidance={"scalars": 0})
                self._accumulators[name] = acc
            try:
                acc.Reload()
                tags = acc.Tags().get("scalars", [])
            except (OSError, ValueError, RuntimeError) as exc:
                raise LogdirError(f"{self.path / name}: unreadable event file ({exc})") from None
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

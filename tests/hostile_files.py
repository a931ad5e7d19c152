"""Hostile input files (deep TOML, an .npz zip bomb, event files with forged record lengths), the
event-file framing to write them, and `measure`: `main` in a child process, its exit status,
output, CPU time and peak RSS (`os.wait4` of that child alone).

The measured process is forked by a small launcher, not by the test process: a forked child's
peak RSS counts the pages it shared with its parent before exec, and a pytest worker holds
hundreds of MB (torch). It runs under an address-space limit (`AS_LIMIT`), so code that tries
to read a device or inflate a bomb fails there quickly instead of taking this machine's memory.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

AS_LIMIT = 4 << 30  # the child's address space: far above what any case may use (500 MB RSS)
ROOT = Path(__file__).resolve().parents[1]

# --- a child process running `main` ----------------------------------------------------------

_LAUNCHER = """
import json, os, resource, sys
cmd, limit, report = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pid = os.fork()
if pid == 0:
    os.set_inheritable(report, False)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(cmd[0], cmd)
_, status, usage = os.wait4(pid, 0)
os.write(report, json.dumps(usage.ru_maxrss).encode())
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""

_CHILD = """
import json, os, sys, time
argv, preload, fd = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
from mlp_tui.cli.main import main
for name in preload:  # imports are not what is measured
    __import__(name)
t0 = time.process_time()
code = main(argv)
os.write(fd, json.dumps(time.process_time() - t0).encode())
sys.exit(code)
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    cpu_s: float | None  # process time of `main` alone (None when it died before the end)
    rss: int  # the child's peak resident set, bytes

    def one_line_refusal(self) -> str:
        """The single stderr line of an exit-2 refusal (asserts that is what happened)."""
        assert "Traceback" not in self.err, self.err[-2000:]
        assert self.code == 2, (self.code, self.err[-2000:])
        assert self.err.startswith("mlp-tui: error: ") and self.err.count("\n") == 1, self.err
        assert self.out == ""
        return self.err


def measure(argv: list[str], preload: tuple[str, ...] = (), timeout: float = 120,
            cwd: Path | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Run `main(argv)` in a fresh interpreter under `AS_LIMIT` and report what it did."""
    read_fd, write_fd = os.pipe()
    try:
        code, out, err, rss = run_child(
            [sys.executable, "-c", _CHILD, json.dumps(argv), json.dumps(list(preload)),
             str(write_fd)], timeout, cwd, env, pass_fds=(write_fd,))
    finally:
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as timing:
            cpu = timing.read()
    return Outcome(code, out, err, json.loads(cpu) if cpu else None, rss)


def run_child(cmd: list[str], timeout: float = 120, cwd: Path | None = None,
              env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()):
    """(exit status, stdout, stderr, peak RSS in bytes) of `cmd`, run under `AS_LIMIT` with
    one thread per math library, forked by `_LAUNCHER` (which reports its `wait4`)."""
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                 "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})}
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, json.dumps(cmd), str(AS_LIMIT),
                 str(write_fd)], stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd,
                env=child_env, pass_fds=(write_fd, *pass_fds), start_new_session=True)
        finally:
            os.close(write_fd)
        with os.fdopen(read_fd, "rb") as report:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)  # the launcher and what it runs
                proc.wait()
                raise AssertionError(f"{cmd[:4]} ran past {timeout} s") from None
            peak = report.read()
        out.seek(0)
        err.seek(0)
        assert peak, "the launcher reported no peak RSS"
        return (proc.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), json.loads(peak) * 1024)


# --- TOML --------------------------------------------------------------------------------------


def deep_toml(depth: int = 5000, kind: str = "array") -> str:
    """A value nested `depth` deep: arrays (`[[[...]]]`) or inline tables (`{a={a=...}}`)."""
    if kind == "array":
        return "widths = " + "[" * depth + "5" + "]" * depth + "\n"
    return "widths = " + "{a=" * depth + "5" + "}" * depth + "\n"


# --- .npz --------------------------------------------------------------------------------------


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    from numpy.lib import format as npy

    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def zip_bomb(path: Path, rows: int = 1 << 21, cols: int = 1024) -> Path:
    """An .npz whose X.npy inflates to rows x cols float64 zeros (16 GiB by default) from about
    a thousandth of that: one deflated MiB of zeros, repeated (each block starts afresh after a
    full flush, so the copies are one valid stream). Written as zip64, as numpy writes large
    members. Its CRC is left 0: a reader only finds out after inflating all of it."""
    chunk = 1 << 20
    size = rows * cols * 8
    assert size % chunk == 0
    header = npy_header((rows, cols))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "full-flush blocks of equal input must be equal"
    with open(path, "wb") as f:
        members = [_zip64_member(f, "X.npy", first, block, size // chunk - 1,
                                 again + c.flush(), len(header) + size, 0)]
        y = npy_header((rows,), "<i8") + bytes(8 * rows)
        members.append(_zip64_member(f, "y.npy", zlib.compress(y, 9)[2:-4], b"", 0, b"",
                                     len(y), zlib.crc32(y)))
        _zip64_end(f, members)
    return path


def _zip64_member(f, name, head, block, repeat, tail, usize, crc) -> tuple:
    offset = f.tell()
    csize = len(head) + len(block) * repeat + len(tail)
    extra = struct.pack("<HHQQ", 1, 16, usize, csize)
    f.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 8, 0, 0x21, crc,
                        0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)))
    f.write(name.encode() + extra + head)
    for _ in range(repeat):
        f.write(block)
    f.write(tail)
    return name, usize, csize, crc, offset


def _zip64_end(f, members) -> None:
    start = f.tell()
    for name, usize, csize, crc, offset in members:
        extra = struct.pack("<HHQQQ", 1, 24, usize, csize, offset)
        f.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 8, 0, 0x21, crc,
                            0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0,
                            0xFFFFFFFF))
        f.write(name.encode() + extra)
    end = f.tell()
    n = len(members)
    f.write(struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, end - start,
                        start))
    f.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1))
    f.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                        0xFFFFFFFF, 0))


# --- TensorBoard event files ---------------------------------------------------------------------


def masked_crc(data: bytes) -> int:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    return masked_crc32c(data)


def frame(data: bytes, length: int | None = None) -> bytes:
    """One TFRecord: length, its masked CRC, the data, the data's masked CRC. `length` forges
    the length field (its CRC still matches, as a writer that meant it would have made it)."""
    head = struct.pack("<Q", len(data) if length is None else length)
    return head + struct.pack("<I", masked_crc(head)) + data + struct.pack(
        "<I", masked_crc(data))


def scalar_event(tag: str, value: float, step: int, wall: float = 1.0e9) -> bytes:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    return event_pb2.Event(wall_time=wall + step, step=step, summary=summary).SerializeToString()


def version_event() -> bytes:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=1.0e9, file_version="brain.Event:2").SerializeToString()


def event_records(steps: range = range(10), tag: str = "loss") -> list[bytes]:
    """The records of a small valid event file, as torch's SummaryWriter writes them."""
    return [version_event()] + [scalar_event(tag, 1.0 / (s + 1), s) for s in steps]


def write_event_file(folder: Path, records: list[bytes], tail: bytes = b"") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.out.tfevents.1700000000.host.1.0"
    path.write_bytes(b"".join(frame(r) for r in records) + tail)
    return path

"""Fuzz the newer input parsers end to end through `main`, as the history reader is fuzzed
(tests/unit/test_replay_fuzz.py): `--config FILE.toml`, `--dataset FILE.csv`, `--dataset FILE.npz`
and `replay DIR` on a TensorBoard log directory. Arbitrary bytes, mutated valid files and forged
structure (nesting, zip members and .npy headers, record framing). Each call either runs, or
prints exactly one line on stderr and exits 2; never a traceback, never a raw control byte.

Each kind runs in a child process (`fuzz_in_child`), so that its peak RSS is that of the
fuzzing alone, measured with `os.wait4` and bounded by `MAX_RSS`:
`python tests/input_fuzz.py KIND EXAMPLES [--train]` exits 0 when every example held. Without
`--train`, an accepted --config or --dataset stops where training would start; with it, an
accepted --dataset trains 2 epochs headless.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_files import event_records, frame, npy_header, run_child  # noqa: E402

KINDS = ("config", "csv", "npz", "events")
MAX_RSS = 500 * 10**6  # the stated bound for reading any input (README, Reliability)
TRAIN = False  # --train: an accepted --dataset trains (set once, by main)
MAX_CALL_S = 30  # one call on a small file (a hang guard, not a speed claim)
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # what must never reach the terminal raw


class Accepted(Exception):
    """Validation passed: `main` was about to build the session (training not asked for)."""


def _stop_before_training(*_args, **_kwargs):
    raise Accepted


def run_main(argv: list[str], start: bool) -> tuple[int | None, str, str]:
    """`main(argv)`: its status, stdout and stderr, checked. Unless `start`, an accepted
    command line stops where the session would be built (status None)."""
    from unittest import mock

    from mlp_tui.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    patches = [mock.patch("mlp_tui.tui.app.run_app", side_effect=AssertionError("no TUI here"))]
    if not start:
        patches.append(mock.patch("mlp_tui.cli.start.start_runner", _stop_before_training))
    t0 = time.monotonic()
    code: int | None
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = main(argv)
        except Accepted:
            code = None
    assert time.monotonic() - t0 < MAX_CALL_S, f"main({argv}) took too long"
    out_text, err_text = out.getvalue(), err.getvalue()
    assert "Traceback" not in err_text, err_text
    assert not CONTROL.search(out_text + err_text), repr(out_text + err_text)[:500]
    if code == 2:
        assert err_text.startswith("mlp-tui: error: ") and err_text.count("\n") == 1, err_text
        assert out_text == "", out_text
    elif code is None:
        assert out_text == "" and err_text == "", (out_text, err_text)
    else:
        assert code == 0, (code, err_text[-2000:])
        lines = err_text.splitlines()
        summary = re.compile(
            r"mlp-tui: (wrote |\d+ runs?\b.*(, health ok|; \d+ of \d+ runs not ok: ))")
        assert all(ln.startswith("mlp-tui: warning: ") or summary.match(ln) for ln in lines), \
            err_text  # warnings, then the closing summary (#23)
    return code, out_text, err_text


def _scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="fuzz-"))


def _cleanup(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


# --- mutations shared by every kind -------------------------------------------------------------

EDITS = st.lists(
    st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.floats(0, 1),
              st.binary(min_size=1, max_size=8)),
    max_size=6,
)


def mutate(data: bytes, edits) -> bytes:
    for kind, where, bad in edits:
        i = int(where * len(data))
        if kind == "replace":
            data = data[:i] + bad + data[i + len(bad):]
        elif kind == "insert":
            data = data[:i] + bad + data[i:]
        else:
            data = data[:i] + data[i + len(bad):]
    return data


SPECIALS = ["dev-zero link", "fifo", "directory", "missing", "dangling link"]
SPECIAL = st.sampled_from([None] * 3 * len(SPECIALS) + SPECIALS)  # a file most of the time


def special_file(folder: Path, name: str, kind: str) -> Path:
    path = folder / name
    if kind == "dev-zero link" and os.path.exists("/dev/zero"):
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to(folder / "nowhere")
    return path


# --- --config ------------------------------------------------------------------------------------

VALID_TOML = [
    b'widths = [5, 100]\nepochs = 3\nlr = 0.05\noptimizer = "adam"\n',
    b'widths = "5,9"\nval-split = 0.2\nstandardize = true\nbatch_size = 16\nseed = 7\n',
    b'# a comment [[[\ndepth = [1, 2]\nlr = [0.1, 0.01]\nrepeats = 2\nspeed = 0\n',
    b"dataset = 'wine'\nthreads = 1\nstack = false\ndevice = \"cpu\"\n",
]
TOKENS = [*"[]{}\"'=#,.\n 05ae-_+:\\", '"""', "'''", "widths", "lr", "true", "\x00", "\x1b", "é"]
TOML_TEXT = st.lists(st.sampled_from(TOKENS), max_size=120).map("".join)


def nest(value: bytes, depth: int, table: bool) -> bytes:
    return (b"{a=" * depth if table else b"[" * depth) + value + (b"}" if table else b"]") * depth


CONFIG = st.one_of(
    st.binary(max_size=2000),
    TOML_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(st.sampled_from(VALID_TOML), EDITS).map(lambda a: mutate(*a)),
    st.tuples(st.sampled_from(["widths", "lr", "depth", "seed", "epoch"]),
              st.integers(0, 40) | st.sampled_from([300, 3000]), st.booleans(),
              st.sampled_from([b"5", b"0x" + b"f" * 4000, b"1" * 5000, b'"x"', b"1e400"])).map(
        lambda a: a[0].encode() + b" = " + nest(a[3], a[1], a[2]) + b"\n"),
)


@given(data=CONFIG, special=SPECIAL, big=st.booleans())
def fuzz_config(data, special, big):
    folder = _scratch()
    try:
        if special is not None:
            path = special_file(folder, "fuzz.toml", special)
        else:
            path = folder / "fuzz.toml"
            path.write_bytes(data * ((1 << 20) // max(1, len(data)) + 1) if big and data else data)
        run_main(["--config", str(path), "--headless"], start=False)  # configs: checks only
    finally:
        _cleanup(folder)


# --- --dataset FILE.csv ----------------------------------------------------------------------

CSV_ROWS = st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-5, 5),
                              st.sampled_from(["a", "b", "c", "1", "2.5", "x y"])),
                    min_size=0, max_size=40)


def csv_bytes(rows) -> bytes:
    return ("f1,f2,label\n" + "".join(f"{a!r},{b},{c}\n" for a, b, c in rows)).encode()


CSV = st.one_of(
    st.binary(max_size=3000),
    st.tuples(CSV_ROWS.map(csv_bytes), EDITS).map(lambda a: mutate(*a)),
    st.tuples(CSV_ROWS.map(csv_bytes), st.sampled_from(
        [b'"' * 3, b"\xef\xbb\xbf", b"\r\n", b"\x00", b"x" * 140_000, b",,,,", b"nan", b"1e999",
         b'"a\nb"', b"\x1b[2J"]), st.floats(0, 1)).map(
        lambda a: mutate(a[0], [("insert", a[2], a[1])])),
)


@given(data=CSV, special=SPECIAL, val=st.booleans())
def fuzz_csv(data, special, val):
    folder = _scratch()
    try:
        path = special_file(folder, "fuzz.csv", special) if special else folder / "fuzz.csv"
        if special is None:
            path.write_bytes(data)
        _dataset(path, val)
    finally:
        _cleanup(folder)


def _dataset(path: Path, val: bool) -> None:
    argv = ["--dataset", str(path), "--headless", "--epochs", "2", "--widths", "3", "--speed",
            "0", "--threads", "1", *(["--val-split", "0.25"] if val else [])]
    code, out, _ = run_main(argv, TRAIN)
    if code == 0:
        assert out.lstrip().startswith("width"), out[:300]


# --- --dataset FILE.npz ----------------------------------------------------------------------

DTYPES = st.sampled_from(["<f8", "<f4", "<i8", "|u1", "|b1", "<c16", "<U3", "|S2", "|O", "|V8",
                          "<f2", ">f8", "[('a', '<f8')]"])
SHAPES = st.lists(st.integers(0, 6) | st.sampled_from([2**31, 2**62, -1]), min_size=0, max_size=3)


def forged_member(descr: str, shape: list[int], body: bytes) -> bytes:
    """An .npy of any header: a dtype and shape that need not match the data after it."""
    try:
        head = npy_header(tuple(shape), descr)
    except Exception:  # numpy will not write that header: write it by hand
        text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {tuple(shape)}, }}"
        text += " " * (63 - (10 + len(text)) % 64) + "\n"
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")
    return head + body


def valid_npz(n: int, k: int, classes: int, compressed: bool, x_dtype: str) -> bytes:
    import numpy as np

    rng = np.random.default_rng(n * 31 + k)
    buf = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(buf, X=(rng.normal(size=(n, k)) * 10).astype(x_dtype), y=np.arange(n) % classes)
    return buf.getvalue()


def zip_of(members: list[tuple[str, bytes]], compressed: bool) -> bytes:
    import warnings

    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # a name twice: on purpose
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


VALID_NPZ = st.builds(valid_npz, st.integers(4, 30), st.integers(1, 4), st.integers(2, 3),
                      st.booleans(), st.sampled_from(["<f8", "<f4", "<i4", "|u1"]))
MEMBER_NAMES = st.sampled_from(["X.npy", "y.npy", "X", "y", "Z.npy", "X.npy"])
NPZ = st.one_of(
    st.binary(max_size=3000),
    st.tuples(VALID_NPZ, EDITS).map(lambda a: mutate(*a)),
    VALID_NPZ,
    st.builds(zip_of, st.lists(st.tuples(MEMBER_NAMES, st.builds(
        forged_member, DTYPES, SHAPES, st.binary(max_size=200))), max_size=3), st.booleans()),
    st.builds(lambda head: head, st.builds(forged_member, DTYPES, SHAPES, st.binary(max_size=99))),
)


@given(data=NPZ, special=SPECIAL, val=st.booleans())
def fuzz_npz(data, special, val):
    folder = _scratch()
    try:
        path = special_file(folder, "fuzz.npz", special) if special else folder / "fuzz.npz"
        if special is None:
            path.write_bytes(data)
        _dataset(path, val)
    finally:
        _cleanup(folder)


# --- replay DIR (TensorBoard event files) ----------------------------------------------------


def _payload():
    from tensorboard.compat.proto import event_pb2, summary_pb2

    text = st.text(max_size=12)
    scalar = st.builds(
        lambda tag, v, step, wall: event_pb2.Event(
            wall_time=wall, step=step, summary=summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag=tag, simple_value=v)])).SerializeToString(),
        text | st.sampled_from(["loss", "acc", "\x1b[31m", "[bold]x"]), st.floats(width=32),
        st.integers(-(2**63), 2**63 - 1) | st.integers(0, 50), st.floats())
    other = st.builds(
        lambda what, raw: event_pb2.Event(step=1, **{what: raw}).SerializeToString(),
        st.sampled_from(["graph_def", "meta_graph_def"]), st.binary(max_size=40))
    version = st.builds(lambda v: event_pb2.Event(file_version=v).SerializeToString(), text)
    restart = st.just(event_pb2.Event(step=3, session_log=event_pb2.SessionLog(
        status=event_pb2.SessionLog.START)).SerializeToString())
    return st.one_of(scalar, scalar, other, version, restart, st.binary(max_size=40))


def _record(payload: bytes, damage: str) -> bytes:
    record = frame(payload)
    if damage == "huge length":
        return frame(payload, length=1 << 40)
    if damage == "mid length":
        return frame(payload, length=len(payload) + 1000)
    if damage == "bad crc":
        return record[:-1] + bytes([record[-1] ^ 1])
    if damage == "cut":
        return record[: len(record) // 2]
    return record


DAMAGE = st.sampled_from(["none"] * 6 + ["huge length", "mid length", "bad crc", "cut"])


@st.composite
def logdir(draw):
    """{relative file path: bytes}: run folders of framed records, mutated or forged."""
    files = {}
    for run in range(draw(st.integers(1, 3))):
        for i in range(draw(st.integers(1, 2))):
            kind = draw(st.sampled_from(["records", "records", "mutated", "bytes"]))
            if kind == "bytes":
                data = draw(st.binary(max_size=500))
            else:
                records = event_records(range(draw(st.integers(0, 8))))
                records += draw(st.lists(_payload(), max_size=6))
                data = b"".join(_record(r, draw(DAMAGE)) for r in records)
                if kind == "mutated":
                    data = mutate(data, draw(EDITS))
            files[f"run{run}/events.out.tfevents.{1700000000 + i}.host"] = data
    return files


@given(files=st.deferred(logdir), special=SPECIAL)
def fuzz_events(files, special):
    folder = _scratch()
    try:
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        if special is not None:
            special_file(folder / "run0", "events.out.tfevents.1.special", special)
        code, out, _ = run_main(["replay", str(folder), "--headless"], start=True)
        if code == 0:
            assert out.startswith("run  ") or out.lstrip().startswith("run"), out[:300]
    finally:
        _cleanup(folder)


def fuzz_in_child(kind: str, examples: int, *flags: str, timeout: float = 300) -> None:
    """Fuzz one kind in a child process; assert every example held within MAX_RSS."""
    code, out, err, rss = run_child([sys.executable, __file__, kind, str(examples), *flags],
                                    timeout)
    assert code == 0, (out + err)[-6000:]
    assert out.strip() == f"{kind}: {examples} examples held", out
    assert rss < MAX_RSS, f"peak RSS {rss / 1e6:.0f} MB"


FUZZ = {"config": fuzz_config, "csv": fuzz_csv, "npz": fuzz_npz, "events": fuzz_events}


def main(argv: list[str]) -> int:
    global TRAIN
    kind, examples, TRAIN = argv[0], int(argv[1]), "--train" in argv
    test = FUZZ[kind]
    settings(max_examples=examples, deadline=None, database=None, print_blob=True,
             suppress_health_check=list(HealthCheck))(test)()
    print(f"{kind}: {examples} examples held")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

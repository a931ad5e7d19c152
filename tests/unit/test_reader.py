"""The streaming history reader: bounded memory, no blocking, follow through truncation and
rotation, and nothing but rows or a HistoryFormatError whatever bytes the file holds."""

from __future__ import annotations

import math
import os
import socket
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from helpers import WAIT_S
from hypothesis import given, settings
from hypothesis import strategies as st

from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import CLASSIFICATION, FIELD_KIND
from mlp_tui.persist.codec import MAX_LINE, HistoryFormatError, csv_header, encode_rows
from mlp_tui.persist.reader import HistoryReader

HISTORY_COLUMNS = CLASSIFICATION.history_columns

DATA = Path(__file__).parent.parent / "data"


def row(epoch: int, run: int = 0, **changes: object) -> dict[str, object]:
    base = {c: None for c in HISTORY_COLUMNS}
    base.update(run=run, width=5, seed=0, dataset="iris", lr=0.1, epoch=epoch)
    base.update(train_loss=1.0 / epoch, status="running", health="ok")
    base.update(changes)
    return base


def history(path: Path, rows: list[dict[str, object]], header: bool = True) -> Path:
    fmt = "csv" if path.suffix == ".csv" else "jsonl"
    head = csv_header() if fmt == "csv" and header else ""
    path.write_text(head + encode_rows(rows, fmt), encoding="utf-8")
    return path


def append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


def epochs(rows: list[dict[str, object]]) -> list[object]:
    return [r["epoch"] for r in rows]


def assert_typed(rows: list[dict[str, object]]) -> None:
    for r in rows:
        assert tuple(r) == HISTORY_COLUMNS
        for c, v in r.items():
            assert v is None or type(v) is FIELD_KIND[c], (c, v)
        assert Status(r["status"]) and Health(r["health"])


@pytest.fixture(params=["csv", "jsonl"])
def path(request, tmp_path) -> Path:
    return tmp_path / f"h.{request.param}"


def test_reads_a_recorded_file():
    with HistoryReader(DATA / "iris_val.jsonl") as reader:
        rows = reader.read_new()
        assert len(rows) == 450 and not reader.more and reader.restarted is None
        assert_typed(rows)
        assert reader.read_new() == []


def test_round_trips_through_a_file(path):
    written = [
        row(1, dataset='odd, "quoted"\nname', train_acc=math.nan),
        row(2, seed=2**63 - 1, val_loss=math.inf, standardize=False, status="finished"),
    ]
    with HistoryReader(history(path, written)) as reader:
        rows = reader.read_new()
    assert rows[0]["dataset"] == 'odd, "quoted"\nname' and rows[1]["seed"] == 2**63 - 1
    assert rows[1]["standardize"] is False and rows[1]["status"] == "finished"
    nan_back = rows[0]["train_acc"]
    assert nan_back is None if path.suffix == ".jsonl" else math.isnan(nan_back)


def test_rows_arrive_as_lines_complete(path):
    history(path, [row(1)])
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1]
        line = encode_rows([row(2)], reader.fmt)
        append(path, line[:10])
        assert reader.read_new() == []
        append(path, line[10:] + encode_rows([row(3)], reader.fmt))
        assert epochs(reader.read_new()) == [2, 3]


def test_the_csv_header_and_a_quoted_newline_span_calls(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(csv_header())
    with HistoryReader(path) as reader:
        assert reader.read_new() == []
        line = encode_rows([row(1, dataset="a\nb"), row(2)], "csv")
        cut = line.index("\n") + 1  # inside the quoted field
        append(path, line[:cut])
        assert reader.read_new() == []
        append(path, line[cut:] + "not,a,row\n")
        assert [r["dataset"] for r in reader.read_new()] == ["a\nb", "iris"]
        with pytest.raises(HistoryFormatError, match=r"h\.csv: line 5: "):
            reader.read_new()


def test_a_csv_without_its_header_is_refused(tmp_path):
    path = history(tmp_path / "h.csv", [row(1)], header=False)
    with HistoryReader(path) as reader, pytest.raises(HistoryFormatError, match="line 1: not a"):
        reader.read_new()


def test_good_rows_come_before_the_error_and_it_stays(path):
    history(path, [row(1), row(2)])
    append(path, "garbage\n")
    append(path, encode_rows([row(3)], "csv" if path.suffix == ".csv" else "jsonl"))
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1, 2] and reader.more
        line = 4 if path.suffix == ".csv" else 3
        for _ in range(2):
            with pytest.raises(HistoryFormatError, match=f"line {line}: "):
                reader.read_new()


def test_non_utf8_bytes_name_the_line(path):
    history(path, [row(1)])
    append(path, b"\xff\xfe\x00oops\n")
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1]
        with pytest.raises(HistoryFormatError, match="line [23]: not UTF-8"):
            reader.read_new()


def test_blank_lines_crlf_and_a_bom_are_tolerated(tmp_path):
    path = tmp_path / "h.csv"
    text = csv_header() + encode_rows([row(1)], "csv") + "\n" + encode_rows([row(2)], "csv")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1, 2]


def test_many_lines_are_read_in_bounded_chunks(path):
    history(path, [row(e + 1) for e in range(5000)])
    chunk = 16 << 10
    with HistoryReader(path) as reader:
        last, calls = 0, 0
        tracemalloc.start()
        try:
            for _ in range(path.stat().st_size // chunk + 2):  # a chunk a call, and the tail
                got = epochs(reader.read_new(max_bytes=chunk))
                assert got == list(range(last + 1, last + 1 + len(got)))
                last, calls = last + len(got), calls + 1
                if not reader.more:
                    break
            else:
                pytest.fail(f"still more to read after {calls} calls of {chunk} bytes")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert last == 5000 and calls >= path.stat().st_size // chunk
    assert peak < 1 << 20  # a chunk, its rows and one unfinished line: not the file


def test_a_gigabyte_without_a_newline_fails_fast(path):
    with open(path, "wb") as f:
        f.truncate(1 << 30)  # sparse: a gigabyte of NULs on no disk
    with HistoryReader(path) as reader:
        tracemalloc.start()
        began = time.monotonic()
        try:
            with pytest.raises(HistoryFormatError, match=f"line 1: line longer than {MAX_LINE}"):
                reader.read_new()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert time.monotonic() - began < 5 and peak < 16 << 20


def test_an_unfinished_line_beyond_the_limit_is_an_error(path):
    history(path, [row(1)])
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1]
        append(path, "x" * 1000)
        assert reader.read_new(max_bytes=100) == []
        append(path, "x" * MAX_LINE)
        with pytest.raises(HistoryFormatError, match="longer than"):
            for _ in range(MAX_LINE // 4096 + 2):  # the line's length in calls, and one
                reader.read_new(max_bytes=4096)


def test_truncation_while_following_starts_again(path):
    fmt = "csv" if path.suffix == ".csv" else "jsonl"
    history(path, [row(1), row(2), row(3)])
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1, 2, 3]
        history(path, [row(7)])  # truncated and rewritten shorter
        assert epochs(reader.read_new()) == [7]
        assert reader.restarted == "file was truncated"
        reader.restarted = None
        append(path, encode_rows([row(8)], fmt))
        assert epochs(reader.read_new()) == [8] and reader.restarted is None


def test_a_rewrite_in_place_longer_than_before_is_noticed(path):
    history(path, [row(1)])
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1]
        history(path, [row(e, run=1) for e in range(5, 15)])  # same inode, now larger
        assert epochs(reader.read_new()) == list(range(5, 15))
        assert reader.restarted == "file was truncated"


def test_rotation_switches_to_the_new_file(path):
    history(path, [row(1), row(2)])
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1, 2]
        path.rename(path.with_name(path.name + ".1"))
        assert reader.read_new() == [] and reader.restarted is None  # vanished: wait
        history(path, [row(1, run=4)])
        rows = reader.read_new()
        assert [r["run"] for r in rows] == [4] and reader.restarted == "file was replaced"


def test_the_old_file_is_read_on_while_the_path_is_gone(path):
    fmt = "csv" if path.suffix == ".csv" else "jsonl"
    history(path, [row(1)])
    with HistoryReader(path) as reader, open(path, "a") as still_open:
        assert epochs(reader.read_new()) == [1]
        path.unlink()
        still_open.write(encode_rows([row(2)], fmt))
        still_open.flush()
        assert epochs(reader.read_new()) == [2] and reader.restarted is None


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "h.jsonl"
    os.mkfifo(path)
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            HistoryReader(path).read_new()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(WAIT_S)
    if worker.is_alive():  # unblock it so the test process can exit, then fail
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("opening a FIFO blocked")
    assert isinstance(outcome[0], HistoryFormatError) and "not a regular file" in str(outcome[0])


def test_a_file_swapped_for_a_fifo_while_following_is_refused(path):
    history(path, [row(1)])
    with HistoryReader(path) as reader:
        assert epochs(reader.read_new()) == [1]
        path.unlink()
        os.mkfifo(path)
        with pytest.raises(HistoryFormatError, match="not a regular file"):
            reader.read_new()


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_symlink_to_dev_zero_is_refused(path):
    path.symlink_to("/dev/zero")
    with pytest.raises(HistoryFormatError, match="not a regular file"):
        HistoryReader(path)


def test_a_symlink_to_a_regular_file_is_read(tmp_path):
    target = history(tmp_path / "real.jsonl", [row(1)])
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with HistoryReader(link) as reader:
        assert epochs(reader.read_new()) == [1]


def test_a_directory_and_a_socket_are_refused(tmp_path):
    folder = tmp_path / "d.jsonl"
    folder.mkdir()
    with pytest.raises(HistoryFormatError, match="not a regular file"):
        HistoryReader(folder)
    sock_path = tmp_path / "s.jsonl"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(HistoryFormatError, match="not a regular file"):
            HistoryReader(sock_path)


# --- fuzzing ----------------------------------------------------------------------------------

VALID = {
    fmt: (csv_header() if fmt == "csv" else "")
    + encode_rows(
        [row(1, dataset='a,"b"\nc', val_loss=math.nan), row(2, seed=-(2**63), standardize=True)],
        fmt,
    )
    for fmt in ("csv", "jsonl")
}
mutation = st.tuples(st.integers(0, 10_000), st.integers(0, 4), st.binary(max_size=8))


@st.composite
def file_bytes(draw) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(["csv", "jsonl"]))
    if draw(st.booleans()):
        return fmt, draw(st.binary(max_size=2000))
    data = bytearray(VALID[fmt].encode())
    for at, cut, new in draw(st.lists(mutation, max_size=4)):
        at %= len(data) + 1
        data[at : at + cut] = new
    return fmt, bytes(data)


@settings(max_examples=100, deadline=None)
@given(file_bytes(), st.sampled_from([7, 64, 8 << 20]))
def test_any_bytes_give_typed_rows_or_a_history_format_error(case, chunk):
    fmt, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"h.{fmt}"
        path.write_bytes(data)
        with HistoryReader(path) as reader:
            for _ in range(len(data) + 2):
                try:
                    rows = reader.read_new(max_bytes=chunk)
                except HistoryFormatError:
                    break
                assert_typed(rows)
                if not reader.more:
                    break
            else:
                pytest.fail("the reader never finished")

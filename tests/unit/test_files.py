"""The persist.files guarantees, on real file systems: a full disk (a file-size limit giving
EFBIG, anywhere; a tiny tmpfs giving ENOSPC, where root may mount one) keeps every whole line
that fits; named pipes never hang; symlinks, busy files and non-empty files are refused; exports
keep their mode; default names never collide."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from disks import KINDS, PAGE, FsizeDisk, TmpfsDisk, make_disk
from helpers import WAIT_S

from mlp_tui.persist import files
from mlp_tui.persist.files import (
    AppendFile,
    FileRefused,
    check_regular_target,
    unique_path,
    write_atomic,
)

REPO = Path(__file__).resolve().parents[2]
HEADER = "epoch,loss\n"


def rows(start: int, stop: int) -> list[str]:
    """JSON lines of ~100 bytes, each naming its epoch, so gaps and repeats show."""
    return [
        json.dumps({"epoch": i, "loss": 1.0 / (i + 1), "pad": "x" * 60}) + "\n"
        for i in range(start, stop)
    ]


def in_thread(fn, timeout: float = WAIT_S):
    """Run fn in a thread; fail (instead of hanging the suite) when it blocks."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"blocked for more than {timeout}s"
    return box


# --- a full disk --------------------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def full_disk(request, tmp_path):
    """A folder with room for two pages of history; `free()` makes room for everything."""
    disk = make_disk(request.param, tmp_path, room_pages=2)
    try:
        yield disk
    finally:
        disk.close()


def test_full_disk_keeps_every_whole_line_that_fits_then_the_rest(full_disk):
    path = full_disk.dir / "history.jsonl"
    lines = rows(0, 200)  # ~20 KB, room for ~8 KB
    room = full_disk.room()
    with AppendFile(path, header=HEADER) as f:
        n = f.write_lines(lines)
        assert 0 < n < len(lines)
        text = path.read_text()
        assert text == HEADER + "".join(lines[:n])  # whole lines, in order, nothing torn
        assert len(text.encode()) <= room < len(text.encode()) + len(lines[n])  # all that fit
        assert f.error is not None and str(path) in f.error
        assert os.strerror(errno.ENOSPC) in f.error or os.strerror(errno.EFBIG) in f.error

        assert f.write_lines(lines[n:]) == 0  # still full: nothing lands, nothing torn
        assert path.read_text() == text

        full_disk.free()
        assert f.write_lines(lines[n:]) == len(lines) - n
        assert f.error is None
    body = path.read_text().splitlines()
    assert body[0] + "\n" == HEADER
    assert [json.loads(ln)["epoch"] for ln in body[1:]] == list(range(200))


def test_full_disk_header_waits_for_room(full_disk):
    """A header that does not fit is written before the first line that does."""
    path = full_disk.dir / "history.csv"
    if isinstance(full_disk, TmpfsDisk):
        full_disk.filler.write_bytes(b"f" * 8 * PAGE)  # not one page left
        assert full_disk.room() == 0
    else:
        full_disk.set_room(0)
    f = AppendFile(path, header=HEADER)
    try:
        assert f.error is not None
        assert f.write_lines(["1,0.5\n"]) == 0
        assert path.read_text() == ""
        full_disk.free()
        assert f.write_lines(["1,0.5\n"]) == 1
        assert f.error is None
    finally:
        f.close()
    assert path.read_text() == HEADER + "1,0.5\n"


def test_chunks_not_lines_when_the_disk_has_room(tmp_path, monkeypatch):
    """10^5 lines go out in a handful of writes, not one each."""
    calls = []
    real_write = os.write

    def counting(fd, data):
        calls.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(files.os, "write", counting)
    lines = [f"{i},{i / 7}\n" for i in range(100_000)]
    with AppendFile(tmp_path / "h.csv", header=HEADER) as f:
        assert f.write_lines(lines) == len(lines)
    assert len(calls) <= 1 + -(-len(lines) // AppendFile.chunk_lines)
    assert (tmp_path / "h.csv").read_text() == HEADER + "".join(lines)


def test_a_failing_big_chunk_falls_back_to_smaller_pieces(tmp_path, monkeypatch):
    """Simulated: any write over 1000 bytes fails, so only bisected pieces land."""
    real_write = os.write

    def small_only(fd, data):
        if len(data) > 1000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    lines = rows(0, 50)
    path = tmp_path / "h.jsonl"
    with AppendFile(path) as f:
        monkeypatch.setattr(files.os, "write", small_only)
        assert f.write_lines(lines) == len(lines)
        assert f.error is None
    assert path.read_text() == "".join(lines)


def test_a_short_write_is_cut_back_to_the_last_whole_line(tmp_path, monkeypatch):
    real_write = os.write
    state = {"short": True}

    def short_then_full(fd, data):
        if state["short"] and len(data) > 10:
            state["short"] = False
            return real_write(fd, bytes(data[: len(data) // 2 + 3]))  # mid-line
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    path = tmp_path / "h.jsonl"
    with AppendFile(path) as f:
        assert f.write_lines(rows(0, 3)) == 3
        monkeypatch.setattr(files.os, "write", short_then_full)
        assert f.write_lines(rows(3, 9)) == 0
        monkeypatch.setattr(files.os, "write", real_write)
    assert path.read_text() == "".join(rows(0, 3))


def test_other_errors_are_recorded_not_raised(tmp_path, monkeypatch):
    def broken(fd, data):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    path = tmp_path / "h.csv"
    with AppendFile(path) as f:
        monkeypatch.setattr(files.os, "write", broken)
        assert f.write_lines(["a\n", "b\n"]) == 0
        assert f.error == f"cannot write {path}: {os.strerror(errno.EIO)}"


# --- refusals -----------------------------------------------------------------------------------


def test_symlink_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with pytest.raises(FileRefused, match="symbolic link"):
        AppendFile(link, header=HEADER)
    assert target.read_text() == ""
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(FileRefused, match="symbolic link"):
        AppendFile(dangling)
    assert not (tmp_path / "nowhere.csv").exists()
    with pytest.raises(FileRefused, match="symbolic link"):
        check_regular_target(link)
    check_regular_target(link, follow_symlinks=True)  # exports follow it


def test_fifo_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    box = in_thread(lambda: AppendFile(fifo))
    assert isinstance(box.get("error"), FileRefused), box
    assert "not a regular file" in str(box["error"])
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # with a reader, open would succeed
    try:
        box = in_thread(lambda: AppendFile(fifo))
        assert isinstance(box.get("error"), FileRefused), box
    finally:
        os.close(reader)


def test_fifo_refused_even_if_it_appears_after_the_check(tmp_path, monkeypatch):
    """fstat after open is what counts: a pipe swapped in after the name check."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "check_regular_target", lambda p, **kw: None)
    box = in_thread(lambda: AppendFile(fifo))
    assert isinstance(box.get("error"), FileRefused), box
    assert "not a regular file" in str(box["error"])
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # now open() itself succeeds
    try:
        box = in_thread(lambda: AppendFile(fifo, header=HEADER))
        assert isinstance(box.get("error"), FileRefused), box
        assert "named pipe" in str(box["error"])
    finally:
        os.close(reader)
    with pytest.raises(FileRefused, match="device"):
        AppendFile(Path("/dev/null"), header=HEADER)


def test_devices_sockets_and_folders_refused(tmp_path):
    with pytest.raises(FileRefused, match="device"):
        check_regular_target(Path("/dev/null"))
    with pytest.raises(FileRefused, match="device"):
        AppendFile(Path("/dev/null"))
    with pytest.raises(FileRefused, match="directory"):
        AppendFile(tmp_path)
    import socket

    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        with pytest.raises(FileRefused, match="socket"):
            check_regular_target(sock_path)
    check_regular_target(tmp_path / "new.csv")  # not there yet: fine
    (tmp_path / "plain.csv").write_text("x")
    check_regular_target(tmp_path / "plain.csv")


def test_existing_file_refused_unless_forced(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("old,data\n")
    with pytest.raises(FileRefused, match="--force"):
        AppendFile(path, header=HEADER)
    assert path.read_text() == "old,data\n"
    with AppendFile(path, header=HEADER, force=True) as f:
        assert f.write_lines(["1,2\n"]) == 1
    assert path.read_text() == HEADER + "1,2\n"
    empty = tmp_path / "empty.csv"
    empty.touch()
    with AppendFile(empty, header=HEADER):
        pass
    assert empty.read_text() == HEADER


def test_new_file_mode_follows_umask(tmp_path):
    with AppendFile(tmp_path / "h.csv"):
        pass
    assert stat.S_IMODE((tmp_path / "h.csv").stat().st_mode) == 0o644 & ~files._UMASK


def test_second_writer_refused_until_the_first_closes(tmp_path):
    path = tmp_path / "h.csv"
    first = AppendFile(path, header=HEADER)
    try:
        with pytest.raises(FileRefused, match="in use by another mlp-tui"):
            AppendFile(path, header=HEADER)
        with pytest.raises(FileRefused, match="in use"):
            AppendFile(path, header=HEADER, force=True)  # force never takes a busy file
        script = (
            "import sys; from pathlib import Path\n"
            "from mlp_tui.persist.files import AppendFile, FileRefused\n"
            "try:\n    AppendFile(Path(sys.argv[1]), force=True)\n"
            "except FileRefused as e:\n    print(e); sys.exit(3)\n"
        )
        r = subprocess.run(
            [sys.executable, "-c", script, str(path)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert r.returncode == 3, r.stderr
        assert "in use by another mlp-tui" in r.stdout
        assert first.write_lines(["1,2\n"]) == 1
    finally:
        first.close()
    assert path.read_text() == HEADER + "1,2\n"
    with AppendFile(path, force=True) as again:
        assert again.write_lines(["3,4\n"]) == 1


def test_writing_after_close_is_an_error(tmp_path):
    f = AppendFile(tmp_path / "h.csv")
    f.close()
    f.close()
    with pytest.raises(ValueError, match="closed"):
        f.write_lines(["x\n"])
    with AppendFile(tmp_path / "g.csv") as g, pytest.raises(ValueError, match="newline"):
        g.write_lines(["no newline"])


# --- exports ------------------------------------------------------------------------------------


def test_write_atomic_keeps_the_mode_of_an_existing_file(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    assert write_atomic(path, "new\n") == path
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.csv"
    write_atomic(fresh, "x\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~files._UMASK
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_atomic_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    os.chmod(real, 0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert write_atomic(link, "new\n") == real
    assert link.is_symlink()
    assert real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_write_atomic_on_a_fifo_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    box = in_thread(lambda: write_atomic(fifo, "x\n"))
    assert isinstance(box.get("error"), FileRefused), box
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the pipe, not replaced
    link = tmp_path / "to-pipe.csv"
    link.symlink_to(fifo)
    box = in_thread(lambda: write_atomic(link, "x\n"))
    assert isinstance(box.get("error"), FileRefused), box


def test_write_atomic_full_disk_leaves_the_old_file(tmp_path):
    """EFBIG mid-write: the old text stays and no temp file is left."""
    path = tmp_path / "results.csv"
    path.write_text("old\n")
    disk = FsizeDisk(tmp_path, room_pages=1)
    try:
        with pytest.raises(OSError) as info:
            write_atomic(path, "y" * 3 * PAGE)
        assert info.value.errno == errno.EFBIG
    finally:
        disk.close()
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


# --- default names ------------------------------------------------------------------------------


def test_unique_path_never_collides_within_one_second(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_clock", lambda: 1_795_000_000.0)  # a frozen second
    a = unique_path(tmp_path, "mlp-tui-results", ".csv")
    b = unique_path(tmp_path, "mlp-tui-results", ".csv")
    c = unique_path(tmp_path, "mlp-tui-results", ".csv")
    assert a.name.startswith("mlp-tui-results-") and a.suffix == ".csv"
    assert b.name == a.name.replace(".csv", "-2.csv")
    assert c.name == a.name.replace(".csv", "-3.csv")
    assert a.exists() and a.read_text() == ""  # reserved
    write_atomic(a, "x\n")
    assert a.read_text() == "x\n"
    assert stat.S_IMODE(a.stat().st_mode) == 0o666 & ~files._UMASK


def test_unique_path_never_collides_across_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_clock", lambda: 1_795_000_000.0)
    got: list[Path] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(10):
            p = unique_path(tmp_path, "mlp-tui-history", ".csv")
            with lock:
                got.append(p)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 80
    assert len(set(got)) == 80
    assert len(list(tmp_path.iterdir())) == 80


def test_unique_path_skips_a_symlink_squatting_on_the_name(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_clock", lambda: 1_795_000_000.0)
    first = unique_path(tmp_path, "r", ".csv")
    first.unlink()
    first.symlink_to(tmp_path / "elsewhere")
    assert unique_path(tmp_path, "r", ".csv").name.endswith("-2.csv")
    assert not (tmp_path / "elsewhere").exists()


def test_no_textual_or_torch_imported():
    code = (
        "import sys, mlp_tui.persist.files\n"
        "bad = [m for m in ('textual', 'torch') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr

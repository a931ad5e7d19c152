"""The observed hostile files of issue #24, each run through `main` in a child process whose time
and peak memory are measured: a deeply nested TOML value, a --config symlink to /dev/zero, an
.npz zip bomb, and an event file whose record length claims gigabytes. Each takes under 2 s of
CPU and 500 MB of RSS, and ends in one line (exit 2), or, for the event file, in the events before
the damage and a warning that says where it is."""

from __future__ import annotations

import os
import pickle
import threading
import zipfile
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from helpers import wait_until
from hostile_files import (
    _zip64_end,
    _zip64_member,
    deep_toml,
    event_records,
    frame,
    measure,
    npy_header,
    scalar_event,
    write_event_file,
    zip_bomb,
)

from mlp_tui.cli.args import parse_args
from mlp_tui.cli.main import main
from mlp_tui.core.config import ConfigError, ExperimentConfig, validate
from mlp_tui.core.inputs import CONFIG_CAP, DATA_CAP, EVENT_CAP, InputRefused, size_text
from mlp_tui.persist.tb_reader import LogdirError

MAX_RSS = 500 * 10**6
MAX_CPU_S = 2.0
TB = ("mlp_tui.persist.tb_reader", "tensorboard.backend.event_processing.event_accumulator")


def _bounded(outcome) -> None:
    assert outcome.rss < MAX_RSS, f"peak RSS {outcome.rss / 1e6:.0f} MB"
    assert outcome.cpu_s is not None and outcome.cpu_s < MAX_CPU_S, outcome.cpu_s


@pytest.mark.parametrize("kind", ["array", "table"])
def test_a_deeply_nested_toml_value_is_one_line(tmp_path, kind):
    path = tmp_path / "deep.toml"
    path.write_text(deep_toml(5000, kind))
    outcome = measure(["--config", str(path), "--headless"])
    err = outcome.one_line_refusal()
    assert err.startswith(f"mlp-tui: error: --config: {path}: values nest 5000 deep"), err
    assert "no flag takes more than a flat list" in err
    _bounded(outcome)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_config_symlink_to_dev_zero_is_refused_at_once(tmp_path):
    link = tmp_path / "link.toml"
    link.symlink_to("/dev/zero")
    outcome = measure(["--config", str(link), "--headless"])
    assert outcome.one_line_refusal() == (
        f"mlp-tui: error: --config: {link}: not a regular file (it is a device)\n"
    )
    _bounded(outcome)


def test_an_npz_zip_bomb_is_refused_from_its_headers(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.npz")  # 16 MB inflating to 16 GiB
    assert bomb.stat().st_size < 20 * 2**20
    outcome = measure(["--dataset", str(bomb), "--headless"], preload=("numpy",))
    err = outcome.one_line_refusal()
    assert err == (
        f"mlp-tui: error: --dataset: {bomb}: X.npy holds 16 GiB (float64, shape "
        "(2097152, 1024)), over the 256 MiB limit for a --dataset file (set "
        "MLP_TUI_MAX_DATA_MB to raise it)\n"
    )
    _bounded(outcome)
    assert outcome.cpu_s < 1.0  # "refused in under a second"


def test_an_event_record_claiming_gigabytes_is_damage_after_the_good_events(tmp_path):
    logs = tmp_path / "logs"
    good = frame(event_records()[0])
    event = write_event_file(logs / "run", event_records(range(10)),
                             tail=frame(b"x" * 10, length=16 << 30)[:12] + b"x" * 10)
    at = sum(len(frame(r)) for r in event_records(range(10)))
    assert len(good) < at
    outcome = measure(["replay", str(logs), "--headless"], preload=TB)
    assert outcome.code == 0, outcome.err[-2000:]
    rows = outcome.out.splitlines()
    assert rows[0].split() == ["run", "points", "last", "step", "loss"]
    assert rows[1].split() == ["run", "10", "9", "0.1000"]  # every event before the damage
    assert outcome.err == (
        f"mlp-tui: warning: {event}: damaged at byte {at}: a record claims 16 GiB, over the "
        "64 MiB limit for an event record (set MLP_TUI_MAX_EVENT_MB to raise it); the events "
        "before it are shown\nmlp-tui: 1 run finished, health ok\n"
    )
    _bounded(outcome)


# --- the bounded opener and its caps ---------------------------------------------------------

LIMITS = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"  # its limits table


@pytest.mark.parametrize("cap", [CONFIG_CAP, DATA_CAP, EVENT_CAP], ids=lambda c: c.setting)
def test_each_cap_is_stated_in_the_docs_with_its_setting(cap, monkeypatch):
    monkeypatch.delenv(cap.setting, raising=False)
    rows = [ln for ln in LIMITS.read_text().splitlines() if f"`{cap.setting}`" in ln
            and ln.startswith("| ")]
    assert any(f"| {size_text(cap.limit())}" in ln for ln in rows), rows
    monkeypatch.setenv(cap.setting, "2.5")
    assert cap.limit() == int(2.5 * 2**20)
    for bad in ("0", "-1", "lots", "nan", "inf"):
        monkeypatch.setenv(cap.setting, bad)
        with pytest.raises(InputRefused, match=f"{cap.setting}={bad!r}: expected a size in MiB"):
            cap.limit()


def _one_line(capsys, flag: str) -> str:
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"mlp-tui: error: {flag}: "), err
    return err.removeprefix(f"mlp-tui: error: {flag}: ").rstrip("\n")


def _main_in_thread(argv: list[str]) -> int:
    """`main` in a thread, so that one blocking on a FIFO fails the test, not the run."""
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), f"main({argv}) blocked"
    return result[0]


@pytest.mark.parametrize(("flag", "name"), [("--config", "p.toml"), ("--dataset", "p.csv"),
                                            ("--dataset", "p.npz")])
def test_a_named_pipe_is_refused_without_blocking(tmp_path, capsys, flag, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    assert _main_in_thread([flag, str(fifo), "--headless"]) == 2
    assert _one_line(capsys, flag) == f"{fifo}: not a regular file (it is a named pipe)"


def test_a_config_over_its_cap_is_refused_unread_and_the_setting_raises_it(
        tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.toml"
    path.write_text("# padding\n" * 110_000)  # 1.05 MiB of comments, a valid file
    assert main(["--config", str(path), "--headless"]) == 2
    assert _one_line(capsys, "--config") == (
        f"{path}: 1.05 MiB, over the 1 MiB limit for a --config file (set MLP_TUI_MAX_CONFIG_MB "
        "to raise it)")
    path.write_text("# padding\n" * (2**20 // 10) + "#" * (2**20 % 10) + "#")
    assert main(["--config", str(path), "--headless"]) == 2
    assert "1,048,577 bytes, over the 1 MiB limit" in _one_line(capsys, "--config")
    monkeypatch.setenv("MLP_TUI_MAX_CONFIG_MB", "2")
    assert parse_args(["--config", str(path)]).config.epochs == 100  # read: comments only


NESTED = {
    "nine deep": ("widths = " + "[" * 9 + "5" + "]" * 9 + "\n",
                  "values nest 9 deep; no flag takes more than a flat list"),
    "two deep": ("widths = [[5]]\n", "widths must be a list of numbers or words"),
    "a table": ("[widths]\na = [1]\n", "widths must be a number, a word or a list, got a table"),
    "digits": ("seed = " + "1" * 5000 + "\n", "not valid TOML (Exceeds the limit (4300 digits)"),
    "hex digits": ("seed = 0x" + "f" * 4000 + "\n", "seed holds a number too long to read"),
}


@pytest.mark.parametrize("name", NESTED)
def test_nesting_and_long_numbers_are_one_line(tmp_path, capsys, name):
    text, problem = NESTED[name]
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert main(["--config", str(path), "--headless"]) == 2
    assert problem in _one_line(capsys, "--config")


def test_brackets_in_strings_and_comments_do_not_count(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('# [[[[[[[[[[[[[\ndataset = "wine"\nlr = """\n[[[[[[[[[[\n""" # ]]\n'
                    "optimizer = '{{{{{{{{{{{'\n")
    with pytest.raises(ConfigError, match="--lr: expected a number"):  # parsed: lr is checked
        parse_args(["--config", str(path)])


def test_a_recursion_the_count_misses_is_still_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("mlp_tui.core.config_file.MAX_NESTING", 10**9)  # as if the scan missed it
    path = tmp_path / "deep.toml"
    path.write_text(deep_toml(5000))
    assert main(["--config", str(path), "--headless"]) == 2
    assert _one_line(capsys, "--config") == (
        f"{path}: values nest too deep; no flag takes more than a flat list")


# --- data files -------------------------------------------------------------------------------


def _refused(path, flag: str = "--dataset") -> str:
    with pytest.raises(ConfigError) as info:
        validate(ExperimentConfig(dataset=str(path), widths=(3,)))
    assert info.value.flag == flag
    return info.value.problem


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("name", ["z.csv", "z.npz"])
def test_a_data_symlink_to_dev_zero_is_refused(tmp_path, name):
    link = tmp_path / name
    link.symlink_to("/dev/zero")
    assert _refused(link) == f"{link}: not a regular file (it is a device)"


def test_a_data_file_over_its_cap(tmp_path, monkeypatch):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "1.5,2.5,x\n2.5,1.5,z\n" * 3000)
    monkeypatch.setenv("MLP_TUI_MAX_DATA_MB", "0.05")
    assert _refused(path) == (f"{path}: 58.6 KiB, over the 51.2 KiB limit for a --dataset file "
                              "(set MLP_TUI_MAX_DATA_MB to raise it)")
    monkeypatch.setenv("MLP_TUI_MAX_DATA_MB", "1")
    assert validate(ExperimentConfig(dataset=str(path), widths=(3,))).n_samples == 6000


def test_data_that_would_not_fit_in_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    csv_file = tmp_path / "d.csv"
    csv_file.write_text("a,b,y\n" + "1.5,2.5,x\n2.5,1.5,z\n" * 300)  # 6 KiB
    npz_file = tmp_path / "d.npz"
    np.savez(npz_file, X=np.ones((1000, 20)), y=np.arange(1000) % 2)  # 160 KB of X
    monkeypatch.setattr("mlp_tui.core.config.available_memory", lambda: 2 * 100_000)
    read = []
    monkeypatch.setattr("numpy.lib.format.read_array", lambda *a, **k: read.append(a))
    assert _refused(csv_file) == (f"{csv_file}: reading it takes about 164 KiB of memory, more "
                                  "than the 97.7 KiB this machine can spare")
    assert _refused(npz_file) == (f"{npz_file}: reading it takes about 355 KiB of memory, more "
                                  "than the 97.7 KiB this machine can spare")
    assert read == []  # refused from the headers


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_an_array_whose_header_claims_more_than_its_member_holds(tmp_path):
    """The other bomb: a few bytes whose .npy header says 16 GiB (numpy allocates from it)."""
    path = _zip(tmp_path / "lie.npz", {
        "X.npy": npy_header((1 << 21, 1024)) + bytes(64),
        "y.npy": npy_header((1 << 21,), "<i8") + bytes(64)})
    assert "X.npy holds 16 GiB" in _refused(path)
    path = _zip(tmp_path / "lie2.npz", {"X.npy": npy_header((100, 100)) + bytes(64),
                                        "y.npy": npy_header((100,), "<i8") + bytes(800)})
    assert _refused(path) == (f"{path}: X.npy declares 78.1 KiB of data but holds 64 bytes "
                              "(a damaged file)")


def test_a_member_claiming_more_than_deflate_can_give_is_refused_uninflated(tmp_path):
    x = npy_header((1 << 14, 1024)) + bytes(1 << 27)  # 128 MiB declared, under the cap
    y = npy_header((1 << 14,), "<i8") + bytes(8 << 14)
    path = tmp_path / "forged.npz"
    with open(path, "wb") as f:  # a zip64 member whose stream is a few KB of the 128 MiB
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        stream = c.compress(x[:1 << 20]) + c.flush()
        members = [_zip64_member(f, "X.npy", stream, b"", 0, b"", len(x), 0),
                   _zip64_member(f, "y.npy", zlib.compress(y)[2:-4], b"", 0, b"", len(y),
                                 zlib.crc32(y))]
        _zip64_end(f, members)
    assert _refused(path) == (f"{path}: X.npy claims 128 MiB from 1.09 KiB compressed, more "
                              "than its compression can give (a damaged file)")


@pytest.mark.parametrize("zip64", [False, True])
def test_a_zip_directory_of_many_members_is_refused_before_zipfile_reads_it(tmp_path, zip64):
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as z:
        for name in ("X.npy", "y.npy", *(f"a{i:05}.npy" for i in range(20_000))):
            with z.open(name, "w", force_zip64=zip64) as member:
                member.write(b"")
    read = []
    with mock.patch("zipfile.ZipFile", side_effect=lambda *a: read.append(a)):
        assert _refused(path).startswith(f"{path}: its zip directory holds 1.")
    assert "(20002 members), more than the 1 MiB an .npz of arrays X and y may have" in _refused(
        path)
    assert read == []


@pytest.mark.parametrize(("members", "problem"), [
    ({"X.npy": b"not an npy", "y.npy": b"x"}, "not a readable .npz file (the magic string"),
    ({"X": npy_header((2, 2), "|O") + bytes(16), "y": b""},
     "not a readable .npz of numeric arrays (X holds Python objects, which are never unpickled)"),
    ({"X.npy": npy_header((4, 2), "<c16") + bytes(128), "y.npy": npy_header((4,)) + bytes(32)},
     "X must be numeric, got complex128"),
    ({"X.npy": npy_header((4, 2)) + bytes(64), "y.npy": npy_header((4,), "|V8") + bytes(32)},
     "y must hold numbers or strings (the labels), got |V8"),
    ({"X.npy": npy_header((-4, 2)) + bytes(64), "y.npy": b""}, "X.npy: negative shape (-4, 2)"),
])
def test_forged_members_are_one_line(tmp_path, members, problem):
    assert problem in _refused(_zip(tmp_path / "f.npz", members))


def test_a_plain_npy_or_a_pickle_named_npz_is_not_an_archive(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((3, 2)))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    assert "not a readable .npz file (File is not a zip file)" in _refused(tmp_path / "a.npz")
    (tmp_path / "p.npz").write_bytes(pickle.dumps({"X": [[1.0]], "y": [0]}))
    assert "not a readable .npz file (File is not a zip file)" in _refused(tmp_path / "p.npz")


# --- event files --------------------------------------------------------------------------------


def _session(logs: Path, follow: bool = False):
    pytest.importorskip("tensorboard")
    from mlp_tui.session.tensorboard import TensorBoardSession

    return TensorBoardSession(logs, follow=follow, poll_s=0.05)


DAMAGED = {
    "length over the cap": (frame(b"x" * 10, length=3 << 30), "a record claims 3 GiB, over "
                            "the 64 MiB limit for an event record (set MLP_TUI_MAX_EVENT_MB to "
                            "raise it)"),
    "length checksum": (b"\x05" + frame(b"x" * 10)[1:], "a record's length fails its checksum"),
    "data checksum": (frame(b"x" * 10)[:-1] + b"\x00", "a record fails its checksum"),
    "not an event": (frame(b"\xff" * 10), "a record is not an event"),
}


@pytest.mark.parametrize("name", DAMAGED)
def test_damage_keeps_the_events_before_it_and_says_where(tmp_path, name):
    pytest.importorskip("tensorboard")
    tail, what = DAMAGED[name]
    good = event_records(range(10))
    event = write_event_file(tmp_path / "run", good, tail + frame(scalar_event("loss", 9.0, 99)))
    session = _session(tmp_path)
    (run,) = session.runs
    assert run.history.axis("loss", 0, 1000)[0] == list(range(10))  # not step 99, after it
    at = sum(len(frame(r)) for r in good)
    assert session.problem == f"{event}: damaged at byte {at}: {what}; the events before it " \
                              "are shown"


def test_a_cut_record_is_not_damage_and_its_rest_is_read_when_it_comes(tmp_path):
    pytest.importorskip("tensorboard")
    last = frame(scalar_event("loss", 0.5, 10))
    event = write_event_file(tmp_path / "run", event_records(range(10)), last[:9])
    session = _session(tmp_path, follow=True)
    session.start()
    try:
        assert len(session.runs[0].history) == 10 and session.problem is None
        with open(event, "ab") as f:
            f.write(last[9:])
        assert wait_until(lambda: len(session.runs[0].history) == 11, 30)
        assert session.problem is None
        with open(event, "ab") as f:  # then damage, while followed: the header says so
            f.write(frame(b"x", length=1 << 40)[:12])
        assert wait_until(lambda: session.problem is not None, 30)
        assert "a record claims 1 TiB, over the 64 MiB limit" in session.problem
    finally:
        assert session.stop(5)


def test_the_event_cap_is_a_setting(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    write_event_file(tmp_path / "run", event_records(range(5)))
    monkeypatch.setenv("MLP_TUI_MAX_EVENT_MB", "0.00001")  # 10 bytes: the version record is 25
    assert "no TensorBoard scalars found (" in str(pytest.raises(LogdirError, _session, tmp_path)
                                                    .value)
    monkeypatch.setenv("MLP_TUI_MAX_EVENT_MB", "1")
    assert len(_session(tmp_path).runs[0].history) == 5


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero link"])
def test_an_event_file_that_is_not_a_regular_file_is_refused_without_blocking(
        tmp_path, capsys, kind):
    pytest.importorskip("tensorboard")
    write_event_file(tmp_path / "run", event_records(range(5)))
    odd = tmp_path / "run" / "events.out.tfevents.1800000000.host"
    os.mkfifo(odd) if kind == "fifo" else odd.symlink_to("/dev/zero")
    assert _main_in_thread(["replay", str(tmp_path), "--headless"]) == 2
    what = "a named pipe" if kind == "fifo" else "a device"
    assert _one_line(capsys, "FILE") == f"{odd}: not a regular file (it is {what})"


def test_a_symlink_loop_in_a_log_directory_ends(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    write_event_file(tmp_path / "run", event_records(range(5)))
    (tmp_path / "run" / "loop").symlink_to(tmp_path)
    (tmp_path / "again").symlink_to(tmp_path / "run")
    assert main(["replay", str(tmp_path), "--headless"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in out[1:]] == ["run"]  # each folder once, by its real name


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(("name", "what"), [("h.csv", "a named pipe"), ("h.jsonl", "a device")])
def test_replaying_a_history_that_is_not_a_regular_file_says_what_it_is(
        tmp_path, capsys, name, what):
    path = tmp_path / name
    os.mkfifo(path) if what == "a named pipe" else path.symlink_to("/dev/zero")
    assert _main_in_thread(["replay", str(path), "--headless"]) == 2
    assert _one_line(capsys, "FILE") == f"{path}: not a regular file (it is {what})"

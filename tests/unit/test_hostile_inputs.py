"""Hostile command lines: every bad invocation is refused before anything starts, with exit
status 2, exactly one line on stderr that names the flag, no traceback, and no file written.

`{tmp}` in an argument stands for the test's scratch folder, which holds a regular file
`file.txt`, history files that are not history files, and a folder without write permission.
"""

from __future__ import annotations

import os
import string
import tempfile
import threading
from pathlib import Path

import pytest
from helpers import WAIT_S, check_history_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlp_tui.cli.args import parse_args
from mlp_tui.cli.main import main
from mlp_tui.cli.parser import UsageError, build_parser, build_replay_parser
from mlp_tui.core.config import MAX_THREADS, ConfigError

HUGE = str(10**9)

# (argv, the flag the message names, a fragment of the rest of the message)
BAD: list[tuple[list[str], str, str]] = [
    # --widths
    (["--widths", ""], "--widths", "comma-separated list"),
    (["--widths", " , "], "--widths", "comma-separated list"),
    (["--widths", "5,,100"], "--widths", "empty entry"),
    (["--widths", "5,100,5"], "--widths", "width 5 is listed twice"),
    (["--widths", "five"], "--widths", "'five' is not a whole number"),
    (["--widths", "1e3"], "--widths", "'1e3' is not a whole number"),
    (["--widths", "5;100"], "--widths", "is not a whole number"),
    (["--widths", "0"], "--widths", "must be positive"),
    (["--widths", "-5"], "--widths", "must be positive"),
    (["--widths", "-5,-6"], "--widths", "must be positive"),
    (["--widths", HUGE], "--widths", "of memory"),  # the estimate refuses it, nothing allocated
    (["--widths", f"5,{HUGE}"], "--widths", f"width {HUGE} needs about"),
    (["--widths", str(10**40)], "--widths", "of memory"),
    (["--widths", "1" * 5000], "--widths", "is not a whole number"),  # past int()'s digit limit
    (["--widths"], "--widths", "expected one argument"),
    # --lr
    (["--lr", "0"], "--lr", "must be above 0 and at most 10000, got 0"),
    (["--lr", "-0.1"], "--lr", "must be above 0 and at most 10000"),
    (["--lr", "-1e-3"], "--lr", "must be above 0 and at most 10000"),
    (["--lr", "1e-400"], "--lr", "'1e-400' is too small: it rounds to 0"),  # not "got 0"
    (["--lr", "nan"], "--lr", "must be a finite number"),
    (["--lr", "inf"], "--lr", "must be a finite number"),
    (["--lr", "-inf"], "--lr", "must be a finite number"),
    (["--lr", "1e400"], "--lr", "must be a finite number"),
    (["--lr", "1e5"], "--lr", "must be above 0 and at most 10000, got 100000"),
    (["--lr", "fast"], "--lr", "expected a number, got 'fast'"),
    # --epochs
    (["--epochs", "2.5"], "--epochs", "expected a whole number, got '2.5'"),
    (["--epochs", "1.5e0"], "--epochs", "expected a whole number, got '1.5e0'"),
    (["--epochs", "1e30"], "--epochs", "must be between 1 and 10000000, got 1e30"),
    (["--epochs", "ten"], "--epochs", "expected a whole number"),
    (["--epochs", "-3"], "--epochs", "must be between 1 and"),
    (["--epochs", "0"], "--epochs", "must be between 1 and"),
    (["--epochs", str(10**12)], "--epochs", "must be between 1 and"),
    (["--epochs"], "--epochs", "expected one argument"),
    # --val-split
    (["--val-split", "-0.1"], "--val-split", "must be in [0, 1)"),
    (["--val-split", "1"], "--val-split", "must be in [0, 1)"),
    (["--val-split", "1.5"], "--val-split", "must be in [0, 1)"),
    (["--val-split", "nan"], "--val-split", "must be a finite number"),
    (["--val-split", "0.001"], "--val-split", "too few samples"),
    # The check counted round(150 * 0.981) = 147 held out; the split holds out ceil = 148,
    # leaving 2 to train on 3 classes: a traceback, before both used core.userdata.val_count.
    (["--val-split", "0.981"], "--val-split", "too few samples"),
    # other numbers
    (["--depth", "0"], "--depth", "must be between 1 and 64"),
    (["--depth", "65"], "--depth", "must be between 1 and 64"),
    (["--repeats", "1000"], "--repeats", "must be between 1 and 100"),
    (["--seed", "-1"], "--seed", "must be between 0 and"),
    (["--seed", str(2**63)], "--seed", "must be between 0 and"),
    (["--seed", "x"], "--seed", "expected a whole number"),
    (["--repeats", "0"], "--repeats", "must be between 1 and 100"),
    (["--batch-size", "1.5"], "--batch-size", "expected a whole number"),
    (["--batch-size", "-1"], "--batch-size", "must be between 0 and"),
    (["--speed", "-5"], "--speed", "must be 0 (unthrottled) or between 0.01 and 1e+06"),
    (["--speed", "1e-12"], "--speed", "must be 0 (unthrottled) or between 0.01 and 1e+06"),
    (["--speed", "0.001"], "--speed", "between 0.01 and 1e+06 epochs a second, got 0.001"),
    (["--speed", "2e6"], "--speed", "between 0.01 and 1e+06 epochs a second, got 2e+06"),
    # underflow must not turn a crawl into an unthrottled run (0 = unthrottled)
    (["--speed", "1e-400"], "--speed", "'1e-400' is too small: it rounds to 0"),
    (["--speed", "nan"], "--speed", "must be a finite number"),
    (["--speed", "inf"], "--speed", "must be a finite number"),
    (["--threads", "-1"], "--threads", "must be between 0 and"),
    (["--threads", str(MAX_THREADS + 1)], "--threads", f"between 0 and {MAX_THREADS}, got"),
    *(
        [(["--threads", "1024"], "--threads", f"between 0 and {MAX_THREADS}, got 1024")]
        if MAX_THREADS < 1024
        else []
    ),
    # choices
    (["--dataset", "mnist"], "--dataset", "unknown value 'mnist' (choose from iris"),
    (["--dataset", ""], "--dataset", "unknown value ''"),
    (["--optimizer", "rmsprop"], "--optimizer", "unknown value 'rmsprop' (choose from sgd, adam)"),
    (["--device", "tpu"], "--device", "unknown value 'tpu' (choose from auto, cpu, cuda)"),
    # output paths
    (["--export", "{tmp}/missing/final.csv"], "--export", "does not exist"),
    (["--history", "{tmp}/missing/hist.csv"], "--history", "does not exist"),
    (["--export", "{tmp}/file.txt/final.csv"], "--export", "is a file, not a folder"),
    (["--history", "{tmp}/file.txt/hist.jsonl"], "--history", "is a file, not a folder"),
    (["--export", "{tmp}"], "--export", "unsupported format '(no suffix)'"),
    (["--export", "final.xlsx"], "--export", "unsupported format '.xlsx' (use .csv, .json, .md)"),
    (["--export", "final"], "--export", "unsupported format '(no suffix)'"),
    (["--history", "hist.json"], "--history", "unsupported format '.json' (use .csv, .jsonl)"),
    (["--history", "hist.txt"], "--history", "unsupported format '.txt'"),
    (["--export", "{tmp}/dir.csv"], "--export", "is a directory"),
    (["--export", "   "], "--export", "the path is empty"),
    (["--export", ""], "--export", "the path is empty"),
    (["--export", "a\0b.csv"], "--export", "NUL"),
    *(
        [
            # Linux: os.access says yes to root even in /proc; only trying to create a file tells
            (["--export", "/proc/final.csv"], "--export", "folder '/proc' is not writable"),
            (["--history", "/proc/self/hist.csv"], "--history", "is not writable"),
        ]
        if Path("/proc/self").is_dir()
        else []
    ),
    (["--export", "a" * 300 + ".csv"], "--export", "File name too long"),
    (["--export", "same.csv", "--history", "same.csv"], "--history", "same file as --export"),
    (["--export", "./same.csv", "--history", "{tmp}/same.csv"], "--history", "same file"),
    # the history's own policies: never clobber, never follow a link
    (["--history", "{tmp}/old.csv"], "--history", "already exists; pass --force"),
    (["--history", "{tmp}/old.csv", "--headless"], "--history", "already exists"),
    (["--history", "{tmp}/link.csv"], "--history", "is a symbolic link"),
    (["--history", "{tmp}/link.csv", "--force"], "--history", "is a symbolic link"),
    (["--history", "{tmp}/dangling.jsonl"], "--history", "is a symbolic link"),
    # flags
    (["--bogus"], "--bogus", "unknown option --bogus (see mlp-tui --help)"),
    (["--widths", "5", "--verbose"], "--verbose", "unknown option"),
    (["-x"], "-x", "unknown option -x"),
    # the likely fix, said (#23): a list with spaces, a misspelt flag
    (["--widths", "5", "100"], "--widths", "one comma list, without spaces: --widths 5,100"),
    (["--lr", "0.1", "0.01", "--depth", "1"], "--lr", "--lr 0.1,0.01"),
    (["--widht", "5"], "--widht", "unknown option --widht; did you mean --widths?"),
    (["--val-splt", "0.2"], "--val-splt", "did you mean --val-split?"),
    (["extra"], "extra", "unrecognized arguments"),
    (["two\nlines"], "two\\nlines", "unrecognized arguments"),  # still one line, escaped
    (["--dataset", "\x1b[2J"], "--dataset", "unknown value '\\x1b[2J'"),  # no raw escapes
    (["--e", "x"], "--e", "ambiguous option"),
    # replay
    (["replay"], "file", "the following arguments are required"),
    (["replay", "{tmp}/missing.csv"], "FILE", "no such file"),
    (["replay", "{tmp}/file.txt"], "FILE", "not a history file"),
    # A directory is read as a TensorBoard log directory: without scalars, one line.
    (["replay", "{tmp}"], "FILE", "no TensorBoard scalars found"),
    (["replay", "{tmp}/dir.csv"], "FILE", "no TensorBoard scalars found"),
    (["replay", "{tmp}/" + "a" * 300 + ".csv"], "FILE", "File name too long"),
    (["replay", "{tmp}/garbage.csv"], "FILE", "line 1: not a history header"),
    (["replay", "{tmp}/binary.csv"], "FILE", "line 1: not UTF-8 text"),
    (["replay", "{tmp}/empty.jsonl"], "FILE", "no history rows"),
    (["replay", "{tmp}/torn.jsonl"], "FILE", "line 1:"),
    (["replay", "{tmp}/list.jsonl"], "FILE", "line 1: expected a JSON object"),
    (["replay", "{tmp}/null.jsonl"], "FILE", "line 1: expected a JSON object"),
    (["replay", "{tmp}/gap.csv"], "FILE", "epoch 3 follows epoch 0"),
    (["replay", "{tmp}/gap.csv", "--export", "{tmp}/gap.csv"], "--export", "replayed FILE"),
    (["replay", "{tmp}/gap.csv", "--export", "out.txt"], "--export", "unsupported format"),
    (["replay", "{tmp}/gap.csv", "--follow", "--bogus"], "--bogus", "unknown option"),
    (["replay", "{tmp}/gap.csv", "--folow"], "--folow", "did you mean --follow?"),
]

HEADER = "run,dataset,width,depth,repeat,seed,optimizer,lr,epoch,train_loss,train_acc"


def _populate(folder: Path) -> None:
    (folder / "file.txt").write_text("just a file\n")
    (folder / "dir.csv").mkdir()
    (folder / "garbage.csv").write_text("this,is\nnot,a,history\n")
    (folder / "binary.csv").write_bytes(b"\xff\xfe\x00\x01 binary\n")
    (folder / "empty.jsonl").write_text("")
    (folder / "torn.jsonl").write_text('{"run": 0, "epoch": \n')
    (folder / "list.jsonl").write_text("[1, 2, 3]\n")
    (folder / "null.jsonl").write_text("null\n")
    (folder / "gap.csv").write_text(f"{HEADER}\n0,iris,5,1,0,0,sgd,0.1,3,1.0,0.3\n")
    (folder / "old.csv").write_text("rows of an earlier run\n")
    (folder / "target.csv").write_text("a link's target\n")
    (folder / "link.csv").symlink_to(folder / "target.csv")
    (folder / "dangling.jsonl").symlink_to(folder / "nowhere.jsonl")


def _snapshot(folder: Path) -> dict[str, bytes | str | None]:
    """Every file's bytes, every link's target, None for anything else."""
    return {
        str(p.relative_to(folder)): (
            os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file() else None
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A populated scratch folder as the working directory; nothing may start training."""
    _populate(tmp_path)
    monkeypatch.chdir(tmp_path)

    def refuse(*_a, **_k):
        raise AssertionError("a bad invocation must not start a run")

    monkeypatch.setattr("mlp_tui.faces.headless.run_headless", refuse)
    monkeypatch.setattr("mlp_tui.tui.app.run_app", refuse)
    return tmp_path


def _ids(table):
    return [" ".join(a).replace("\0", "NUL")[:60] or "-" for a, *_ in table]


@pytest.mark.parametrize(("argv", "flag", "fragment"), BAD, ids=_ids(BAD))
def test_bad_invocation_is_refused_in_one_line(argv, flag, fragment, scratch, capsys):
    argv = [a.replace("{tmp}", str(scratch)) for a in argv]
    before = _snapshot(scratch)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("mlp-tui: error: "), err
    assert flag in err, err
    assert fragment in err, err
    assert "Traceback" not in err
    assert _snapshot(scratch) == before  # nothing written, not even a probe left behind


def test_there_are_at_least_thirty_cases():
    assert len(BAD) >= 30
    flags = {flag for _, flag, _ in BAD}
    for f in ("--widths", "--lr", "--epochs", "--val-split", "--dataset", "--optimizer"):
        assert f in flags


def test_cuda_without_a_gpu_is_refused(scratch, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("needs a machine without a CUDA GPU (this one has one)")
    before = _snapshot(scratch)
    assert main(["--device", "cuda", "--history", "h.csv"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err == "mlp-tui: error: --device: cuda was asked for but no CUDA GPU is available\n"
    assert _snapshot(scratch) == before


@pytest.mark.parametrize("flag", ["--export", "--history"])
def test_read_only_folder_is_refused(flag, scratch, capsys):
    ro = scratch / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("needs a user other than root (root may write to a 0o500 folder)")
        assert main([flag, str(ro / "out.csv")]) == 2
        err = capsys.readouterr().err
        assert err == f"mlp-tui: error: {flag}: folder {str(ro)!r} is not writable\n"
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_existing_read_only_target_is_refused(scratch, capsys):
    target = scratch / "locked.csv"
    target.write_text("keep me\n")
    target.chmod(0o400)
    try:
        if os.access(target, os.W_OK):
            pytest.skip("needs a user other than root (root may write to a 0o400 file)")
        assert main(["--export", str(target)]) == 2
        assert "--export" in capsys.readouterr().err
        assert target.read_text() == "keep me\n"
    finally:
        target.chmod(0o600)


def _one_line_refusal(capsys, flag: str) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"mlp-tui: error: {flag}: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "argv",
    [["--history", "{fifo}"], ["--history", "{fifo}", "--force"], ["--export", "{fifo}"]],
    ids=["history", "history-force", "export"],
)
def test_a_named_pipe_is_refused_without_hanging(argv, scratch, capsys):
    """Opening a FIFO for writing blocks until a reader comes: the check must not open it.
    `main` runs in a thread, so a hang fails the test instead of the whole run."""
    fifo = scratch / "pipe.csv"
    os.mkfifo(fifo)
    argv = [a.replace("{fifo}", str(fifo)) for a in argv]
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    worker.start()
    worker.join(WAIT_S)
    if worker.is_alive():  # unblock it: a reader lets the open() return
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        worker.join(5)
        os.close(fd)
        pytest.fail(f"main({argv}) blocked on a named pipe")
    assert result == [2]
    assert "named pipe" in _one_line_refusal(capsys, argv[0])


@pytest.mark.parametrize("force", [False, True])
def test_a_history_another_mlp_tui_is_writing_is_refused(force, scratch, capsys):
    """An empty file passes the up-front checks; the writer's lock is what refuses it, and
    --force must not take over (truncate) a file someone else is writing."""
    from mlp_tui.persist.files import AppendFile

    path = scratch / "busy.csv"
    with AppendFile(path) as first:  # holds the lock; the file stays empty
        assert main(["--history", str(path), *(["--force"] if force else [])]) == 2
        assert "in use by another mlp-tui" in _one_line_refusal(capsys, "--history")
        assert first.write_lines(["still mine\n"]) == 1
    assert path.read_text() == "still mine\n"


def test_a_refused_history_is_blamed_on_history_beside_an_export(scratch, capsys):
    (scratch / "data.csv").write_text("old rows\n")
    assert main(["--export", "a.csv", "--history", "data.csv"]) == 2
    _one_line_refusal(capsys, "--history")
    assert (scratch / "data.csv").read_text() == "old rows\n"


@pytest.mark.parametrize("content", ["rows of an earlier run\n", ""])
def test_force_overwrites_a_history_and_an_empty_one_needs_none(
    content, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "h.csv"
    path.write_text(content)
    force = ["--force"] if content else []
    argv = ["--headless", "--history", "h.csv", "--widths", "5", "--epochs", "3", "--speed", "0"]
    assert main([*argv, *force]) == 0
    out, err = capsys.readouterr()
    assert err == "mlp-tui: wrote h.csv\nmlp-tui: 1 run finished, health ok\n"
    assert len(out.splitlines()) == 2
    assert "earlier run" not in path.read_text()
    lives = check_history_file(path)
    assert list(lives) == [(0, 0)] and [r["epoch"] for r in lives[(0, 0)]] == [1, 2, 3]


def test_a_huge_batch_size_is_never_blamed_on_the_widths(scratch, capsys, monkeypatch):
    """A batch larger than the dataset is a full batch: it costs no more memory than that."""
    started = []
    monkeypatch.setattr(
        "mlp_tui.faces.headless.run_headless", lambda runner: started.append(runner) or 0
    )
    code = main(["--headless", "--batch-size", "100000000", "--widths", "5,100,1000"])
    out, err = capsys.readouterr()
    if code == 2:
        assert "--batch-size" in err and "--widths" not in err, err
        assert not started
    else:
        assert err == "" and len(started) == 1
        assert started[0].session.config.batch_size == 10**8


# --- the parser never raises anything but its own errors ----------------------------------------

FLAGS = sorted(
    {
        s
        for parser in (build_parser(), build_replay_parser())
        for action in parser._actions
        for s in action.option_strings
        if s not in ("-h", "--help", "--version")
    }
)
VALUE = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=string.digits + ".,-+eE naif", max_size=10),
    st.sampled_from(
        ["iris", "digits", "adam", "sgd", "cpu", "auto", "0", "1", "5,100", "0.2", "1e9", "-1"]
    ),
    st.sampled_from(["h.csv", "h.jsonl", "t.json", "t.md", "sub/t.csv", "/proc/t.csv", "x.txt"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
TOKEN = st.one_of(st.sampled_from(FLAGS), VALUE)
ARGV = st.one_of(
    st.lists(TOKEN, max_size=8),
    st.lists(TOKEN, max_size=6).map(lambda rest: ["replay", *rest]),
    st.lists(st.tuples(st.sampled_from(FLAGS), VALUE), max_size=5).map(
        lambda pairs: [t for pair in pairs for t in pair]
    ),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argv=ARGV)
def test_parse_args_returns_or_raises_its_own_errors(argv, scratch):
    # `--help` and `--version` are left out: they are the only ways to a SystemExit. Flags may be
    # abbreviated, though, so an abbreviation of them is skipped too.
    if any(len(a) > 2 and ("--help".startswith(a) or "--version".startswith(a)) for a in argv):
        return
    before = _snapshot(scratch)
    try:
        parse_args(argv)
    except (UsageError, ConfigError):
        pass  # `main` prints it as one line: see the test below
    assert _snapshot(scratch) == before


@settings(max_examples=60, deadline=None)
@given(argv=ARGV)
def test_main_refuses_in_one_line_or_accepts(argv):
    """Through `main`: a refusal is exit 2 and one line; an acceptance would start a run, which
    the stub turns into exit 99 (so nothing trains here)."""
    import contextlib
    import io
    from unittest import mock

    if any(len(a) > 2 and ("--help".startswith(a) or "--version".startswith(a)) for a in argv):
        return
    err = io.StringIO()
    cwd = os.getcwd()
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch("mlp_tui.faces.headless.run_headless", return_value=99),
        mock.patch("mlp_tui.tui.app.run_app", return_value=99),
        mock.patch("mlp_tui.cli.main.check_device"),
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        os.chdir(folder)
        try:
            code = main(argv)
        except SystemExit as exc:
            raise AssertionError(f"SystemExit({exc.code}) for {argv!r}") from None
        finally:
            os.chdir(cwd)
        assert os.listdir(folder) == [] or code != 2
    text = err.getvalue()
    assert "Traceback" not in text
    if code == 2:
        assert text.count("\n") == 1 and text.startswith("mlp-tui: error: "), text

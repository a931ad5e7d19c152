"""`mlp-tui serve`'s command line: loopback unless --public (then a warning), training flags
validated before the server starts and handed on as given, one line and exit 2 for bad input or
a missing extra. The server itself is tested in a browser (tests/e2e/test_serve_browser.py)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from helpers import cli_command

import mlp_tui.faces.web
from mlp_tui.cli.main import main
from mlp_tui.cli.serve import parse_serve as _parse_serve
from mlp_tui.faces.web import EXTRA_HINT, is_loopback
from mlp_tui.faces.web_apps import AppPool, TabShares


def test_defaults_bind_loopback_port_8000_and_pass_training_flags_on():
    options = _parse_serve(["--widths", "5,10", "--port", "8123", "--lr", "0.5"])
    assert (options.host, options.port, options.public) == ("127.0.0.1", 8123, False)
    assert options.app_argv == ("--widths", "5,10", "--lr", "0.5")
    assert _parse_serve([]).port == 8000


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--host", "0.0.0.0"], ["--host", "--public"]),
        (["--host", "example.com"], ["--host", "--public"]),
        (["--port", "0"], ["--port"]),
        (["--port", "65536"], ["--port"]),
        (["--port", "http"], ["--port"]),
        (["--headless"], ["--headless", "serve"]),
        (["--history", "h.csv"], ["--history", "serve"]),
        (["--force"], ["--force", "serve"]),
        (["--widths", "0"], ["--widths"]),
        (["--no-such-flag"], ["--no-such-flag"]),
        (["replay", "f.csv"], ["replay"]),
        (["--token", "short"], ["--token"]),
        (["--token", "a token with spaces"], ["--token"]),
        (["--no-token", "--host", "0.0.0.0", "--public"], ["--no-token", "loopback"]),
        (["--no-token", "--token", "abcdefghijklmnop"], ["--no-token"]),
        (["--max-apps", "0"], ["--max-apps"]),
        (["--max-apps", "many"], ["--max-apps"]),
        (["--tab-work", "1000", "--epochs", "100"], ["--epochs", "--tab-work"]),
        (["--epochs", "10000000", "--widths", "1000000"], ["--epochs", "width-epochs"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys, monkeypatch):
    monkeypatch.setattr(mlp_tui.faces.web, "serve", lambda options: pytest.fail("served"))
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlp-tui: error: "), err
    assert all(w in err for w in words), err


def test_without_the_extra_one_line_names_the_install_command(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and EXTRA_HINT in err, err


def test_public_host_serves_with_a_warning_and_a_token(capsys, monkeypatch):
    served = []
    monkeypatch.setattr(mlp_tui.faces.web, "serve", lambda options: served.append(options) or 0)
    assert main(["serve", "--host", "0.0.0.0", "--public", "--epochs", "7"]) == 0
    assert served[0].host == "0.0.0.0" and served[0].app_argv == ("--epochs", "7")
    assert served[0].token and len(served[0].token) >= 24
    err = capsys.readouterr().err
    assert "warning" in err and "token" in err and "0.0.0.0:8000" in err


def test_no_token_is_loud(capsys, monkeypatch):
    served = []
    monkeypatch.setattr(mlp_tui.faces.web, "serve", lambda options: served.append(options) or 0)
    assert main(["serve", "--no-token"]) == 0
    assert served[0].token is None
    assert "WARNING" in capsys.readouterr().err


def test_a_token_given_is_kept_and_each_start_draws_a_new_one(monkeypatch):
    assert _parse_serve(["--token", "abcdefghijklmnop"]).token == "abcdefghijklmnop"
    assert _parse_serve([]).token != _parse_serve([]).token


def test_loopback_serves_without_a_warning(capsys, monkeypatch):
    monkeypatch.setattr(mlp_tui.faces.web, "serve", lambda options: 0)
    assert main(["serve", "--host", "localhost"]) == 0
    assert capsys.readouterr().err == ""


def test_each_tab_gets_its_own_export_file_and_the_flags_as_given(tmp_path):
    flags = ("--widths", "5,10", "--export", str(tmp_path / "r.csv"), "--lr", "$(rm -rf ~)")
    pool = AppPool(flags, (("--export", tmp_path / "r.csv"),), 2, TabShares(2**30, 10**9))
    first, _ = pool.tab_argv()
    second, _ = pool.tab_argv()
    assert first[: len(flags)] == list(flags) == second[: len(flags)]
    assert first[-2] == second[-2] == "--export"  # the last --export is the one argparse keeps
    assert first[-1] != second[-1] and all(p.endswith(".csv") for p in (first[-1], second[-1]))
    assert not (tmp_path / "r.csv").exists()


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*cli_command(), "serve", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"--port {port}" in done.stderr, done.stderr
    assert "in use" in done.stderr

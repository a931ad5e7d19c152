"""A served tab's shares (issue 37, finding 4): the memory check counts the other tabs (each
tab may take its share of what was free at the server's start, not half of what is free now),
a CPU budget in width-epochs refuses with one clear line, exports are paced. Outside serve
nothing changes. Also the browser's messages, parsed and bounded (faces/web_input.py)."""

from __future__ import annotations

import pytest

from mlp_tui.core import limits
from mlp_tui.core.config import ConfigError, ExperimentConfig, memory_budget, validate
from mlp_tui.faces.web_apps import default_max_apps
from mlp_tui.faces.web_guard import Guard, loopback_name, split_host
from mlp_tui.faces.web_input import (
    MAX_COLS,
    MAX_ROWS,
    KeyBucket,
    Malformed,
    count_keys,
    parse,
    query_size,
)


def test_a_served_tab_checks_memory_against_its_share(monkeypatch):
    monkeypatch.delenv(limits.TAB_MEMORY_ENV, raising=False)
    machine = memory_budget()
    monkeypatch.setenv(limits.TAB_MEMORY_ENV, str(10 * 2**20))
    assert memory_budget() == 10 * 2**20 < machine
    with pytest.raises(ConfigError) as err:
        validate(ExperimentConfig(widths=(4000,), depth=4))
    assert "--widths" in str(err.value) and "memory" in str(err.value)


def test_a_served_tab_refuses_more_work_than_its_budget_in_one_line(monkeypatch):
    monkeypatch.setenv(limits.TAB_WORK_ENV, str(10**6))
    validate(ExperimentConfig(widths=(5, 100), epochs=1000))  # 105,000 width-epochs
    with pytest.raises(ConfigError) as err:
        validate(ExperimentConfig(widths=(1000,), epochs=10_000))
    text = str(err.value)
    assert "--epochs" in text and "10,000,000" in text and "--tab-work" in text
    assert "\n" not in text


def test_outside_serve_nothing_changes(monkeypatch):
    for name in (limits.TAB_WORK_ENV, limits.TAB_MEMORY_ENV, limits.EXPORT_EVERY_ENV,
                 limits.EXPORT_MAX_ENV):
        monkeypatch.delenv(name, raising=False)
    validate(ExperimentConfig(widths=(1000,), epochs=10_000_000))
    pace = limits.ExportPace()
    assert all(pace.refusal() is None for _ in range(50))


def test_exports_are_paced_and_counted(monkeypatch):
    monkeypatch.setenv(limits.EXPORT_EVERY_ENV, "5")
    monkeypatch.setenv(limits.EXPORT_MAX_ENV, "2")
    pace = limits.ExportPace()
    assert pace.refusal() is None
    assert "each 5 s" in pace.refusal()
    pace.last -= 10
    assert pace.refusal() is None
    pace.last -= 10
    assert "at most 2" in pace.refusal()


def test_the_default_cap_follows_cores_and_memory():
    assert default_max_apps(64 * 2**30, cpus=2) == 4
    assert default_max_apps(3 * 2**30, cpus=8) == 3
    assert default_max_apps(2**20, cpus=8) == 1


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', "[", "[]", '["exec", "x"]', '["stdin"]', '["stdin", 1]', '["resize", 3]',
     '["resize", {"width": "1", "height": 2}]', '["resize", {"width": true, "height": 2}]',
     '["ping", "' + "x" * 100 + '"]'],
)
def test_malformed_messages_are_refused_without_their_text(text):
    with pytest.raises(Malformed) as err:
        parse(text)
    assert text not in str(err.value) or len(text) < 3


def test_sizes_are_bounded():
    assert parse('["resize", {"width": 4000, "height": 2000}]').size == (MAX_COLS, MAX_ROWS)
    assert query_size("4000", "2000") == (MAX_COLS, MAX_ROWS)
    assert query_size("abc", None) == (80, 24)


def test_keys_count_sequences_and_pastes_as_one():
    assert count_keys("e" * 10) == 10
    assert count_keys("\x1b[A\x1b[<35;10;20M\x1bOP") == 3
    assert count_keys("\x1b[200~" + "x" * 1000 + "\x1b[201~") == 1


def test_a_flood_of_keys_is_dropped_whole():
    bucket = KeyBucket(rate=0.001, burst=10, level=10)
    assert not bucket.take(2000)  # one message of 2,000 keys: dropped, not cut
    assert all(bucket.take(1) for _ in range(10))
    assert not bucket.take(1) and bucket.dropped == 2


def test_the_guard_refuses_other_hosts_and_origins():
    guard = Guard("t" * 20, public=False, port=8000)
    assert guard.host_refusal("127.0.0.1:8000") is None
    assert guard.host_refusal("localhost:9000") is None  # an SSH tunnel's own port
    assert guard.host_refusal("[::1]:8000") is None
    assert guard.host_refusal("evil.example:8000") and guard.host_refusal("")
    assert guard.host_refusal("127.0.0.1:8000@evil") and guard.host_refusal("a b")
    assert guard.origin_refusal("http://127.0.0.1:8000", "127.0.0.1:8000", True) is None
    assert guard.origin_refusal("http://127.0.0.1:8001", "127.0.0.1:8000", True)
    assert guard.origin_refusal("null", "127.0.0.1:8000", True)
    assert guard.authorized(None, "t" * 20) and not guard.authorized("x", None)
    assert not guard.authorized(None, None)
    assert Guard("t" * 20, public=True, port=1).host_refusal("box.example:1") is None
    assert loopback_name("127.9.9.9") and not loopback_name("127.0.0.1.evil.example")
    assert split_host("[::1]:80") == "::1"

"""The README's test command passes as written on a fresh machine (issue 36): a test that needs
what such a machine lacks (Debian's chromium) is skipped there with its reason, and fails under
CI, which must run it."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped
from helpers import in_ci, require


def test_a_missing_tool_skips_with_its_reason_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()
    require(True, "never said")
    with pytest.raises(Skipped, match="apt-get install chromium"):
        require(False, "no /usr/bin/chromium: apt-get install chromium")


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_under_ci_a_missing_tool_fails(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(Failed, match="required under CI"):
        require(False, "no /usr/bin/chromium")


def test_the_browser_test_asks_for_chromium_before_it_starts_a_server():
    """The skip comes before the server fixture spends its start-up (torch in an app process)."""
    from pathlib import Path

    source = (Path(__file__).parents[1] / "e2e" / "test_serve_browser.py").read_text()
    assert "def test_the_app_in_a_browser_pauses_and_every_process_ends(chromium, server," in source


def test_ci_run_sets_ci():
    from pathlib import Path

    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    assert "export CI=true" in ci

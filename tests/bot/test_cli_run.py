"""`run` and `serve` refuse to start without the Slack secrets they need, naming the missing one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli

runner = CliRunner()


@pytest.fixture
def env(cli_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite store and no Slack secrets."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return cli_store


def test_socket_mode_needs_an_app_level_token(env: Path) -> None:
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "SLACK_APP_TOKEN must be set to an app-level token (xapp-...)" in result.output


def test_socket_mode_needs_a_bot_token(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-123")
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN must be set" in result.output


@pytest.mark.parametrize(("present", "missing"), [({}, "SLACK_BOT_TOKEN"),
                                                  ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET")])
def test_http_mode_names_the_missing_secret(
    env: Path, monkeypatch: pytest.MonkeyPatch, present: dict[str, str], missing: str
) -> None:
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert f"{missing} must be set to serve Slack over HTTP" in result.output
    assert "Traceback" not in result.output

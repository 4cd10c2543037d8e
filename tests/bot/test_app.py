"""App wiring: nothing talks to Slack at start-up, the client retries on SLACK_API_URL, the manifest matches the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from bot.app import create_app, make_client
from bot.deps import Deps
from bot.logs import redact
from bot.settings import Settings
from tests.slack_double import SlackDouble

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def _deps(slack: SlackDouble, engine: Engine) -> Deps:
    """Deps aimed at the double."""
    settings = Settings(slack_api_url=slack.api_url, slack_bot_token=SecretStr("xoxb-app"),
                        slack_signing_secret=SecretStr("s"), database_url=str(engine.url))
    return Deps(settings=settings, engine=engine)


def test_building_the_app_needs_no_slack(slack_double: SlackDouble, sqlite_engine: Engine) -> None:
    app = create_app(_deps(slack_double, sqlite_engine))
    assert app.client.base_url == slack_double.api_url
    assert slack_double.calls == []


def test_the_client_waits_out_rate_limits_and_retries_server_errors(
    slack_double: SlackDouble, sqlite_engine: Engine
) -> None:
    client = make_client(_deps(slack_double, sqlite_engine))
    slack_double.fail_next("chat.postMessage", status=429, retry_after=0)
    slack_double.fail_next("chat.postMessage", status=500)
    posted = client.chat_postMessage(channel="C1", text="hello")
    assert posted["ok"]
    assert [c.status for c in slack_double.calls_to("chat.postMessage")] == [429, 500, 200]
    assert {c.token for c in slack_double.calls} == {"xoxb-app"}


def test_logs_lose_addresses_and_tokens() -> None:
    line = "search 'ops1@harbor1.example' failed for xoxb-123-abc and xapp-1-A0-xyz; user U1"
    assert redact(line) == "search '<redacted>' failed for <redacted> and <redacted>; user U1"


def _manifest() -> dict[str, Any]:
    """manifest.yml, parsed."""
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def test_the_manifest_declares_both_commands_events_and_the_scopes_the_code_uses() -> None:
    manifest = _manifest()
    features, settings = manifest["features"], manifest["settings"]
    assert 1 <= len(manifest["display_information"]["name"]) <= 35
    assert len(manifest["display_information"]["description"]) <= 140
    assert 174 <= len(manifest["display_information"]["long_description"]) <= 4000
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True  # Home buttons answer in the app's DM
    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == {"/customers", "/finance"}
    for command in commands.values():
        assert command["description"]
        assert 0 < len(command["usage_hint"]) <= 1000
        assert command["should_escape"] is False
        assert command["url"].endswith("/slack/events")
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_home_opened", "app_mention"}
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write", "app_mentions:read"} <= scopes
    assert scopes <= {"commands", "chat:write", "files:write", "app_mentions:read", "channels:history",
                      "groups:history", "users:read"}


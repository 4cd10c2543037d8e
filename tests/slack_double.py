"""The Slack Web API double used by the tests: bot.local.slack_double plus the pytest fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.local.slack_double import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    VERIFICATION_TOKEN,
    RecordedCall,
    SlackDouble,
    Upload,
    block_action_body,
    event_body,
    sign_slack_request,
    slash_command_body,
    view_action_body,
)

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "VERIFICATION_TOKEN",
    "RecordedCall",
    "SlackDouble",
    "Upload",
    "block_action_body",
    "event_body",
    "sign_slack_request",
    "slack_double_fixture",
    "slash_command_body",
    "view_action_body",
]

@pytest.fixture(name="slack_double")
def slack_double_fixture() -> Iterator[SlackDouble]:
    """The `slack_double` fixture: a running SlackDouble per test (import this into conftest.py)."""
    with SlackDouble() as double:
        yield double

"""App Home over the real server: today's figures with a 12-week trend, and a workspace that refuses data tables."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e_bot import ADMIN, Bot
from tests.slack_double import event_body


def _published(bot: Bot, count: int = 1) -> dict[str, Any]:
    """The view of the count-th views.publish call."""
    call = bot.slack.wait_for("views.publish", count=count)
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def test_home_shows_a_twelve_week_trend_with_a_data_table(bot: Bot, customers: None) -> None:
    assert bot.post(event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home"})).status_code == 200
    view = _published(bot)
    assert any(b["type"] == "data_table" for b in view["blocks"])
    assert "Last 12 weeks" in json.dumps(view)


def test_a_workspace_refusing_data_tables_gets_home_without_them_and_is_remembered(
        bot: Bot, customers: None) -> None:
    bot.slack.refuse_blocks("data_table")
    bot.post(event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home"}))
    again = _published(bot, count=2)
    assert not any(b["type"] == "data_table" for b in again["blocks"])
    assert "Last 12 weeks" in json.dumps(again)
    bot.post(event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home"}))
    third = _published(bot, count=3)  # remembered: no refused attempt first
    assert not any(b["type"] == "data_table" for b in third["blocks"])

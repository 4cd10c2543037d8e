"""`/customers trend` over HTTP: charts, Share in channel, and the fallback where Slack refuses chart blocks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from storage.chart_fallbacks import charts_refused
from storage.db import session_scope
from tests.conftest import NOW
from tests.e2e_bot import CHANNEL, MEMBER, Bot, button
from tests.factories import add_customer
from tests.slack_double import TEAM_ID

CHART_TYPES = ("data_visualization", "data_table")


def _kinds(msg: dict[str, Any]) -> list[str]:
    """The block types of a message, in order."""
    return [b["type"] for b in msg["blocks"]]


@pytest.fixture
def history(sqlite_engine: Engine) -> None:
    """Signups every few days over four months, some of them canceled since."""
    with Session(sqlite_engine) as session:
        for i in range(40):
            created = NOW - timedelta(days=3 * i + 1)
            canceled = created + timedelta(days=2) if i % 5 == 0 else None
            add_customer(session, f"Org {i}", email=f"o{i}@org{i}.example", seats=i % 20,
                         status="canceled" if canceled else "active", created_at=created, canceled_at=canceled)


def _refused(engine: Engine) -> bool:
    """True when the workspace is remembered as refusing chart blocks."""
    with session_scope(engine) as session:
        return charts_refused(session=session, team_id=TEAM_ID, now=NOW)


@pytest.mark.usefixtures("history")
def test_a_trend_answers_with_bars_a_line_and_the_figures_in_words(bot: Bot) -> None:
    assert bot.command("/customers", "trend", user=MEMBER).status_code == 200
    msg = bot.slack.wait_for_response("r1")
    assert _kinds(msg).count("data_visualization") == 2
    assert msg["text"].startswith("Customers trend · last 90d: 31 new, 7 churned, net +24")
    bars = next(b for b in msg["blocks"] if b["type"] == "data_visualization")
    assert [s["name"] for s in bars["chart"]["series"]] == ["New", "Churned"]
    assert len(bars["chart"]["axis_config"]["categories"]) == 14  # weeks


@pytest.mark.usefixtures("history")
def test_filters_narrow_a_trend_and_bad_ones_get_a_specific_message(bot: Bot) -> None:
    bot.command("/customers", "trend 12m seats:>10 status:active", name="f")
    msg = bot.slack.wait_for_response("f")
    assert "seats:&gt;10 status:active" in msg["text"] or "seats:>10 status:active" in msg["text"]
    assert ": 16 new, 0 churned" in msg["text"]
    bot.command("/customers", "trend 90d acme", name="bad")
    assert "not search words" in bot.slack.wait_for_response("bad")["text"]
    bot.command("/customers", "trend 6h", name="hours")
    assert "shorter than a trend's smallest bar" in bot.slack.wait_for_response("hours")["text"]


@pytest.mark.usefixtures("history")
def test_share_in_channel_posts_the_trend_without_emails_or_buttons(bot: Bot) -> None:
    bot.command("/customers", 'trend 30d "o1@org1.example"', name="typo")
    assert "not search words" in bot.slack.wait_for_response("typo")["text"]
    bot.command("/customers", "trend 30d status:active,canceled")
    msg = bot.slack.wait_for_response("r1")
    bot.click(button(msg, "trend_share"))
    posted = bot.slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == CHANNEL
    assert "data_visualization" in _kinds(posted.params)
    assert "actions" not in _kinds(posted.params)
    assert "Shared by <@UADMIN>" in str(posted.params["blocks"])


@pytest.mark.usefixtures("history")
def test_a_workspace_refusing_charts_gets_text_and_a_table_and_is_remembered(bot: Bot) -> None:
    bot.slack.refuse_blocks(*CHART_TYPES)
    bot.command("/customers", "trend 90d")
    msg = bot.slack.wait_for_response("r1")  # the refused attempt is never shown; this is the second one
    assert not set(_kinds(msg)) & set(CHART_TYPES)
    assert "table" in _kinds(msg)
    assert msg["text"].startswith("Customers trend · last 90d: 31 new")
    assert _refused(bot.engine)
    bot.click(button(msg, "trend_share"))
    posted = bot.slack.wait_for("chat.postMessage")
    assert posted.ok  # remembered: the share went without charts at once, no refused attempt first
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert "table" in _kinds(posted.params)


@pytest.mark.usefixtures("history")
def test_a_refused_web_api_post_is_sent_again_without_charts(bot: Bot) -> None:
    bot.command("/customers", "trend 90d")
    msg = bot.slack.wait_for_response("r1")
    bot.slack.refuse_blocks(*CHART_TYPES)
    bot.click(button(msg, "trend_share"))
    retried = bot.slack.wait_for("chat.postMessage", count=2)
    first = bot.slack.calls_to("chat.postMessage")[0]
    assert first.error == "invalid_blocks"
    assert retried.ok
    assert "table" in _kinds(retried.params)
    assert _refused(bot.engine)

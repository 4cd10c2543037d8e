"""The daily digest's 14-day signups and churn chart, and the digest without it where Slack refuses chart blocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.app import make_client
from bot.deps import Deps
from handlers.blocks.limits import validate_message
from storage.chart_fallbacks import charts_refused
from storage.db import session_scope
from tests.factories import add_customer
from tests.handlers.digests.test_posting import DigestSlack, add_subscription, berlin, make_deps, tick_at
from tests.slack_double import TEAM_ID


@pytest.fixture
def slack() -> Iterator[DigestSlack]:
    """The digest tests' Slack double."""
    with DigestSlack() as double:
        yield double


@pytest.fixture
def deps(sqlite_engine: Engine, slack: DigestSlack) -> Deps:
    """Deps aimed at the double."""
    return make_deps(sqlite_engine, slack)


@pytest.fixture
def client(deps: Deps) -> WebClient:
    """The app's WebClient."""
    return make_client(deps)


def _signups(deps: Deps) -> None:
    """Two signups a day over the last three weeks, one of them canceled a day later."""
    with session_scope(deps.engine, write=True) as session:
        for day in range(21):
            created = datetime(2026, 11, 24, 6, tzinfo=UTC) - timedelta(days=day)
            add_customer(session, f"Org {day}a", seats=2, created_at=created)
            add_customer(session, f"Org {day}b", seats=1, status="canceled", created_at=created,
                         canceled_at=created + timedelta(days=1) if day else created + timedelta(hours=1))


def test_the_digest_carries_fourteen_days_of_signups_and_churn_as_bars(deps: Deps, client: WebClient,
                                                                       slack: DigestSlack) -> None:
    _signups(deps)
    add_subscription(deps)
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    [post] = slack.posts("C1")
    validate_message(post.params)
    chart = next(b for b in post.params["blocks"] if b["type"] == "data_visualization")
    assert chart["title"] == "Signups and churn, last 14 days"
    new, churned = chart["chart"]["series"]
    assert chart["chart"]["axis_config"]["categories"][-1] == "Nov 24"
    assert [p["value"] for p in new["data"]] == [2] * 14
    assert [p["value"] for p in churned["data"]][-3:] == [1, 1, 2]
    words = " ".join(e["text"] for b in post.params["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "new 2, 2, 2" in words


def test_a_workspace_refusing_charts_gets_the_digest_without_the_chart(deps: Deps, client: WebClient,
                                                                       slack: DigestSlack) -> None:
    _signups(deps)
    add_subscription(deps)
    slack.refuse_blocks("data_visualization", "data_table")
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    [post] = slack.posts("C1")
    validate_message(post.params)
    assert "data_visualization" not in [b["type"] for b in post.params["blocks"]]
    assert "table" in [b["type"] for b in post.params["blocks"]]
    assert [c.error for c in slack.calls_to("chat.postMessage")] == ["invalid_blocks", None]
    with session_scope(deps.engine) as session:
        assert charts_refused(session=session, team_id=TEAM_ID, now=datetime(2026, 11, 24, 12, tzinfo=UTC))

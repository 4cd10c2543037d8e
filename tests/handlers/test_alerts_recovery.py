"""A poster that posted and died before recording it: the next poster finds the post and never posts it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.deps import Deps
from bot.settings import Settings
from handlers.alerts_posting import EVENT_TYPE, run_due
from storage.alert_outbox import STALE_AFTER, claim_channel, outbox_counts
from storage.db import session_scope
from tests.conftest import NOW
from tests.handlers.digests.test_posting import DigestSlack
from tests.storage.test_alerts import CHANNEL, customer_event, make_rule, send


@pytest.fixture(name="slack")
def slack_fixture() -> Iterator[DigestSlack]:
    """The Slack double that also serves conversations.history with message metadata."""
    with DigestSlack() as slack:
        yield slack


def test_alerts_a_crashed_poster_already_posted_are_recorded_not_posted_again(
        engine: Engine, slack: DigestSlack) -> None:
    make_rule(engine, "churn")
    send(engine, customer_event("gone", seats=4, at=NOW - timedelta(hours=1)))
    send(engine, customer_event("gone", status="canceled", at=NOW - timedelta(minutes=1)))
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    with session_scope(engine, write=True) as session:  # poster A claims and posts, then dies before recording
        claimed = claim_channel(session=session, channel_id=CHANNEL, now=NOW, worker="A")
    assert claimed is not None
    client.chat_postMessage(channel=CHANNEL, text="1 customer churned",
                            metadata={"event_type": EVENT_TYPE, "event_payload": {"batch": claimed.batch}})
    settings = Settings(slack_api_url=slack.api_url, slack_bot_token=SecretStr("xoxb-test"),
                        database_url=str(engine.url))
    deps = Deps(settings=settings, engine=engine, clock=lambda: NOW)
    later = NOW + STALE_AFTER * 2
    outcomes = run_due(deps, client, now=later, worker="B")
    assert [o.status for o in outcomes] == ["found"]
    assert len(slack.posts(CHANNEL)) == 1  # A's post only
    assert slack.calls_to("conversations.history")
    assert run_due(deps, client, now=later + STALE_AFTER * 2, worker="C") == []
    with session_scope(engine) as session:
        assert set(outbox_counts(session=session)) <= {"posted"}

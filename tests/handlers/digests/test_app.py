"""`/customers digest ...` and the digest's buttons through the real Bolt app, against the Slack double."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
import time_machine
from slack_bolt import App, BoltRequest
from sqlalchemy import Engine

from bot.app import create_app, make_client
from bot.deps import Deps
from handlers.blocks.digest import DIGEST_EXPORT_CHURNED, DIGEST_EXPORT_NEW
from handlers.digests.posting import run_due
from storage.db import session_scope
from storage.digests import active_subscriptions
from tests.factories import add_customer
from tests.handlers.digests.test_posting import ADMIN, DigestSlack, make_deps
from tests.slack_double import block_action_body, sign_slack_request, slash_command_body

SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


@pytest.fixture
def slack() -> Iterator[DigestSlack]:
    with DigestSlack() as double:
        yield double


@pytest.fixture
def deps(sqlite_engine: Engine, slack: DigestSlack) -> Deps:
    return make_deps(sqlite_engine, slack, slack_signing_secret=SECRET, default_timezone="Europe/Berlin")


@pytest.fixture
def app(deps: Deps) -> App:
    return create_app(deps)


def dispatch(app: App, body: bytes) -> int:
    headers: dict[str, str | Sequence[str]] = {**sign_slack_request(body, SECRET), "Content-Type": FORM}
    return app.dispatch(BoltRequest(body=body.decode(), headers=headers)).status


def command(app: App, slack: DigestSlack, text: str, *, user: str = ADMIN, channel: str = "C1") -> str:
    name = f"r{len(slack.calls)}-{abs(hash(text))}"
    body = slash_command_body("/customers", text, user_id=user, channel_id=channel,
                              response_url=slack.response_url(name))
    assert dispatch(app, body) == 200
    return json.dumps(slack.wait_for_response(name), ensure_ascii=False)


def test_digest_commands_reach_the_digest_handler_and_answer_ephemerally(app: App, slack: DigestSlack,
                                                                         deps: Deps) -> None:
    reply = command(app, slack, "digest subscribe 09:00 Europe/Berlin")
    assert "<#C1> will get the daily digest at 09:00 Europe/Berlin" in reply
    assert '"response_type": "ephemeral"' in reply
    assert "25:00 is not a time; try 09:00 or 17:30" in command(app, slack, "digest subscribe 25:00")
    assert "✅ ok" in command(app, slack, "digest list", user="UMEMBER")
    with session_scope(deps.engine) as session:
        assert [s.channel_id for s in active_subscriptions(session=session)] == ["C1"]


def _post_digest(deps: Deps, slack: DigestSlack) -> str:
    with session_scope(deps.engine, write=True) as session:
        add_customer(session, "Fresh Org", email="boss@fresh.example", seats=2, created_at=NOW.replace(hour=3))
        add_customer(session, "Gone Org", email="gone@gone.example", status="canceled",
                     created_at=datetime(2026, 1, 5, tzinfo=UTC), canceled_at=NOW.replace(hour=4))
    with time_machine.travel(NOW.replace(hour=6), tick=False):  # subscribed before today's 09:00 Berlin
        command(create_app(deps), slack, "digest subscribe 09:00 Europe/Berlin")
    with time_machine.travel(NOW, tick=False):
        run_due(deps, make_client(deps))
    assert len(slack.posts("C1")) == 1
    return str(slack.history["C1"][0]["ts"])


def _button(slack: DigestSlack, action_id: str) -> str:
    [post] = slack.posts("C1")
    for block in post.params["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


def test_a_members_export_click_is_refused_politely(app: App, deps: Deps, slack: DigestSlack) -> None:
    ts = _post_digest(deps, slack)
    body = block_action_body(DIGEST_EXPORT_NEW, _button(slack, DIGEST_EXPORT_NEW), user_id="UMEMBER",
                             channel_id="C1", response_url=slack.response_url("click"), message_ts=ts)
    assert dispatch(app, body) == 200
    refusal = slack.wait_for_response("click")
    assert refusal["replace_original"] is False
    assert f"<@{ADMIN}>" in json.dumps(refusal)
    assert slack.uploads == []


@pytest.mark.parametrize(("action_id", "rows"), [(DIGEST_EXPORT_NEW, "Fresh Org"), (DIGEST_EXPORT_CHURNED, "Gone Org")])
def test_an_admins_export_click_uploads_the_days_csv_into_the_digest_thread(
    app: App, deps: Deps, slack: DigestSlack, action_id: str, rows: str
) -> None:
    ts = _post_digest(deps, slack)
    body = block_action_body(action_id, _button(slack, action_id), user_id=ADMIN, channel_id="C1",
                             response_url=slack.response_url("click"), message_ts=ts)
    with time_machine.travel(NOW, tick=True):
        assert dispatch(app, body) == 200
        slack.wait_for("files.completeUploadExternal", timeout=10)
    [upload] = slack.uploads
    assert (upload.channel_id, upload.thread_ts) == ("C1", ts)
    lines = upload.content.decode().splitlines()
    assert len(lines) == 2
    assert rows in lines[1]

"""End to end over HTTP: every subcommand, buttons and their permissions, mentions, App Home, retries, logs."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from storage.bulk.csv_io import export_customers
from storage.db import session_scope
from storage.query import parse_query
from storage.writes import recent_audit
from tests.conftest import NOW
from tests.e2e_bot import (
    ADMIN,
    CHANNEL,
    FINANCE,
    HTTP,
    MEMBER,
    SECRET,
    Bot,
    button,
    wait_for_audit,
)
from tests.factories import add_customer, add_payment, add_payout
from tests.slack_double import (
    event_body,
    sign_slack_request,
    view_action_body,
)


def _text(msg: object) -> str:
    """Everything a message says, as one string."""
    return json.dumps(msg, ensure_ascii=False)


def _table(msg: dict[str, Any]) -> list[Any]:
    """The rows of a message's table."""
    return list(next(b for b in msg["blocks"] if b["type"] == "table")["rows"])


def _sent(bot: Bot) -> list[str]:
    """The Web API methods the bot called, apart from Bolt's one-off auth.test."""
    return [call.method for call in bot.slack.calls if call.method != "auth.test"]


@pytest.fixture
def churn(sqlite_engine: Engine) -> None:
    """Three cancellations inside the last week (at different times) and one older, plus recent signups."""
    with Session(sqlite_engine) as session:
        for name, days in (("Early Leaver", 6), ("Late Leaver", 1), ("Middle Leaver", 3), ("Old Leaver", 20)):
            add_customer(session, name, seats=2, status="canceled", created_at=NOW - timedelta(days=90),
                         canceled_at=NOW - timedelta(days=days))
        for name, days in (("Fresh One", 2), ("Fresh Two", 5), ("Stale Signup", 12)):
            add_customer(session, name, seats=1, created_at=NOW - timedelta(days=days))


def test_help_and_an_empty_command_show_every_subcommand(bot: Bot) -> None:
    for name, typed in (("empty", ""), ("help", "help")):
        bot.command("/customers", typed, name=name)
        usage = _text(bot.slack.wait_for_response(name))
        for example in ("/customers search acme", "/customers export", "/customers churned"):
            assert example in usage, (typed, example)
    bot.command("/finance", "help", user=FINANCE, name="finance")
    assert "/finance payments" in _text(bot.slack.wait_for_response("finance"))


def test_previous_after_next_returns_to_the_first_page(bot: Bot, customers: None) -> None:
    bot.command("/customers", "search acme")
    first = bot.slack.wait_for_response("r1")
    bot.click(button(first, "page_next"), name="next")
    second = bot.slack.wait_for_response("next")
    bot.click(button(second, "page_prev"), name="prev")
    again = bot.slack.wait_for_response("prev")
    assert _table(again) == _table(first)
    assert "page 1" in again["text"] + _text(again)
    assert "15 customers" in _text(first)
    assert "15 customers · page 2" in _text(second)  # the first page's count, carried in the button


def test_new_and_churned_cover_seven_days_by_default_newest_first(bot: Bot, churn: None) -> None:
    bot.command("/customers", "churned", name="churned")
    churned = _text(bot.slack.wait_for_response("churned"))
    assert "3 customers" in churned
    order = [churned.index(name) for name in ("Late Leaver", "Middle Leaver", "Early Leaver")]
    assert order == sorted(order)  # by cancellation, newest first
    assert "Old Leaver" not in churned
    bot.command("/customers", "new", name="new")
    new = _text(bot.slack.wait_for_response("new"))
    assert new.index("Fresh One") < new.index("Fresh Two")
    assert "Stale Signup" not in new
    bot.command("/customers", "churned 30d", name="month")
    assert "4 customers" in _text(bot.slack.wait_for_response("month"))


def test_a_bad_window_names_the_forms_that_work(bot: Bot) -> None:
    bot.command("/customers", "new 2026-13-45")
    reply = bot.slack.wait_for_response("r1")
    assert reply["response_type"] == "ephemeral"
    assert "2026-13-45 is not a window; try 7d, 30d" in reply["text"]


def test_show_lists_several_matches_and_hints_when_nothing_matches(bot: Bot, customers: None) -> None:
    bot.command("/customers", "show acme", name="many")
    many = _text(bot.slack.wait_for_response("many"))
    assert "Acme 00" in many
    assert "Acme 01" in many
    bot.command("/customers", "show nobody-here.example", name="none")
    none = bot.slack.wait_for_response("none")
    assert "No customer matches 'nobody-here.example'" in none["text"]
    bot.command("/customers", "show", name="empty")
    assert "show needs an organization or email" in bot.slack.wait_for_response("empty")["text"]


def test_churned_export_button_exports_exactly_the_rows_of_the_page(bot: Bot, churn: None) -> None:
    bot.command("/customers", "churned")
    page = bot.slack.wait_for_response("r1")
    bot.click(button(page, "export_csv"), name="export")
    bot.slack.wait_for("files.completeUploadExternal")
    assert "canceled:7d" in bot.slack.calls_to("chat.postMessage")[0].params["text"]
    content = bot.slack.uploads[0].content.decode()
    assert content.count("\r\n") == 1 + 3
    assert "Old Leaver" not in content


def test_the_uploaded_file_is_byte_for_byte_the_streamed_export(bot: Bot, customers: None) -> None:
    bot.command("/customers", "export acme seats:1..2")
    upload_call = bot.slack.wait_for("files.completeUploadExternal")
    expected = io.StringIO(newline="")
    rows = export_customers(engine=bot.engine, query=parse_query("acme seats:1..2", now=NOW), out=expected)
    upload = bot.slack.uploads[0]
    assert upload.content == expected.getvalue().encode("utf-8")
    assert upload.filename == f"customers-{NOW:%Y%m%d-%H%M}.csv"
    parent = bot.slack.calls_to("chat.postMessage")[0]
    assert "thread_ts" not in parent.params  # the parent is a new channel message; the file goes into its thread
    assert parent.result is not None
    assert upload.thread_ts == upload_call.params["thread_ts"] == parent.result["ts"]
    assert upload.channel_id == CHANNEL
    assert rows == 10
    assert wait_for_audit(bot.engine)[0].details["filters"] == "acme seats:1..2"


def test_export_command_is_refused_to_members_and_uploads_nothing(bot: Bot, customers: None) -> None:
    bot.command("/customers", "export", user=MEMBER)
    refusal = bot.slack.wait_for_response("r1")
    assert "admin" in refusal["text"]
    assert "<@UADMIN>" in refusal["text"]
    time.sleep(0.2)
    assert _sent(bot) == []


def test_finance_pages_follow_next_and_a_forwarded_button_is_refused(bot: Bot, customers: None) -> None:
    with Session(bot.engine) as session:
        payer = add_customer(session, "Payer Co", email="billing@payer.example")
        for i in range(12):
            add_payment(session, payer, amount=1000 + i, created_at=NOW - timedelta(days=i + 1))
    bot.command("/finance", "payments payer", user=FINANCE)
    page = bot.slack.wait_for_response("r1")
    assert "12" in page["text"] + _text(page)
    next_button = button(page, "page_next")
    bot.click(next_button, user=MEMBER, name="forwarded")
    assert "finance" in bot.slack.wait_for_response("forwarded")["text"]
    bot.click(next_button, user=FINANCE, name="next")
    second = bot.slack.wait_for_response("next")
    assert second["replace_original"] is True
    assert "$10.11" in _text(second)  # the oldest payment (1011 minor units) is on the second page
    assert "$10.11" not in _text(page)


def test_payouts_list_for_finance_users(bot: Bot) -> None:
    with Session(bot.engine) as session:
        add_payout(session, amount=123_45, status="paid", created_at=NOW - timedelta(days=3))
        add_payout(session, amount=99_00, status="in_transit", created_at=NOW - timedelta(days=1))
    bot.command("/finance", "payouts status:paid", user=ADMIN)
    payouts = _text(bot.slack.wait_for_response("r1"))
    assert "$123.45" in payouts
    assert "$99.00" not in payouts


def test_a_mention_outside_a_thread_posts_a_parent_and_uploads_into_its_thread(bot: Bot, customers: None) -> None:
    event = {"type": "app_mention", "user": ADMIN, "channel": CHANNEL, "text": "<@U0BOT> export status:canceled",
             "ts": "1732430000.000900"}
    assert bot.post(event_body(event)).status_code == 200
    bot.slack.wait_for("files.completeUploadExternal")
    parent = bot.slack.calls_to("chat.postMessage")[0]
    assert "CSV export: 1 customer, status:canceled" in parent.params["text"]
    assert bot.slack.uploads[0].thread_ts not in (None, "1732430000.000900")


def test_a_mention_without_export_gets_help_in_its_thread_and_members_are_refused(bot: Bot) -> None:
    bot.post(event_body({"type": "app_mention", "user": ADMIN, "channel": CHANNEL, "text": "<@U0BOT> hello",
                         "ts": "1732430000.000901"}))
    help_reply = bot.slack.wait_for("chat.postMessage")
    assert help_reply.params["thread_ts"] == "1732430000.000901"
    assert "export" in help_reply.params["text"]
    bot.post(event_body({"type": "app_mention", "user": MEMBER, "channel": CHANNEL, "text": "<@U0BOT> export",
                         "ts": "1732430000.000902", "thread_ts": "1732430000.000800"}))
    refusal = bot.slack.wait_for("chat.postMessage", count=2)
    assert refusal.params["thread_ts"] == "1732430000.000800"
    assert "admin" in refusal.params["text"]
    assert bot.slack.uploads == []


def test_link_buttons_are_only_acknowledged(bot: Bot, customers: None) -> None:
    for action_id in ("open_product", "mailto"):
        response = bot.click({"action_id": action_id, "value": ""}, name=action_id)
        assert response.status_code == 200
    time.sleep(0.2)
    assert bot.slack.responses("open_product") == bot.slack.responses("mailto") == []
    assert _sent(bot) == []


def test_home_buttons_answer_in_a_dm_and_home_export_uploads_into_the_dm(bot: Bot, churn: None) -> None:
    bot.post(view_action_body("home_churned", "", user_id=MEMBER))
    dm = bot.slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == MEMBER
    assert "Late Leaver" in _text(dm.params)
    bot.post(view_action_body("home_export", "", user_id=MEMBER))
    assert "admin" in bot.slack.wait_for("chat.postMessage", count=2).params["text"]
    bot.post(view_action_body("home_export", "", user_id=ADMIN))
    bot.slack.wait_for("files.completeUploadExternal")
    upload = bot.slack.uploads[0]
    parent = bot.slack.calls_to("chat.postMessage")[2]
    assert parent.params["channel"] == ADMIN
    assert upload.channel_id == "D" + ADMIN[1:]  # the DM conversation Slack opened for the user id
    assert upload.content.count(b"\r\n") == 1 + 7


def test_slack_rate_limits_and_server_errors_are_retried(bot: Bot, customers: None) -> None:
    bot.command("/customers", "list")
    page = bot.slack.wait_for_response("r1")
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=0)
    bot.slack.fail_next("chat.postMessage", status=503)
    bot.click(button(page, "share_channel"))
    posted = bot.slack.wait_for(lambda call: call.method == "chat.postMessage" and call.ok, timeout=10)
    assert posted.params["channel"] == CHANNEL
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")] == [429, 503, 200]


def test_the_events_url_answers_slacks_verification_challenge(bot: Bot) -> None:
    body = json.dumps({"token": "t", "challenge": "chal-123", "type": "url_verification"}).encode()
    response = bot.post(body)
    assert response.status_code == 200
    assert "chal-123" in response.text


def test_logs_name_users_and_commands_but_never_customer_emails(
    bot: Bot, customers: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        bot.command("/customers", "show owner1@acme1.example", name="show")
        bot.slack.wait_for_response("show")
        with bot.engine.begin() as conn:
            conn.execute(text("DROP TABLE customer_fts"))
        # no exact match: a substring search through the trigram index, the failing statement holding the email
        bot.command("/customers", "show owner1@acme1.exampl", name="search")
        failure = bot.slack.wait_for_response("search")
    assert "error id:" in failure["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("customers_bot"))
    assert f"user={ADMIN} /customers show" in logged
    assert "error_id=" in logged
    assert "OperationalError" in logged
    assert "owner1@acme1" not in logged
    assert "xoxb-test" not in logged


def test_a_failure_after_a_mention_or_a_home_click_is_told_in_the_thread_or_by_dm(
    bot: Bot, customers: None, caplog: pytest.LogCaptureFixture
) -> None:
    with bot.engine.begin() as conn:
        conn.execute(text("ALTER TABLE customer RENAME TO customer_gone"))  # a real storage failure
    with caplog.at_level(logging.ERROR):
        bot.post(event_body({"type": "app_mention", "user": ADMIN, "channel": CHANNEL, "text": "<@U0BOT> export",
                             "ts": "1732430000.000903", "thread_ts": "1732430000.000700"}))
        in_thread = bot.slack.wait_for("chat.postMessage")
        bot.post(view_action_body("home_new", "", user_id=MEMBER))
        by_dm = bot.slack.wait_for("chat.postMessage", count=2)
    assert in_thread.params["thread_ts"] == "1732430000.000700"
    assert by_dm.params["channel"] == MEMBER
    for call in (in_thread, by_dm):
        error_id = call.params["text"].split("error id: ")[1][:8]
        assert any(error_id in r.getMessage() for r in caplog.records)


def test_a_signed_request_from_long_ago_is_refused_even_with_the_right_secret(bot: Bot) -> None:
    body = event_body({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    headers = sign_slack_request(body, SECRET, timestamp=int(time.time()) - 6 * 60)
    assert bot.post(body, headers=headers).status_code == 401
    assert HTTP.post(f"{bot.url}/slack/events", content=b"", timeout=5).status_code == 401
    assert _sent(bot) == []


def test_export_audit_records_who_what_and_how_many(bot: Bot, customers: None) -> None:
    bot.command("/customers", "export status:active")
    bot.slack.wait_for("files.completeUploadExternal")
    event = wait_for_audit(bot.engine)[0]
    assert (event.actor, event.action) == (ADMIN, "export")
    assert event.details["filters"] == "status:active"
    assert event.details["rows"] == 15
    with session_scope(bot.engine) as session:
        assert len(recent_audit(session=session, action="export")) == 1

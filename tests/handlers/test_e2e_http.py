"""End to end: signed Slack requests to the real HTTP server; assertions on what reached the Slack double."""

from __future__ import annotations

import csv
import io
import json
import logging
import time

import pytest
from sqlalchemy import text

from handlers.blocks.limits import validate_message, validate_view
from storage.bulk.csv_io import EXPORT_HEADER
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
from tests.slack_double import event_body, sign_slack_request, slash_command_body


def test_requests_without_a_valid_signature_are_refused_with_401(bot: Bot) -> None:
    body = slash_command_body("/customers", "list", user_id=ADMIN, channel_id=CHANNEL,
                              response_url=bot.slack.response_url("x"))
    assert bot.post(body, headers={}).status_code == 401
    assert bot.post(body, headers=sign_slack_request(body, "wrong-secret")).status_code == 401
    stale = sign_slack_request(body, SECRET, timestamp=int(time.time()) - 60 * 10)
    assert bot.post(body, headers=stale).status_code == 401
    assert bot.slack.responses("x") == []


def test_health_check_reports_the_database(bot: Bot) -> None:
    response = HTTP.get(f"{bot.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_list_answers_ephemerally_with_a_page_and_next_serves_the_rest(bot: Bot, customers: None) -> None:
    assert bot.command("/customers", "list status:active").status_code == 200
    first = bot.slack.wait_for_response("r1")
    validate_message(first)
    assert first["response_type"] == "ephemeral"
    assert "15 customers" in json.dumps(first)
    assert bot.click(button(first, "page_next")).status_code == 200
    second = bot.slack.wait_for_response("c1")
    validate_message(second)
    assert second["replace_original"] is True
    table = next(b for b in second["blocks"] if b["type"] == "table")
    assert len(table["rows"]) == 1 + 5  # header + the last five
    button(second, "page_prev")


def test_a_typo_gets_a_specific_ephemeral_message(bot: Bot) -> None:
    bot.command("/customers", "list seats:abc")
    reply = bot.slack.wait_for_response("r1")
    assert reply["response_type"] == "ephemeral"
    assert "seats:abc is not a number; try seats:1, seats:>10 or seats:5..20" in reply["text"]


def test_finance_is_refused_to_members_and_shown_to_finance_users(bot: Bot, customers: None) -> None:
    bot.command("/finance", "balance", user=MEMBER, name="member")
    refusal = bot.slack.wait_for_response("member")
    assert "finance" in refusal["text"]
    assert "<@UADMIN>" in refusal["text"]
    bot.command("/finance", "balance", user=FINANCE, name="fin")
    balance = bot.slack.wait_for_response("fin")
    validate_message(balance)
    assert "$44.10" in json.dumps(balance)  # 49.00 - 4.90 fee, cleared after 14 days
    assert "payments become payable 14 days after they are made" in json.dumps(balance)


def test_export_posts_a_parent_and_uploads_the_exact_csv_into_its_thread(bot: Bot, customers: None) -> None:
    bot.command("/customers", "export status:canceled")
    bot.slack.wait_for("files.completeUploadExternal")
    parent = bot.slack.calls_to("chat.postMessage")[0]
    assert parent.params["channel"] == CHANNEL
    assert "CSV export: 1 customer, status:canceled, requested by <@UADMIN>" in parent.params["text"]
    upload = bot.slack.uploads[0]
    assert upload.channel_id == CHANNEL
    assert upload.thread_ts is not None
    rows = list(csv.reader(io.StringIO(upload.content.decode())))
    assert rows[0] == EXPORT_HEADER
    assert rows[1][:4] == ["'=HYPERLINK(\"x\")", "gone@evil.example", "1", "canceled"]
    assert upload.content.endswith(b"\r\n")
    assert not bot.slack.calls_to("files.upload")
    audit = wait_for_audit(bot.engine)
    assert audit[0].actor == ADMIN
    assert audit[0].details["rows"] == 1


def test_exports_are_for_admins_even_from_a_forwardedbutton(bot: Bot, customers: None) -> None:
    bot.command("/customers", "list")
    page = bot.slack.wait_for_response("r1")
    bot.click(button(page, "export_csv"), user=MEMBER, name="member")
    refusal = bot.slack.wait_for_response("member")
    assert "admin" in refusal["text"]
    assert bot.slack.uploads == []


def test_a_mention_inside_a_thread_uploads_into_that_thread(bot: Bot, customers: None) -> None:
    event = {"type": "app_mention", "user": ADMIN, "channel": CHANNEL, "text": "<@U0BOT> export seats:2",
             "ts": "1732430000.000900", "thread_ts": "1732430000.000500"}
    assert bot.post(event_body(event)).status_code == 200
    bot.slack.wait_for("files.completeUploadExternal")
    assert bot.slack.uploads[0].thread_ts == "1732430000.000500"
    assert bot.slack.calls_to("chat.postMessage") == []


def test_export_tells_the_user_how_to_invite_the_bot(bot: Bot, customers: None) -> None:
    bot.slack.not_in_channel(CHANNEL)
    bot.command("/customers", "export")
    bot.slack.wait_for_response("r1", count=2)
    assert "/invite @Customers" in bot.slack.responses("r1")[1]["text"]


def test_share_posts_a_copy_without_email_addresses(bot: Bot, customers: None) -> None:
    bot.command("/customers", "search acme")
    page = bot.slack.wait_for_response("r1")
    assert "acme1.example" in json.dumps(page)
    bot.click(button(page, "share_channel"), user=MEMBER)
    shared = bot.slack.wait_for("chat.postMessage")
    validate_message(shared.params)
    assert "@" not in json.dumps(shared.params).replace("<@UMEMBER>", "")


def test_app_home_shows_counts_and_the_balance_only_to_finance_users(bot: Bot, customers: None) -> None:
    bot.post(event_body({"type": "app_home_opened", "user": MEMBER, "tab": "home"}))
    member_view = bot.slack.wait_for("views.publish").params["view"]
    validate_view(member_view)
    assert "Balance" not in json.dumps(member_view)
    bot.post(event_body({"type": "app_home_opened", "user": FINANCE, "tab": "home"}))
    finance_view = bot.slack.wait_for("views.publish", count=2).params["view"]
    assert "Balance" in json.dumps(finance_view)


def test_an_internal_failure_is_an_apology_with_an_error_id_that_is_logged(
    bot: Bot, customers: None, caplog: pytest.LogCaptureFixture
) -> None:
    with bot.engine.begin() as conn:
        conn.execute(text("DROP TABLE customer_fts"))  # a real failure deep in storage, not a mock
    with caplog.at_level(logging.ERROR):
        bot.command("/customers", "show acme")  # no exact match: a substring search through the trigram index
        reply = bot.slack.wait_for_response("r1")
    assert "error id:" in reply["text"]
    error_id = reply["text"].split("error id: ")[1][:8]
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert "Traceback" not in json.dumps(reply)


def test_show_gives_a_card_with_finance_totals_for_finance_users_only(bot: Bot, customers: None) -> None:
    bot.command("/customers", "show gone@evil.example", user=FINANCE, name="fin")
    card = bot.slack.wait_for_response("fin")
    validate_message(card)
    assert "$49.00" in json.dumps(card)
    bot.command("/customers", "show gone@evil.example", user=MEMBER, name="member")
    assert "$49.00" not in json.dumps(bot.slack.wait_for_response("member"))


def test_unknown_subcommand_shows_the_usage(bot: Bot) -> None:
    bot.command("/customers", "frobnicate")
    reply = bot.slack.wait_for_response("r1")
    assert "not a /customers subcommand" in reply["text"]
    assert "/customers search acme" in json.dumps(reply)

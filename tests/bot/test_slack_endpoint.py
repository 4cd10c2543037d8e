"""POST /slack/events verifies before it parses: nothing from an unverified or oversized request reaches Slack."""

from __future__ import annotations

import logging
import time

import pytest

from bot.logs import SafeFormatter
from bot.slack_signature import sign_slack, verify_slack
from tests.e2e_bot import ADMIN, CHANNEL, HTTP, SECRET, Bot
from tests.slack_double import slash_command_body

pytestmark = pytest.mark.usefixtures("customers")


def _attack_body(bot: Bot, text: str = "show ops@quokka.example") -> bytes:
    """A slash command whose response_url is the double's, as an attacker would name any URL."""
    return slash_command_body("/customers", text, user_id=ADMIN, channel_id=CHANNEL,
                              response_url=bot.slack.response_url("attacker"))


def _nothing_reached_slack(bot: Bot) -> None:
    """No Web API call and no response_url post happened."""
    time.sleep(0.2)  # let a wrongly dispatched listener run, if there were one
    assert bot.slack.calls == []
    assert bot.slack.responses("attacker") == []


@pytest.mark.parametrize("stamp", ["abc", "", "1e9", "+1", "1.5", "-1", "99999999999999999999"])
def test_a_malformed_timestamp_is_refused_and_nothing_is_posted(bot: Bot, stamp: str) -> None:
    body = _attack_body(bot)
    answer = bot.post(body, headers={"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=00"})
    assert answer.status_code == 401
    _nothing_reached_slack(bot)


def test_a_future_or_stale_signature_is_refused(bot: Bot) -> None:
    body = _attack_body(bot)
    for skew in (-301, 301, 365 * 86400):
        stamp = str(int(time.time()) + skew)
        headers = {"X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": sign_slack(secret=SECRET, timestamp=stamp, body=body)}
        assert bot.post(body, headers=headers).status_code == 401
    _nothing_reached_slack(bot)


def test_duplicated_signature_headers_are_refused(bot: Bot) -> None:
    body = _attack_body(bot)
    stamp = str(int(time.time()))
    good = sign_slack(secret=SECRET, timestamp=stamp, body=body)
    headers = [("X-Slack-Request-Timestamp", stamp), ("X-Slack-Signature", "v0=bad"), ("X-Slack-Signature", good),
               ("Content-Type", "application/x-www-form-urlencoded")]
    answer = HTTP.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=5)
    assert answer.status_code == 401
    _nothing_reached_slack(bot)


@pytest.mark.parametrize(("body", "content_type"), [
    (b"command=%2Fcustomers&text=help", "application/json"),
    (b"{not json", "application/json"),
    (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00text=\x80", "application/x-www-form-urlencoded"),
])
def test_malformed_bodies_are_a_4xx_never_a_crash(bot: Bot, body: bytes, content_type: str) -> None:
    unsigned = bot.post(body, headers={"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=1"},
                        content_type=content_type)
    assert unsigned.status_code == 401
    signed = bot.post(body, content_type=content_type)
    assert signed.status_code == 400
    _nothing_reached_slack(bot)


def test_bodies_over_the_cap_get_413_signed_or_not(bot: Bot) -> None:
    padded = _attack_body(bot, "list " + "x" * (1024 * 1024))
    assert bot.post(padded).status_code == 413
    assert bot.post(padded, headers={"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=1"}).status_code == 413
    _nothing_reached_slack(bot)


def test_a_refused_request_logs_no_customer_email(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.post(_attack_body(bot), headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                         "X-Slack-Signature": "v0=bad"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "quokka" not in logged
    assert "refused" in logged


def test_verify_slack_never_raises_on_hostile_headers() -> None:
    for headers in ({}, {"x-slack-request-timestamp": "abc"}, {"x-slack-request-timestamp": "1", "x-slack-signature":
                                                                  "v0=é"}):
        assert verify_slack(secret="s", headers=headers, body=b"x", now=1.0) is False
    stamp = "1000"
    headers = {"x-slack-request-timestamp": stamp, "x-slack-signature": sign_slack(secret="s", timestamp=stamp,
                                                                                    body=b"x")}
    assert verify_slack(secret="s", headers=headers, body=b"x", now=1000.0) is True
    assert verify_slack(secret="", headers=headers, body=b"x", now=1000.0) is False


def _formatted(message: str, *args: object) -> str:
    """What the process's log handler writes for one record."""
    record = logging.LogRecord("customers_bot", logging.INFO, __file__, 1, message, args, None)
    return SafeFormatter().format(record)


def test_user_text_cannot_forge_a_log_line() -> None:
    line = _formatted("request %s", "search zzq\n2026-01-01 00:00:00,000 ERROR customers_bot forged-by-a-member")
    assert "\n" not in line
    assert "\\n2026-01-01" in line


def test_logs_mask_emails_plain_or_url_encoded_and_secrets() -> None:
    line = _formatted("body %s", "text=show+ops%40quokka.example billing@marmot.example xoxb-1-2 whsec_abc")
    for secret in ("quokka", "marmot", "xoxb-1", "whsec_abc"):
        assert secret not in line

"""Hostile and flaky traffic on /slack/events, through the real HTTP server: forged, retried and broken requests."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.common import OUT_OF_DATE
from tests.e2e_bot import ADMIN, CHANNEL, FINANCE, MEMBER, Bot, button, wait_for_audit
from tests.slack_double import block_action_body, event_body, sign_slack_request, slash_command_body

pytestmark = pytest.mark.usefixtures("customers")
FAST = settings(max_examples=25, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _retry(bot: Bot, body: bytes, attempt: int) -> int:
    """Deliver `body` again as Slack does after a timeout: the same bytes, a fresh signature, X-Slack-Retry-Num."""
    headers = {**sign_slack_request(body, "e2e-signing-secret"), "X-Slack-Retry-Num": str(attempt),
               "X-Slack-Retry-Reason": "http_timeout"}
    return bot.post(body, headers=headers).status_code


def _payload(body: dict[str, Any]) -> bytes:
    """A form-encoded interaction payload."""
    return urlencode({"payload": json.dumps(body)}).encode()


def _click(bot: Bot, action_id: str, value: Any, *, user: str = ADMIN, name: str = "c1") -> None:
    """A signed click whose value may be anything at all (a forged button)."""
    signed = block_action_body(action_id, "", user_id=user, channel_id=CHANNEL,
                               response_url=bot.slack.response_url(name))
    body = json.loads(parse_qs(signed.decode())["payload"][0])
    body["actions"][0]["value"] = value
    assert bot.post(_payload(body)).status_code == 200


def _acts(bot: Bot) -> list[str]:
    """The Web API calls that do something (Bolt's own auth.test is not one)."""
    return [call.method for call in bot.slack.calls if call.method != "auth.test"]


def _mention(text: str, *, thread: str = "1700000000.000100") -> dict[str, Any]:
    """An app_mention event in a thread, as bolt-python's own test payloads carry it."""
    return {"type": "app_mention", "user": ADMIN, "text": f"<@UBOT> {text}", "ts": "1700000001.000200",
            "thread_ts": thread, "channel": CHANNEL, "event_ts": "1700000001.000200"}


def test_a_mention_export_redelivered_by_slack_uploads_the_csv_once(bot: Bot) -> None:
    body = event_body(_mention("export status:canceled"))
    assert bot.post(body).status_code == 200
    bot.slack.wait_for("files.completeUploadExternal")
    for attempt in (1, 2, 3):
        assert _retry(bot, body, attempt) == 200
    time.sleep(0.3)  # a wrongly repeated export would be uploading by now
    assert len(bot.slack.uploads) == 1
    assert len(wait_for_audit(bot.engine)) == 1


def test_a_retried_export_command_or_click_runs_the_export_once(bot: Bot) -> None:
    command = slash_command_body("/customers", "export status:canceled", user_id=ADMIN, channel_id=CHANNEL,
                                 response_url=bot.slack.response_url("export"))
    assert bot.post(command).status_code == 200
    bot.slack.wait_for("files.completeUploadExternal")
    assert _retry(bot, command, 1) == 200
    bot.command("/customers", "list", name="page")
    click = block_action_body("export_csv", button(bot.slack.wait_for_response("page"), "export_csv")["value"],
                              user_id=ADMIN, channel_id=CHANNEL, response_url=bot.slack.response_url("click"))
    assert bot.post(click).status_code == 200
    bot.slack.wait_for("files.completeUploadExternal", count=2)
    assert _retry(bot, click, 1) == 200
    time.sleep(0.3)
    assert len(bot.slack.uploads) == 2


@pytest.mark.parametrize("value", ["", "{not json", "[1,2,3]", "[" * 5000 + "]" * 5000, '"just a string"',
                                   '{"command":"list","query":"","page_no":"x"}',
                                   '{"command":"list","query":"","after":"' + "A" * 1500 + '"}'])
def test_an_export_button_with_a_tampered_value_says_it_is_out_of_date(bot: Bot, value: str) -> None:
    _click(bot, "export_csv", value)
    reply = bot.slack.wait_for_response("c1")
    assert reply["text"] == OUT_OF_DATE
    assert _acts(bot) == []


def _cursor(value: Any) -> str:
    """A page cursor as our buttons carry it, around any value."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", [
    _cursor(["zzz", 1]), _cursor([{"t": "not a date"}, 1]), _cursor([1, 10**22]), _cursor([True, 1]),
    "12345678901234567890123", base64.urlsafe_b64encode(b"[" * 1400).decode(), "{oops", _cursor(["a\x00b", 1]),
])
def test_page_buttons_with_forged_cursors_say_they_are_out_of_date(bot: Bot, after: str) -> None:
    for command, user in (("list", MEMBER), ("new", MEMBER), ("payments", FINANCE)):
        name = f"{command}-{abs(hash(after))}"
        _click(bot, "page_next", json.dumps({"command": command, "query": "", "after": after}), user=user,
               name=name)
        reply = bot.slack.wait_for_response(name)
        assert reply["text"] == OUT_OF_DATE, (command, reply["text"])


@pytest.mark.parametrize("value", ["{oops", '{"command":"list","query":"","page_no":"x"}', '{"command":"nope"}'])
def test_a_page_button_nobody_made_is_answered_not_a_404(bot: Bot, value: str) -> None:
    _click(bot, "page_prev", value)
    assert bot.slack.wait_for_response("c1")["text"] == OUT_OF_DATE


def test_a_member_clicking_a_forged_export_button_is_refused_before_the_value_is_read(bot: Bot) -> None:
    _click(bot, "export_csv", "[" * 5000, user=MEMBER)
    reply = bot.slack.wait_for_response("c1")
    assert "admin" in reply["text"].lower()
    assert bot.slack.uploads == []


@pytest.mark.parametrize("payload", [
    {"type": "block_actions", "user": {"id": ADMIN}, "actions": []},
    {"type": "block_actions", "user": {"id": ADMIN}, "actions": [{"action_id": "export_csv"}]},
    {"type": "block_actions", "user": {"id": ADMIN}, "actions": [{"action_id": "page_next", "value": 5}]},
    {"type": "block_actions", "user": {"id": ADMIN}, "actions": ["nope"]},
])
def test_broken_interaction_payloads_are_acknowledged_and_nothing_is_posted(
        bot: Bot, payload: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    payload = {**payload, "response_url": bot.slack.response_url("broken"), "channel": {"id": CHANNEL},
               "team": {"id": "T1"}, "trigger_id": "1.2.3"}
    assert bot.post(_payload(payload)).status_code == 200
    time.sleep(0.2)
    assert _acts(bot) == []
    assert bot.slack.responses("broken") == []
    assert not any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize("event", [{"type": "app_home_opened", "tab": "home"},
                                   {"type": "app_mention", "user": ADMIN, "text": "<@UBOT> export", "ts": "1.2"}])
def test_events_missing_who_or_where_are_acknowledged_and_nothing_is_posted(
        bot: Bot, event: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert bot.post(event_body(event)).status_code == 200
    time.sleep(0.2)
    assert _acts(bot) == []
    assert not any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize("text", ["search a\x00b", "search ab\x00", "list seats:" + "9" * 4400, "list seats:١٢",
                                  "new ٣d", "search zzq\n2026-01-01 00:00:00,000 ERROR customers_bot forged"])
def test_hostile_command_text_gets_a_specific_answer_never_an_apology(bot: Bot, text: str) -> None:
    bot.command("/customers", text, name="hostile")
    reply = bot.slack.wait_for_response("hostile")
    assert "error id" not in reply["text"].lower()
    assert "went wrong" not in reply["text"].lower()


@FAST
@given(text=st.text(max_size=200))
def test_any_command_text_is_acknowledged_and_answered_without_a_traceback(bot: Bot, text: str) -> None:
    body = slash_command_body("/customers", text, user_id=ADMIN, channel_id=CHANNEL,
                              response_url=bot.slack.response_url("any"))
    started = time.monotonic()
    answer = bot.post(body)
    assert answer.status_code == 200
    assert time.monotonic() - started < 3
    if not text.strip().lower().startswith("export"):
        reply = bot.slack.wait_for_response("any")
        assert "error id" not in str(reply.get("text", "")).lower()
    bot.slack.reset()


@FAST
@given(body=st.binary(max_size=300) | st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
    st.sampled_from(["type", "event", "actions", "command", "text", "user", "payload", "team", "enterprise",
                     "authorizations", "container", "view", "message", "channel", "response_url", "trigger_id",
                     "user_id", "team_id", "api_app_id", "is_enterprise_install", "event_id"]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                             max_size=3), max_leaves=10))))
def test_any_signed_body_gets_a_2xx_or_4xx_and_an_unsigned_one_a_401(bot: Bot, body: bytes) -> None:
    assert bot.post(body).status_code < 500
    unsigned = bot.post(body, headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                       "X-Slack-Signature": "v0=" + "0" * 64})
    assert unsigned.status_code == 401
    bot.slack.reset()

"""The `digest subscribe` form end to end over HTTP: opened from `digest list`, errors on their fields, subscribes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from bot.local.requests import block_suggestion_body, opened_view, view_submission_body
from handlers.blocks.modal_limits import validate_modal, validate_options
from handlers.blocks.modals import (
    DIGEST_CHANNEL,
    DIGEST_FORM_OPEN,
    DIGEST_OPTIONS,
    DIGEST_TIME,
    DIGEST_ZONE,
    QUIET_SKIP,
)
from handlers.digests.form import matching_zones
from storage.db import session_scope
from storage.digests import active_subscriptions
from storage.writes import recent_audit
from tests.e2e_bot import ADMIN, CHANNEL, MEMBER, Bot, button


def _open_form(bot: Bot, user: str = ADMIN) -> dict[str, Any]:
    """Run `digest list`, press its Set up a digest button; the form it opened (as later payloads carry it)."""
    bot.command("/customers", "digest list", user=user, name=f"list-{user}")
    listed = bot.slack.wait_for_response(f"list-{user}")
    assert bot.click(button(listed, DIGEST_FORM_OPEN), user=user, name="open").status_code == 200
    call = bot.slack.wait_for("views.open")
    validate_modal(call.params["view"])
    assert call.result is not None
    return opened_view(call.result["view"], call.result["view"]["id"])


def _values(*, channel: str | None = CHANNEL, time: str = "08:30", zone: str = "Europe/Berlin",
            quiet: bool = True) -> dict[str, Any]:
    """What the form's inputs hold when it is submitted."""
    option = {"text": {"type": "plain_text", "text": zone}, "value": zone}
    return {
        DIGEST_CHANNEL: {DIGEST_CHANNEL: {"type": "conversations_select", "selected_conversation": channel}},
        DIGEST_TIME: {DIGEST_TIME: {"type": "timepicker", "selected_time": time}},
        DIGEST_ZONE: {DIGEST_ZONE: {"type": "external_select", "selected_option": option}},
        DIGEST_OPTIONS: {DIGEST_OPTIONS: {"type": "checkboxes", "selected_options": (
            [{"text": {"type": "plain_text", "text": "quiet"}, "value": QUIET_SKIP}] if quiet else [])}},
    }


def _subscriptions(engine: Engine) -> list[Any]:
    """The live digest subscriptions."""
    with session_scope(engine) as session:
        return active_subscriptions(session=session)


def test_the_form_opens_on_this_channel_with_the_users_own_zone_first(bot: Bot) -> None:
    bot.slack.set_user(ADMIN, tz="America/Argentina/Buenos_Aires")
    form = _open_form(bot)
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks[DIGEST_CHANNEL]["element"]["initial_conversation"] == CHANNEL
    assert blocks[DIGEST_CHANNEL]["element"]["default_to_current_conversation"] is True
    assert blocks[DIGEST_TIME]["element"]["type"] == "timepicker"
    assert blocks[DIGEST_ZONE]["element"]["initial_option"]["value"] == "America/Argentina/Buenos_Aires"
    assert [c.params["user"] for c in bot.slack.calls_to("users.info")] == [ADMIN]
    answer = bot.post(block_suggestion_body(DIGEST_ZONE, "", user_id=ADMIN, view=form)).json()
    validate_options(answer)
    assert answer["options"][0]["value"] == "America/Argentina/Buenos_Aires"
    assert len(answer["options"]) == 100
    berlin = bot.post(block_suggestion_body(DIGEST_ZONE, "berl", user_id=ADMIN, view=form)).json()
    assert [o["value"] for o in berlin["options"]] == ["Europe/Berlin"]


def test_a_bad_time_gets_an_error_on_that_field_and_creates_nothing(bot: Bot, sqlite_engine: Engine) -> None:
    form = _open_form(bot)
    answer = bot.post(view_submission_body(form, _values(time="25:61", zone="Mars/Olympus"), user_id=ADMIN)).json()
    assert answer["response_action"] == "errors"
    assert answer["errors"][DIGEST_TIME] == "25:61 is not a time; try 09:00 or 17:30"
    assert "Mars/Olympus is not a time zone" in answer["errors"][DIGEST_ZONE]
    assert DIGEST_CHANNEL not in answer["errors"]
    dm = bot.post(view_submission_body(form, _values(channel="D0DM"), user_id=ADMIN)).json()
    assert "pick a channel" in dm["errors"][DIGEST_CHANNEL]
    assert _subscriptions(sqlite_engine) == []


def test_a_good_submission_subscribes_the_channel_as_the_command_would(bot: Bot, sqlite_engine: Engine) -> None:
    form = _open_form(bot)
    answer = bot.post(view_submission_body(form, _values(), user_id=ADMIN)).json()
    assert answer["response_action"] == "update"
    validate_modal(answer["view"])
    assert "daily digest at 08:30 Europe/Berlin, quiet days skipped" in json.dumps(answer["view"])
    [sub] = _subscriptions(sqlite_engine)
    assert (sub.channel_id, sub.local_time, sub.timezone, sub.quiet_skip, sub.created_by) == (
        CHANNEL, "08:30", "Europe/Berlin", True, ADMIN)
    with session_scope(sqlite_engine) as session:
        [audit] = recent_audit(session=session, action="digest_subscribe")
    assert audit.actor == ADMIN
    bot.command("/customers", "digest list", user=ADMIN, name="after")
    assert "08:30 Europe/Berlin" in json.dumps(bot.slack.wait_for_response("after"))  # the text command still works


def test_only_admins_get_the_form_and_only_admins_can_submit_it(bot: Bot, sqlite_engine: Engine) -> None:
    bot.command("/customers", "digest list", user=MEMBER, name="member-list")
    assert DIGEST_FORM_OPEN not in json.dumps(bot.slack.wait_for_response("member-list"))
    form = _open_form(bot)  # an admin opened it; a member submits it (a shared screen, a forged payload)
    answer = bot.post(view_submission_body(form, _values(), user_id=MEMBER)).json()
    assert answer["response_action"] == "errors"
    assert "admin" in answer["errors"][DIGEST_CHANNEL]
    assert _subscriptions(sqlite_engine) == []
    forged = {"action_id": DIGEST_FORM_OPEN, "value": "open", "type": "button", "text": {"type": "plain_text",
                                                                                         "text": "x"}}
    bot.click(forged, user=MEMBER, name="forged")
    assert ":lock:" in json.dumps(bot.slack.wait_for_response("forged"))


def test_zones_match_what_is_typed_with_the_users_own_first() -> None:
    assert matching_zones("new york", None) == ["America/New_York"]
    assert matching_zones("", "Asia/Tokyo")[0] == "Asia/Tokyo"
    assert matching_zones("berlin", "Asia/Tokyo") == ["Europe/Berlin"]
    assert len(matching_zones("a", None)) == 100

"""The `alert add` form: it opens for admins, reads back as `alert add` text, and adds the rule as the command does."""

from __future__ import annotations

import json
from typing import Any

from bot.local.requests import opened_view, view_submission_body
from handlers.alert_form import alert_text
from handlers.blocks.alert_form import (
    ALERT_CHANNEL,
    ALERT_FILTERS,
    ALERT_FORM_OPEN,
    ALERT_KIND,
    ALERT_QUIET,
    alert_form,
)
from handlers.blocks.modal_limits import validate_modal
from tests.e2e_bot import ADMIN, CHANNEL, MEMBER, Bot

OPEN = {"action_id": ALERT_FORM_OPEN, "value": "open", "type": "button", "text": {"type": "plain_text", "text": "x"}}


def _values(
    kind: str = "churn", filters: str = " seats:>=20   status:active ", quiet: str = "22:00 - 07:00"
) -> dict[str, Any]:
    """What the form's inputs hold when it is submitted."""
    return {
        ALERT_CHANNEL: {ALERT_CHANNEL: {"type": "conversations_select", "selected_conversation": CHANNEL}},
        ALERT_KIND: {ALERT_KIND: {"type": "static_select", "selected_option": {"value": kind}}},
        ALERT_FILTERS: {ALERT_FILTERS: {"type": "plain_text_input", "value": filters}},
        ALERT_QUIET: {ALERT_QUIET: {"type": "plain_text_input", "value": quiet}},
    }


def test_the_form_fits_and_reads_back_as_alert_add_text() -> None:
    validate_modal(alert_form(channel_id="C1"))
    validate_modal(alert_form(channel_id=None))
    assert alert_text({"state": {"values": _values()}}) == (CHANNEL, "churn seats:>=20 status:active quiet:22:00-07:00")
    assert alert_text({"state": {"values": _values(filters="", quiet="")}}) == (CHANNEL, "churn")


def test_admins_open_it_on_this_channel_and_a_submission_adds_the_rule(bot: Bot) -> None:
    assert bot.click(OPEN, user=ADMIN).status_code == 200
    call = bot.slack.wait_for("views.open")
    validate_modal(call.params["view"])
    assert call.result is not None
    form = opened_view(call.result["view"], call.result["view"]["id"])
    assert json.dumps(form).count(f'"initial_conversation": "{CHANNEL}"') == 1
    bad = bot.post(view_submission_body(form, _values(filters="acme"), user_id=ADMIN)).json()
    assert bad["response_action"] == "errors"
    assert "'acme' is a search word" in bad["errors"][ALERT_FILTERS]
    wrong_kind = bot.post(view_submission_body(form, _values(kind="teleport"), user_id=ADMIN)).json()
    assert "is not an alert kind" in wrong_kind["errors"][ALERT_KIND]
    answer = bot.post(view_submission_body(form, _values(), user_id=ADMIN)).json()
    assert answer["response_action"] == "update"
    validate_modal(answer["view"])
    assert "Alert rule #1 added" in json.dumps(answer["view"])
    refused = bot.post(view_submission_body(form, _values(), user_id=MEMBER)).json()
    assert "admin" in refused["errors"][ALERT_CHANNEL]
    bot.click(OPEN, user=MEMBER, name="member")
    assert ":lock:" in json.dumps(bot.slack.wait_for_response("member"))

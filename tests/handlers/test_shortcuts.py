"""End to end over HTTP: the "Find a customer" shortcut and typeahead, the message look-up, Show card, Home search."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.local.requests import (
    block_suggestion_body,
    message_shortcut_body,
    opened_view,
    shortcut_body,
    view_action_of,
    view_submission_body,
)
from handlers.blocks.modal_limits import validate_modal, validate_options, validate_surface
from handlers.blocks.modals import (
    FIND_SELECT,
    FIND_SHORTCUT,
    HOME_SEARCH,
    LOOKUP_SHORTCUT,
    POST_BLOCK,
    POST_SELECT,
    SHOW_CUSTOMER,
)
from tests.conftest import NOW
from tests.e2e_bot import ADMIN, CHANNEL, FINANCE, MEMBER, Bot
from tests.factories import add_customer, add_payment

OTHER_CHANNEL = "C0SALES"


@pytest.fixture
def quokka(sqlite_engine: Engine) -> int:
    """Quokka Robotics (with a payment), a few neighbours, and a customer at another domain."""
    with Session(sqlite_engine) as session:
        quokka = add_customer(session, "Quokka Robotics", email="ops@quokka.example", seats=12,
                              created_at=NOW - timedelta(days=200))
        add_payment(session, quokka, amount=129_900, created_at=NOW - timedelta(days=3))
        add_customer(session, "Quokkaville Bakery", email="hello@bakery.example", seats=2)
        add_customer(session, "Acme Corp", email="it@acme.example", seats=5)
        add_customer(session, "Initech Labs", email="lumbergh@initech.example", seats=40)
        return quokka.id or 0


def _payload(body: bytes) -> dict[str, Any]:
    """The JSON payload of a form-encoded interaction body."""
    loaded: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return loaded


def _views(bot: Bot, method: str) -> list[dict[str, Any]]:
    """Every view the bot sent with this method, each checked against Block Kit's modal limits."""
    views = [call.params["view"] for call in bot.slack.calls_to(method)]
    for view in views:
        (validate_modal if view["type"] == "modal" else validate_surface)(view)
    return views


def _open_find(bot: Bot, user: str = ADMIN) -> dict[str, Any]:
    """Run the global shortcut; the modal it opened, as Slack would hand it back in later payloads."""
    body = shortcut_body(FIND_SHORTCUT, user_id=user)
    assert bot.post(body).status_code == 200
    call = bot.slack.wait_for("views.open")
    assert call.params["trigger_id"] == _payload(body)["trigger_id"]
    assert call.result is not None
    return opened_view(call.result["view"], call.result["view"]["id"])


def _suggest(bot: Bot, view: dict[str, Any], typed: str, action_id: str = FIND_SELECT) -> list[dict[str, Any]]:
    """What the typeahead answers when `typed` is typed into it."""
    response = bot.post(block_suggestion_body(action_id, typed, user_id=ADMIN, view=view))
    assert response.status_code == 200
    answer = response.json()
    validate_options(answer)
    options: list[dict[str, Any]] = answer["options"]
    return options


def _choose(bot: Bot, view: dict[str, Any], option: dict[str, Any], user: str = ADMIN) -> dict[str, Any]:
    """Pick an option in the typeahead; the modal views.update turned it into."""
    action = {"type": "external_select", "action_id": FIND_SELECT, "selected_option": option}
    assert bot.post(view_action_of(action, user_id=user, view=view)).status_code == 200
    call = bot.slack.wait_for("views.update")
    assert call.params["view_id"] == view["id"]
    assert call.params["hash"] == view["hash"]
    assert call.result is not None
    return opened_view(call.result["view"], view["id"])


def test_the_shortcut_opens_the_typeahead_and_quokk_finds_quokka_robotics(bot: Bot, quokka: int) -> None:
    view = _open_find(bot)
    assert view["callback_id"]
    assert any(b.get("block_id") == FIND_SELECT for b in view["blocks"])
    options = _suggest(bot, view, "quokk")
    labels = [o["text"]["text"] for o in options]
    assert labels[0] == "Quokka Robotics — ops@quokka.example · 12 seats · active"
    assert "Quokkaville Bakery" in labels[1]
    assert options[0]["value"] == str(quokka)
    assert _suggest(bot, view, "zz-nothing") == []
    _views(bot, "views.open")


def test_choosing_a_customer_shows_the_card_with_finance_only_for_finance_users(bot: Bot, quokka: int) -> None:
    view = _open_find(bot, user=MEMBER)
    card = _choose(bot, view, _suggest(bot, view, "quokk")[0], user=MEMBER)
    text = json.dumps(card)
    assert "Quokka Robotics" in text
    assert "ops@quokka.example" in text
    assert "Payments" not in text
    assert card["submit"]["text"] == "Post to channel"
    assert card["private_metadata"] == str(quokka)
    bot.slack.reset()
    view = _open_find(bot, user=FINANCE)
    finance_card = _choose(bot, view, _suggest(bot, view, "quokk")[0], user=FINANCE)
    assert "Payments" in json.dumps(finance_card)
    assert "$1,299.00" in json.dumps(finance_card)
    _views(bot, "views.update")


def test_posting_the_card_sends_it_without_email_or_payments_and_not_in_channel_is_a_field_error(
    bot: Bot, quokka: int
) -> None:
    view = _open_find(bot, user=FINANCE)
    card = _choose(bot, view, _suggest(bot, view, "quokk")[0], user=FINANCE)
    bot.slack.not_in_channel(OTHER_CHANNEL)
    refused = bot.post(view_submission_body(
        card, {POST_BLOCK: {POST_SELECT: {"type": "conversations_select", "selected_conversation": OTHER_CHANNEL}}},
        user_id=FINANCE))
    assert refused.json()["response_action"] == "errors"
    assert "/invite @Customers" in refused.json()["errors"][POST_BLOCK]
    posted = bot.post(view_submission_body(
        card, {POST_BLOCK: {POST_SELECT: {"type": "conversations_select", "selected_conversation": CHANNEL}}},
        user_id=FINANCE))
    assert posted.status_code == 200
    assert not posted.content
    call = bot.slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
    shared = json.dumps(call.params)
    assert call.params["channel"] == CHANNEL
    assert "Quokka Robotics" in shared
    assert f"<@{FINANCE}>" in shared
    assert "@quokka.example" not in shared
    assert "Payments" not in shared


def test_the_message_shortcut_finds_the_customers_a_message_names(bot: Bot, quokka: int) -> None:
    text = ("Hi! Forwarding this from <mailto:ops@quokka.example|ops@quokka.example>: they and the folks at "
            "Initech Labs want more seats.")
    body = message_shortcut_body(LOOKUP_SHORTCUT, text, user_id=MEMBER, channel_id=CHANNEL,
                                 response_url=bot.slack.response_url("m1"))
    assert bot.post(body).status_code == 200
    answer = bot.slack.wait_for_response("m1")
    shown = json.dumps(answer)
    assert answer["response_type"] == "ephemeral"
    assert "Quokka Robotics" in shown
    assert "Initech Labs" in shown
    assert "Acme" not in shown
    assert shown.index("Quokka Robotics") < shown.index("Initech Labs")  # addresses first, then names
    show = next(b["accessory"] for b in answer["blocks"] if "accessory" in b)
    assert show["action_id"] == SHOW_CUSTOMER
    assert bot.click(show, user=MEMBER, name="s1").status_code == 200
    card = json.dumps(bot.slack.wait_for_response("s1"))
    assert "Seats" in card
    assert "Payments" not in card


def test_the_message_shortcut_names_what_it_looked_for_when_nothing_matches(bot: Bot, quokka: int) -> None:
    body = message_shortcut_body(LOOKUP_SHORTCUT, "Can someone check sam@nowhere.example and Wonka Industries?",
                                 user_id=MEMBER, channel_id=CHANNEL, response_url=bot.slack.response_url("m2"))
    bot.post(body)
    answer = bot.slack.wait_for_response("m2")
    assert answer["text"].startswith("No customer matches")
    assert "sam@nowhere.example" in json.dumps(answer["blocks"])
    assert "Wonka Industries" in answer["text"]


def test_the_home_search_box_shows_matches_beside_the_days_figures(bot: Bot, quokka: int) -> None:
    home = opened_view({"type": "home", "blocks": []}, "V0HOME")
    action = {"type": "plain_text_input", "action_id": HOME_SEARCH, "value": "initech"}
    assert bot.post(view_action_of(action, user_id=MEMBER, view=home)).status_code == 200
    published = bot.slack.wait_for("views.publish").params["view"]
    validate_surface(published)
    shown = json.dumps(published)
    assert "Initech Labs" in shown
    assert "Quokka" not in shown
    assert "Last 7 days" in shown
    show = next(b["accessory"] for b in published["blocks"] if b.get("accessory", {}).get("action_id") == SHOW_CUSTOMER)
    clicked = view_action_of({"type": "button", "action_id": SHOW_CUSTOMER, "value": show["value"]},
                             user_id=MEMBER, view=home)
    assert bot.post(clicked).status_code == 200
    opened = bot.slack.wait_for("views.open").params["view"]
    validate_modal(opened)
    assert "Initech Labs" in json.dumps(opened)


def test_a_second_quick_pick_on_a_stale_modal_keeps_the_newer_card_without_an_apology(bot: Bot, quokka: int) -> None:
    view = _open_find(bot)
    options = _suggest(bot, view, "quokk")
    _choose(bot, view, options[0])
    stale = view_action_of({"type": "external_select", "action_id": FIND_SELECT, "selected_option": options[1]},
                           user_id=ADMIN, view=view)  # still carries the first hash
    assert bot.post(stale).status_code == 200
    conflict = bot.slack.wait_for("views.update", count=2)
    assert conflict.error == "hash_conflict"
    assert bot.slack.calls_to("chat.postMessage") == []

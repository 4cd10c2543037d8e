"""End to end: a repeated question is answered from the cache, but never past a write or across roles."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from tests.conftest import NOW
from tests.e2e_bot import ADMIN, MEMBER, Bot
from tests.factories import add_customer


def _buttons(msg: dict[str, Any]) -> set[str]:
    """The action ids of a message's buttons."""
    return {e.get("action_id", "") for b in msg["blocks"] for e in b.get("elements", []) if e.get("type") == "button"}


def test_a_write_between_two_identical_commands_shows_in_the_second_answer(bot: Bot, customers: None) -> None:
    bot.command("/customers", "list status:active", name="before")
    assert "15 customers" in json.dumps(bot.slack.wait_for_response("before"))
    with Session(bot.engine) as session:
        add_customer(session, "Newco", email="owner@newco.example", created_at=NOW - timedelta(hours=1))
    bot.command("/customers", "list status:active", name="after")
    assert "16 customers" in json.dumps(bot.slack.wait_for_response("after"))


def test_the_same_question_gets_the_buttons_of_the_person_asking(bot: Bot, customers: None) -> None:
    bot.command("/customers", "list", user=ADMIN, name="admin")
    assert "export_csv" in _buttons(bot.slack.wait_for_response("admin"))
    bot.command("/customers", "list", user=MEMBER, name="member")
    assert "export_csv" not in _buttons(bot.slack.wait_for_response("member"))
    bot.command("/finance", "balance", user=MEMBER, name="balance")
    assert "finance" in bot.slack.wait_for_response("balance")["text"]  # the refusal, even after others asked

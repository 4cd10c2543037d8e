"""`/customers digest ...`: permissions, clear messages for bad input, audited changes, list and preview."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.deps import Deps
from bot.settings import Settings
from handlers.blocks.limits import validate_message
from handlers.digests.commands import DigestInputError, handle_command, parse_local_time, parse_subscribe, parse_zone
from storage.db import session_scope
from storage.digests import active_subscriptions
from storage.writes import recent_audit
from tests.conftest import NOW
from tests.factories import add_customer

ADMIN = "UADMIN"


@pytest.fixture
def deps(sqlite_engine: Engine) -> Deps:
    settings = Settings(admin_user_ids=frozenset({ADMIN}), default_timezone="Europe/Berlin",
                        product_url="https://app.example")
    return Deps(settings=settings, engine=sqlite_engine, clock=lambda: NOW)


def _run(deps: Deps, text: str, *, user: str = ADMIN, channel: str = "C1", name: str = "growth") -> str:
    body = {"command": "/customers", "text": text, "user_id": user, "channel_id": channel, "channel_name": name,
            "team_id": "T1"}
    message = handle_command(deps, body)
    validate_message(message)
    return json.dumps(message, ensure_ascii=False)


@pytest.mark.parametrize(("value", "expected"), [("9:00", "09:00"), ("09:00", "09:00"), ("23:59", "23:59"),
                                                 ("0:05", "00:05")])
def test_times_are_read_as_hh_mm(value: str, expected: str) -> None:
    assert parse_local_time(value) == expected


@pytest.mark.parametrize("value", ["25:00", "12:60", "9am", "0900", "9:5"])
def test_a_bad_time_names_itself_and_shows_examples(value: str) -> None:
    with pytest.raises(DigestInputError, match=f"^{value} is not a time; try 09:00 or 17:30$"):
        parse_local_time(value)


def test_zones_are_matched_without_regard_to_case_and_unknown_ones_are_refused() -> None:
    assert parse_zone("europe/berlin") == "Europe/Berlin"
    assert parse_zone("UTC") == "UTC"
    with pytest.raises(DigestInputError) as error:
        parse_zone("Mars/Base")
    assert str(error.value) == "Mars/Base is not a time zone; use an Area/City name like Europe/Berlin"
    with pytest.raises(DigestInputError, match="is not a time zone"):
        parse_zone("../../etc/passwd")
    with pytest.raises(DigestInputError, match=r"Berlin is not a time zone; .* \(did you mean Europe/Berlin\?\)"):
        parse_zone("Berlin")


def test_subscribe_arguments_come_in_any_order_with_defaults() -> None:
    assert parse_subscribe([], default_zone="UTC").__dict__ == {"local_time": "09:00", "timezone": "UTC",
                                                                "quiet_skip": False, "revenue": False}
    parsed = parse_subscribe(["quiet:skip", "Asia/Tokyo", "7:30"], default_zone="UTC")
    assert (parsed.local_time, parsed.timezone, parsed.quiet_skip) == ("07:30", "Asia/Tokyo", True)
    with pytest.raises(DigestInputError, match="quiet:loud is not a quiet-day choice"):
        parse_subscribe(["quiet:loud"], default_zone="UTC")


def test_subscribe_replies_with_the_schedule_and_next_post_and_is_audited(deps: Deps) -> None:
    reply = _run(deps, "digest subscribe 17:30 Europe/Berlin")
    assert "<#C1> will get the daily digest at 17:30 Europe/Berlin, quiet days get one line" in reply
    next_at = datetime(2026, 11, 24, 17, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert f"Next one: <!date^{int(next_at.timestamp())}^" in reply
    reply = _run(deps, "digest subscribe 08:00 quiet:skip")
    assert "<#C1> now gets the daily digest at 08:00 Europe/Berlin, quiet days skipped" in reply
    with session_scope(deps.engine) as session:
        subs = active_subscriptions(session=session)
        audit = recent_audit(session=session, action="digest_subscribe")
        audit_rows = [(a.actor, a.details) for a in audit]
    assert [(s.channel_id, s.local_time, s.quiet_skip) for s in subs] == [("C1", "08:00", True)]
    assert audit_rows[0] == (ADMIN, {"channel": "C1", "time": "08:00", "timezone": "Europe/Berlin",
                                     "quiet_skip": True, "revenue": False, "created": False})
    assert len(audit_rows) == 2


def test_unsubscribe_stops_it_and_is_audited(deps: Deps) -> None:
    _run(deps, "digest subscribe")
    assert "<#C1> will no longer get the daily digest" in _run(deps, "digest unsubscribe")
    assert "has no daily digest; nothing to stop" in _run(deps, "digest unsubscribe")
    with session_scope(deps.engine) as session:
        assert active_subscriptions(session=session) == []
        assert [a.actor for a in recent_audit(session=session, action="digest_unsubscribe")] == [ADMIN]


@pytest.mark.parametrize("text", ["digest subscribe", "digest unsubscribe", "digest subscribe 10:00 UTC"])
def test_changes_need_an_admin_and_the_refusal_says_who_can_grant_it(deps: Deps, text: str) -> None:
    reply = _run(deps, text, user="UMEMBER")
    assert f"<@{ADMIN}>" in reply
    with session_scope(deps.engine) as session:
        assert active_subscriptions(session=session) == []


def test_subscribing_from_a_dm_asks_for_a_channel(deps: Deps) -> None:
    reply = _run(deps, "digest subscribe", channel="D123", name="directmessage")
    assert "run this in the channel that should get them" in reply


@pytest.mark.parametrize(("text", "expected"), [
    ("digest subscribe 25:00", "25:00 is not a time; try 09:00 or 17:30"),
    ("digest subscribe 09:00 Mars/Base", "Mars/Base is not a time zone; use an Area/City name like Europe/Berlin"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(deps: Deps, text: str, expected: str) -> None:
    assert expected in _run(deps, text)
    with session_scope(deps.engine) as session:
        assert active_subscriptions(session=session) == []


def test_members_can_list_subscriptions_with_their_health(deps: Deps) -> None:
    _run(deps, "digest subscribe 09:00 Europe/Berlin")
    _run(deps, "digest subscribe 18:00 America/New_York", channel="C2")
    reply = _run(deps, "digest list", user="UMEMBER")
    assert "<#C1> · daily at 09:00 Europe/Berlin" in reply
    assert "<#C2> · daily at 18:00 America/New_York" in reply
    assert reply.count("✅ ok") == 2


def test_preview_shows_what_the_channel_would_get_now_without_emails(deps: Deps) -> None:
    with session_scope(deps.engine, write=True) as session:
        add_customer(session, "Fresh Org", email="boss@fresh.example", seats=4, created_at=NOW.replace(hour=8))
    reply = _run(deps, "digest preview", user="UMEMBER")
    assert "Preview of what <#C1> would get now" in reply
    assert "Fresh Org" in reply
    assert "boss@fresh.example" not in reply


def test_unknown_digest_subcommands_get_the_usage(deps: Deps) -> None:
    reply = _run(deps, "digest frobnicate")
    assert "/customers digest subscribe [HH:MM] [Area/City] [quiet:skip]" in reply


def _body(text: str) -> dict[str, Any]:
    return {"text": text}


def test_only_digest_commands_are_claimed() -> None:
    from handlers.digests.commands import _is_digest

    assert _is_digest(_body("digest list"))
    assert _is_digest(_body("  Digest subscribe"))
    assert not _is_digest(_body("search digest"))
    assert not _is_digest(_body("digests"))
    assert not _is_digest(_body(""))

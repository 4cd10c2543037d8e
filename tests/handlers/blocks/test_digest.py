"""The digest renderers: inside Block Kit's limits, no email addresses, counts compared with the week."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from handlers.blocks.digest import (
    DIGEST_EXPORT_CHURNED,
    DIGEST_EXPORT_NEW,
    Message,
    broken_notice,
    digest_message,
    export_values,
    preview_message,
    subscriptions_list,
    tenure,
)
from handlers.blocks.limits import validate_message
from storage.digests import DigestContent, Org, Subscription, digest_content
from storage.query import parse_query
from tests.conftest import NOW
from tests.factories import add_customer

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 24)


def _org(name: str, *, seats: int = 3, status: str = "active", days: int = 0, added: int = 0) -> Org:
    created = NOW - timedelta(days=days, hours=1)
    canceled = NOW - timedelta(hours=1) if status == "canceled" else None
    return Org(organization=name, seats=seats, status=status, created_at=created, canceled_at=canceled, added=added)


def _content(*, new: int = 3, churned: int = 1, name: str = "Acme", **extra: object) -> DigestContent:
    fields: dict[str, object] = dict(
        since=NOW - timedelta(hours=24), until=NOW,
        new_total=new, new=[_org(f"{name} {i}") for i in range(min(new, 10))], new_week=66,
        churned_total=churned, churned=[_org(f"{name} gone {i}", status="canceled", days=250)
                                        for i in range(min(churned, 10))], churned_week=7,
        zero_seat_total=0, zero_seat=[], grown_total=0, grown=[], one_seat_total=0, one_seat=[],
        active_customers=1234, active_seats=5678)
    fields.update(extra)
    return DigestContent(**fields)  # type: ignore[arg-type]


def _render(content: DigestContent, product_url: str = "https://app.example/admin") -> Message:
    return digest_message(content, local_day=DAY, tz=BERLIN, product_url=product_url, exports=export_values(content))


def _text(message: Message) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_a_busy_day_shows_counts_against_the_seven_day_average_and_net_change() -> None:
    message = _render(_content(new=12, churned=3))
    validate_message(message)
    text = _text(message)
    assert "Daily digest · Tuesday 24 November 2026" in text
    assert "12 (7-day avg 9.4)" in text
    assert "3 (7-day avg 1.0)" in text
    assert "+9 (7-day avg +8.4)" in text
    assert "+2 more" in text  # 12 signups, 10 listed
    assert "customer for 8 months" in text
    assert "1,234 active customers · 5,678 seats" in text
    assert message["text"] == "Daily digest 2026-11-24: 12 new, 3 churned (net +9)"


def test_signals_name_the_orgs_to_nudge() -> None:
    content = _content(zero_seat_total=7, zero_seat=[_org(f"Empty {i}", seats=0) for i in range(7)],
                       grown_total=1, grown=[_org("Grower", seats=9, added=7)],
                       one_seat_total=300, one_seat=[_org(f"Solo {i}", seats=1) for i in range(10)])
    text = _text(_render(content))
    assert "*7* new orgs with 0 seats _(onboarding nudge)_: Empty 0, Empty 1, Empty 2, Empty 3, Empty 4 +2 more" in text
    assert "Grower (+7)" in text
    assert "case-study candidates" in text
    assert "*300* orgs that joined a week ago still on 1 seat _(add-teammates nudge)_" in text
    assert "+295 more" in text


def test_export_buttons_carry_queries_for_exactly_the_digest_window() -> None:
    message = _render(_content())
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    by_id = {e["action_id"]: e for e in actions["elements"]}
    assert {DIGEST_EXPORT_NEW, DIGEST_EXPORT_CHURNED} <= set(by_id)
    assert by_id["digest_open_product"]["url"] == "https://app.example/admin"
    signups = parse_query(by_id[DIGEST_EXPORT_NEW]["value"], now=NOW)
    churn = parse_query(by_id[DIGEST_EXPORT_CHURNED]["value"], now=NOW)
    assert (signups.created.since, signups.created.until) == (NOW - timedelta(hours=24), NOW)
    assert (churn.canceled.since, churn.canceled.until) == (NOW - timedelta(hours=24), NOW)


def test_no_product_url_means_no_open_product_button_and_no_churn_means_no_churn_export() -> None:
    message = _render(_content(churned=0), product_url="")
    ids = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [DIGEST_EXPORT_NEW]


def test_a_quiet_day_is_one_short_line() -> None:
    message = _render(_content(new=0, churned=0))
    validate_message(message)
    assert len(message["blocks"]) == 1
    assert "no new signups and no churn" in _text(message)


def test_worst_case_names_stay_inside_block_kit_limits_and_are_escaped() -> None:
    name = "<Evil> & " + "Very Long Organisation Name " * 20
    content = _content(new=5000, churned=5000, name=name,
                       zero_seat_total=10, zero_seat=[_org(name, seats=0) for _ in range(10)],
                       grown_total=10, grown=[_org(name, added=10**6) for _ in range(10)],
                       one_seat_total=10**6, one_seat=[_org(name, seats=1) for _ in range(10)])
    message = _render(content, product_url="https://app.example/" + "x" * 2900)
    validate_message(message)
    assert "<Evil>" not in _text(message)
    assert "&lt;Evil&gt; &amp;" in _text(message)


def test_channel_posts_never_show_email_addresses(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        for i in range(15):
            add_customer(session, f"Org {i}", email=f"owner{i}@org{i}.example", seats=i % 2,
                         created_at=NOW - timedelta(hours=i + 1))
        add_customer(session, "Gone", email="gone@gone.example", status="canceled",
                     created_at=NOW - timedelta(days=99), canceled_at=NOW - timedelta(hours=2))
        content = digest_content(session=session, until=NOW)
    assert "@" not in _text(_render(content))


def test_tenure_reads_naturally() -> None:
    def gone_after(days: float) -> Org:
        return Org("X", 1, "canceled", NOW - timedelta(days=days), NOW)

    assert [tenure(gone_after(d)) for d in (0.5, 1, 5, 45, 250, 400, 1000)] == [
        "under a day", "1 day", "5 days", "1 month", "8 months", "1 year", "2 years"]


def test_preview_is_marked_as_a_preview() -> None:
    message = preview_message(_render(_content()), channel_id="C42")
    validate_message(message)
    assert "Preview of what <#C42> would get now" in _text(message)


def _sub(i: int, *, broken: bool = False) -> Subscription:
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    return Subscription(id=i, channel_id=f"C{i}", local_time="09:00", timezone="Europe/Berlin", quiet_skip=i % 2 == 0,
                        created_by="U1", created_at=at, broken_reason="not_in_channel" if broken else None,
                        broken_at=at if broken else None, last_sent_at=at if i % 3 else None)


def test_the_list_shows_schedule_last_sent_and_health() -> None:
    message = subscriptions_list([_sub(1), _sub(2, broken=True), _sub(3)], tz=BERLIN)
    validate_message(message)
    text = _text(message)
    assert "<#C1> · daily at 09:00 Europe/Berlin, quiet days get one line" in text
    assert "✅ ok" in text
    assert "⚠️ broken: not_in_channel since <!date^" in text
    assert "Last sent: never" in text


def test_a_long_list_stays_inside_the_block_limit() -> None:
    validate_message(subscriptions_list([_sub(i) for i in range(500)], tz=BERLIN))


def test_an_empty_list_says_how_to_subscribe() -> None:
    assert "/customers digest subscribe 09:00 Europe/Berlin" in _text(subscriptions_list([], tz=BERLIN))


def test_the_broken_dm_says_how_to_fix_it() -> None:
    message = broken_notice(channel_id="C9", reason="not_in_channel")
    validate_message(message)
    text = _text(message)
    assert "/invite @Customers" in text
    assert "/customers digest subscribe" in text
    assert "<#C9>" in text

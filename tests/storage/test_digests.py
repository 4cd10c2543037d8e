"""Digest storage on both engines: subscriptions, exactly-once run claims and the digest's content."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import session_scope
from storage.digests import (
    DigestSubscription,
    active_subscriptions,
    claim_run,
    digest_content,
    mark_broken,
    record_failed,
    record_posted,
    run_for,
    subscribe,
    subscription_for_channel,
    taken_days,
    unsubscribe,
)
from storage.writes import CustomerFields, apply_customer
from tests.conftest import NOW
from tests.factories import add_customer

DAY = date(2026, 11, 24)
STALE = timedelta(minutes=10)


def _subscribe(engine: Engine, channel: str = "C1", local_time: str = "09:00", zone: str = "Europe/Berlin",
               user: str = "UADMIN", quiet_skip: bool = False) -> int:
    with session_scope(engine, write=True) as session:
        sub, _ = subscribe(session=session, channel_id=channel, team_id="T1", local_time=local_time, timezone=zone,
                           quiet_skip=quiet_skip, user_id=user, at=NOW)
    return sub.id


def _claim(engine: Engine, sub_id: int, *, now=NOW, worker="w1", day=DAY):
    with session_scope(engine, write=True) as session:
        return claim_run(session=session, subscription_id=sub_id, local_day=day, scheduled_for=NOW, now=now,
                         worker=worker, stale_after=STALE)


def test_subscribing_again_in_a_channel_updates_the_one_subscription(engine: Engine) -> None:
    first = _subscribe(engine)
    again = _subscribe(engine, local_time="17:30", zone="America/New_York", quiet_skip=True)
    assert first == again
    with session_scope(engine) as session:
        subs = active_subscriptions(session=session)
    assert [(s.channel_id, s.local_time, s.timezone, s.quiet_skip) for s in subs] == [
        ("C1", "17:30", "America/New_York", True)]


def test_the_database_refuses_a_second_live_subscription_for_a_channel(engine: Engine) -> None:
    _subscribe(engine)
    with pytest.raises(IntegrityError), session_scope(engine, write=True) as session:
        session.add(DigestSubscription(channel_id="C1", local_time="10:00", timezone="UTC", created_by="U",
                                       created_at=NOW, updated_by="U", updated_at=NOW))


def test_unsubscribe_turns_it_off_and_resubscribing_revives_the_same_row(engine: Engine) -> None:
    sub_id = _subscribe(engine)
    with session_scope(engine, write=True) as session:
        assert unsubscribe(session=session, channel_id="C1", user_id="U2", at=NOW) is not None
        assert unsubscribe(session=session, channel_id="C1", user_id="U2", at=NOW) is None
        assert subscription_for_channel(session=session, channel_id="C1") is None
    assert _subscribe(engine, local_time="08:00", user="U3") == sub_id
    with session_scope(engine) as session:
        sub = subscription_for_channel(session=session, channel_id="C1")
    assert sub is not None
    assert sub.created_by == "U3"
    assert sub.local_time == "08:00"


def test_resubscribing_clears_a_broken_mark(engine: Engine) -> None:
    sub_id = _subscribe(engine)
    with session_scope(engine, write=True) as session:
        assert mark_broken(session=session, subscription_id=sub_id, reason="not_in_channel", at=NOW)
        assert not mark_broken(session=session, subscription_id=sub_id, reason="not_in_channel", at=NOW)
    _subscribe(engine)
    with session_scope(engine) as session:
        sub = subscription_for_channel(session=session, channel_id="C1")
    assert sub is not None
    assert sub.broken_at is None
    assert sub.broken_reason is None


def test_only_the_first_claim_of_a_day_wins(engine: Engine) -> None:
    sub_id = _subscribe(engine)
    first = _claim(engine, sub_id, worker="a")
    assert first is not None
    assert first.attempt == 1
    assert not first.recovered
    assert _claim(engine, sub_id, worker="b") is None
    assert _claim(engine, sub_id, worker="c", now=NOW + STALE - timedelta(seconds=1)) is None
    assert _claim(engine, sub_id, day=DAY + timedelta(days=1)) is not None


def test_a_stale_claim_is_taken_over_once_and_fences_the_old_worker(engine: Engine) -> None:
    sub_id = _subscribe(engine)
    old = _claim(engine, sub_id, worker="crashed")
    assert old is not None
    later = NOW + STALE + timedelta(seconds=1)
    new = _claim(engine, sub_id, worker="rescuer", now=later)
    assert new is not None
    assert new.recovered
    assert new.attempt == 2
    assert _claim(engine, sub_id, worker="third", now=later) is None
    with session_scope(engine, write=True) as session:
        assert not record_posted(session=session, claim=old, subscription_id=sub_id, message_ts="1.1", at=later)
        assert record_posted(session=session, claim=new, subscription_id=sub_id, message_ts="2.2", at=later)
    with session_scope(engine) as session:
        run = run_for(session=session, subscription_id=sub_id, local_day=DAY)
        sub = subscription_for_channel(session=session, channel_id="C1")
    assert run is not None
    assert (run.status, run.message_ts, run.claimed_by) == ("posted", "2.2", "rescuer")
    assert sub is not None
    assert sub.last_sent_at == later
    assert _claim(engine, sub_id, now=later + timedelta(hours=1)) is None


def test_a_failed_run_is_retried_only_after_its_retry_time_and_never_when_given_up(engine: Engine) -> None:
    sub_id = _subscribe(engine)
    claim = _claim(engine, sub_id)
    assert claim is not None
    with session_scope(engine, write=True) as session:
        record_failed(session=session, claim=claim, error="ratelimited", retry_at=NOW + timedelta(minutes=2))
    assert _claim(engine, sub_id, now=NOW + timedelta(minutes=1)) is None
    retry = _claim(engine, sub_id, now=NOW + timedelta(minutes=2))
    assert retry is not None
    assert retry.recovered
    assert retry.attempt == 2
    with session_scope(engine, write=True) as session:
        record_failed(session=session, claim=retry, error="fatal_error", retry_at=None)
    assert _claim(engine, sub_id, now=NOW + timedelta(days=1)) is None
    with session_scope(engine) as session:
        assert taken_days(session=session, subscription_id=sub_id, since=DAY) == {DAY}


def test_digest_content_counts_the_window_compares_with_the_week_before_and_has_no_emails(
    session: Session,
) -> None:
    until = NOW
    for i in range(12):
        add_customer(session, f"New {i}", seats=i % 3, created_at=until - timedelta(hours=1 + i))
    for i in range(14):
        add_customer(session, f"Last week {i}", seats=2, created_at=until - timedelta(days=2 + i % 6))
    gone = add_customer(session, "Gone Inc", seats=4, status="canceled", created_at=until - timedelta(days=240),
                        canceled_at=until - timedelta(hours=3))
    grower = add_customer(session, "Grower", seats=2, created_at=until - timedelta(days=90))
    apply_customer(session=session, customer=grower, fields=CustomerFields(seats=9), at=until - timedelta(hours=5))
    session.commit()
    add_customer(session, "Too new", seats=1, created_at=until)  # the window is half-open: [until-24h, until)
    for i, seats in enumerate((1, 1, 2)):  # joined a week ago: two still on 1 seat
        add_customer(session, f"Week old {i}", seats=seats, created_at=until - timedelta(days=7, hours=2))
    add_customer(session, "Week old gone", seats=1, status="canceled", created_at=until - timedelta(days=7, hours=3),
                 canceled_at=until - timedelta(days=2))
    content = digest_content(session=session, until=until)
    assert (content.new_total, len(content.new), content.new_week) == (12, 10, 14 + 4)
    assert content.new[0].organization == "New 0"
    assert (content.churned_total, [o.organization for o in content.churned]) == (1, ["Gone Inc"])
    assert content.churned[0].canceled_at == gone.canceled_at
    assert content.zero_seat_total == 4
    assert [(o.organization, o.added) for o in content.grown] == [("Grower", 7)]
    assert (content.one_seat_total, {o.organization for o in content.one_seat}) == (2, {"Week old 0", "Week old 1"})
    assert content.active_customers == 12 + 14 + 1 + 1 + 3
    assert not content.quiet
    assert "@" not in repr(content)


def test_digest_content_of_an_empty_day_is_quiet(session: Session) -> None:
    add_customer(session, "Old", created_at=NOW - timedelta(days=40))
    content = digest_content(session=session, until=NOW)
    assert content.quiet
    assert content.active_customers == 1
    assert content.active_seats == 3


def test_the_migration_can_be_undone_and_redone(engine: Engine) -> None:
    from alembic import command

    from storage.db import alembic_config, upgrade

    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customer")).scalar_one() == 0
    upgrade(engine)
    assert _subscribe(engine) == 1

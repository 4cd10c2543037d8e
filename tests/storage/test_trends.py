"""Trends from the trigger-kept hourly and daily totals agree with counting the customers, through every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from storage.bulk.load import recount
from storage.models import Customer
from storage.query import QueryError, parse_query
from storage.trends import Trend, bucket_edges, customer_trend
from storage.writes import CustomerFields, apply_customer
from tests.factories import add_customer

NOW = datetime(2026, 11, 24, 12, 34, 56, tzinfo=UTC)  # a Tuesday
FILTERS = ("", "seats:>10", "status:active", "status:canceled", "seats:1..3 status:active,canceled", "seats:0")


def _expected(customers: list[Customer], trend: Trend, filters: str) -> list[tuple[int, int, int]]:
    """(signups, churned, customers at the end) per bucket, counted from the rows themselves."""
    query = parse_query(filters, now=NOW)

    def matches(c: Customer) -> bool:
        return ((not query.statuses or c.status in query.statuses)
                and (query.seats_min is None or c.seats >= query.seats_min)
                and (query.seats_max is None or c.seats <= query.seats_max))

    def canceled_by(c: Customer, at: datetime) -> bool:
        return c.status == "canceled" and c.canceled_at is not None and c.canceled_at < at

    rows = [c for c in customers if matches(c)]
    return [(sum(b.start <= c.created_at < b.end for c in rows),
             sum(c.status == "canceled" and c.canceled_at is not None and b.start <= c.canceled_at < b.end
                 for c in rows),
             sum(c.created_at < b.end and not canceled_by(c, b.end) for c in rows)) for b in trend.buckets]


def _check(session: Session, since: datetime) -> None:
    """Every filter's trend equals the count from the rows."""
    customers = list(session.exec(select(Customer)))
    for filters in FILTERS:
        trend = customer_trend(session=session, query=parse_query(filters, now=NOW), since=since, until=NOW)
        got = [(b.signups, b.churned, b.customers) for b in trend.buckets]
        assert got == _expected(customers, trend, filters), filters


def _seed(session: Session) -> None:
    """Customers over a year, some canceled, at hour edges and mid-hour, in several statuses and seat counts."""
    for i in range(60):
        created = NOW - timedelta(days=i * 6, hours=i % 5, minutes=i * 7 % 60)
        canceled = created + timedelta(days=3 + i % 20) if i % 4 == 0 and created + timedelta(days=3) < NOW else None
        add_customer(session, f"Org {i}", seats=(i * 7) % 15, status="canceled" if canceled else
                     ("active", "trialing", "past_due")[i % 3], created_at=created, canceled_at=canceled)


def test_windows_pick_days_weeks_or_months_and_never_more_than_twenty_buckets() -> None:
    unit, step, edges = bucket_edges(NOW - timedelta(days=7), NOW)
    assert (unit, step, len(edges) - 1) == ("day", 1, 8)
    assert edges[0] == datetime(2026, 11, 17, tzinfo=UTC)
    assert edges[-1] == datetime(2026, 11, 25, tzinfo=UTC)
    unit, step, edges = bucket_edges(NOW - timedelta(days=90), NOW)
    assert (unit, step) == ("week", 1)
    assert all(e.weekday() == 0 for e in edges)
    assert len(edges) - 1 == 14
    unit, step, edges = bucket_edges(NOW - timedelta(days=31), NOW)
    assert (unit, step, len(edges) - 1) == ("day", 2, 16)  # 32 days in pairs
    assert edges[-1] == datetime(2026, 11, 25, tzinfo=UTC)  # merged buckets end with today
    unit, step, edges = bucket_edges(datetime(2024, 11, 24, 12, tzinfo=UTC), NOW)
    assert (unit, step, len(edges) - 1) == ("month", 2, 13)
    assert edges[-1] == datetime(2026, 12, 1, tzinfo=UTC)
    assert edges[0] == datetime(2024, 10, 1, tzinfo=UTC)
    for days in range(1, 5 * 365, 7):
        assert len(bucket_edges(NOW - timedelta(days=days), NOW)[2]) - 1 <= 20


def test_trend_counts_agree_with_the_rows_through_inserts_updates_and_deletes(engine: Engine) -> None:
    since = NOW - timedelta(days=365)
    with Session(engine) as session:
        _seed(session)
        _check(session, since)
        _check(session, NOW - timedelta(days=30))
        for c in list(session.exec(select(Customer).where(Customer.seats > 8)))[:5]:
            fields = CustomerFields(organization=c.organization, email=c.email, seats=c.seats + 1, status="canceled",
                                    created_at=c.created_at, canceled_at=NOW - timedelta(days=2))
            apply_customer(session=session, customer=c, fields=fields, at=NOW)
        session.commit()
        _check(session, since)
        victim = session.exec(select(Customer).where(Customer.status == "canceled")).first()
        assert victim is not None
        session.delete(victim)
        session.commit()
        _check(session, since)


def test_a_bulk_recount_rebuilds_the_daily_totals_the_triggers_keep(engine: Engine) -> None:
    with Session(engine) as session:
        _seed(session)
        kept = list(session.connection().execute(text("SELECT * FROM customer_day WHERE signups + cancellations > 0 "
                                                      "ORDER BY day, status, seats")))
        recount(session.connection())
        rebuilt = list(session.connection().execute(text("SELECT * FROM customer_day ORDER BY day, status, seats")))
        assert rebuilt == kept
        assert kept


@pytest.mark.parametrize(("filters", "error"), [
    ("acme", "not search words"),
    ("since:7d", "the window sets"),
    ("canceled:30d", "the window sets"),
    ("sort:-seats", "time order"),
])
def test_filters_a_trend_cannot_count_are_refused_by_name(sqlite_engine: Engine, filters: str, error: str) -> None:
    with Session(sqlite_engine) as session, pytest.raises(QueryError, match=error):
        customer_trend(session=session, query=parse_query(filters, now=NOW), since=NOW - timedelta(days=7), until=NOW)


def test_an_empty_store_has_zero_buckets_and_a_window_past_five_years_is_refused(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        trend = customer_trend(session=session, query=parse_query("", now=NOW), since=NOW - timedelta(days=7),
                               until=NOW)
        assert [(b.signups, b.churned, b.customers) for b in trend.buckets] == [(0, 0, 0)] * 8
        with pytest.raises(QueryError, match="at most 5 years"):
            customer_trend(session=session, query=parse_query("", now=NOW), since=NOW - timedelta(days=6 * 365),
                           until=NOW)

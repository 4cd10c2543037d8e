"""Window counts from the hourly signups and cancellations agree with counting every row, through every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session

from storage.bulk.load import recount
from storage.conditions import kept_count
from storage.customers import count_customers, list_customers, planned_page
from storage.models import Customer
from storage.paging import PageRequest
from storage.plan import Count
from storage.query import Query, parse_query
from storage.writes import CustomerFields, apply_customer
from tests.factories import add_customer

NOW = datetime(2026, 11, 24, 12, 34, 56, 789000, tzinfo=UTC)  # not on the hour: both window ends are partial hours
WINDOWS = ("new 7d", "new 24h", "new 1h", "churned 30d", "churned 7d", "churned 2h", "list since:2026-11-20",
           "list since:2026-11-20 until:2026-11-23", "list until:2026-11-20", "list status:canceled since:3d",
           "list since:7d sort:canceled", "list since:7d status:active",
           # status and seat filters: whole UTC days from the per-(day, status, seats) totals, the partial days counted
           "new 7d seats:1", "new 3d status:active seats:0..1", "churned 30d seats:2", "churned 7d seats:>0",
           "churned 2h seats:1", "list since:2026-11-20 status:active,canceled seats:<2",
           "list until:2026-11-20 seats:0", "churned 30d status:canceled,active", "churned 7d status:active",
           "new 7d status:active,trialing seats:1")


def _query(command_text: str) -> Query:
    """The query a command stands for (`new 7d` is `created:7d`, as the /customers handler builds it)."""
    command, _, rest = command_text.partition(" ")
    if command == "list":
        return parse_query(rest, now=NOW)
    return parse_query(f"{'created' if command == 'new' else 'canceled'}:{rest}", now=NOW)


def _check(session: Session) -> dict[str, int]:
    """Every window's count, asserted equal to paging through its matches."""
    counts = {}
    for name in WINDOWS:
        query = _query(name)
        counted = count_customers(session=session, query=query)
        listed = len(list_customers(session=session, query=query, page=PageRequest(size=100)).items)
        assert counted == listed, name
        counts[name] = counted
    return counts


def test_window_counts_follow_inserts_updates_and_deletes(session: Session) -> None:
    hours = [timedelta(minutes=m) for m in (0, 5, 34, 35, 59, 60, 61, 90, 24 * 60, 24 * 60 + 35, 3 * 24 * 60,
                                             7 * 24 * 60 - 1, 7 * 24 * 60 + 1, 20 * 24 * 60, 40 * 24 * 60)]
    for i, ago in enumerate(hours):
        add_customer(session, f"Org {i}", email=f"o{i}@org{i}.example", created_at=NOW - ago - timedelta(days=1),
                     seats=i % 3)
        add_customer(session, f"Gone {i}", email=f"g{i}@gone{i}.example", status="canceled",
                     created_at=NOW - timedelta(days=60), canceled_at=NOW - ago, seats=(i + 1) % 3)
    add_customer(session, "Exactly now", email="now@now.example", created_at=NOW)
    before = _check(session)
    assert before["churned 30d"] == 14
    gone = session.get(Customer, 2)
    assert gone is not None
    apply_customer(session=session, customer=gone, fields=CustomerFields(status="active"), at=NOW)  # reactivated
    session.commit()
    org = session.get(Customer, 1)
    assert org is not None
    apply_customer(session=session, customer=org, fields=CustomerFields(status="canceled"), at=NOW - timedelta(hours=3))
    session.commit()
    earlier = ("created_at - interval '2 days'" if session.get_bind().dialect.name == "postgresql"
               else "datetime(created_at, '-2 days') || substr(created_at, 20)")  # SQLite keeps the microseconds
    session.execute(text(f"UPDATE customer SET created_at = {earlier} WHERE id % 3 = 0"))
    session.commit()
    after = _check(session)
    assert after != before
    session.delete(org)
    session.commit()
    _check(session)


def test_a_bulk_recount_rebuilds_the_same_hours(session: Session, engine: Engine) -> None:
    for i in range(5):
        add_customer(session, f"Org {i}", email=f"o{i}@org{i}.example", created_at=NOW - timedelta(hours=7 * i),
                     status="canceled" if i % 2 else "active", canceled_at=NOW - timedelta(hours=i) if i % 2 else None)

    def hours() -> list[tuple[str, int, int]]:
        rows = session.execute(text("SELECT hour, signups, cancellations FROM customer_hour "
                                    "WHERE signups <> 0 OR cancellations <> 0 ORDER BY hour"))
        return [(str(h), int(s), int(c)) for h, s, c in rows]

    kept = hours()
    assert sum(s for _, s, _ in kept) == 5
    with engine.connect() as conn:
        recount(conn)
        conn.commit()
    assert hours() == kept


def test_a_bulk_recount_stores_hours_in_hour_order(session: Session, engine: Engine) -> None:
    # A window sums consecutive hours: stored in order they share a few pages (hash order cost PostgreSQL ~75 reads).
    for i in range(40):
        add_customer(session, f"Org {i}", email=f"o{i}@org{i}.example", created_at=NOW - timedelta(hours=(i * 17) % 40))
    with engine.connect() as conn:
        recount(conn)
        conn.commit()
    physical = "ctid" if engine.dialect.name == "postgresql" else "rowid"
    stored = [str(h) for (h,) in session.execute(text(f"SELECT hour FROM customer_hour ORDER BY {physical}"))]
    assert len(stored) == 40
    assert stored == sorted(stored)


def test_a_window_with_status_and_seat_filters_is_counted_from_the_kept_totals(session: Session) -> None:
    add_customer(session, "Gone", email="g@gone.example", status="canceled", seats=5,
                 created_at=NOW - timedelta(days=90), canceled_at=NOW - timedelta(days=3))
    for text_ in ("churned 60d seats:5", "new 90d status:canceled seats:>1", "churned 60d status:canceled,paused"):
        page, plan = planned_page(session=session, query=_query(text_), page=PageRequest())
        assert plan.count is Count.kept, text_
        assert (page.total, page.total_capped) == (1, False)


def test_a_signup_windows_partial_day_is_counted_through_its_status_and_seat_index(session: Session) -> None:
    # (status, seats, created_at) holds the partial day's matches: reading each of its signups tested them one by one
    count = kept_count(session=session, query=_query("new 7d status:active,trialing seats:1"))
    assert count is not None
    sql = str(count.compile(dialect=session.get_bind().dialect))
    assert "customer.seats = " in sql
    assert "customer.status IN " in sql
    assert "coalesce(customer.seats" not in sql

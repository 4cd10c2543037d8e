"""The digest's content: a day's signups and churn, the week before for comparison, signals and totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.customers import status_totals, window_conditions
from storage.models import Customer, SeatChange, Status
from storage.query import Window
from storage.signals import customers_in, new_signups

ONE_SEAT_AFTER_DAYS = 7  # the add-teammates nudge: orgs that joined this many days ago and are still on 1 seat


@dataclass(frozen=True)
class Org:
    """What a channel post may show about an organization (never its email)."""

    organization: str
    seats: int
    status: str
    created_at: datetime
    canceled_at: datetime | None
    added: int = 0


def _org(customer: Customer, added: int = 0) -> Org:
    """Copy the shareable fields of a customer."""
    return Org(organization=customer.organization, seats=customer.seats, status=customer.status,
               created_at=customer.created_at, canceled_at=customer.canceled_at, added=added)


@dataclass(frozen=True)
class DigestContent:
    """Everything one digest shows: the window's signups and churn, the week before for comparison, signals, totals."""

    since: datetime
    until: datetime
    new_total: int
    new: list[Org]
    new_week: int
    churned_total: int
    churned: list[Org]
    churned_week: int
    zero_seat_total: int
    zero_seat: list[Org]
    grown_total: int
    grown: list[Org]
    one_seat_total: int
    one_seat: list[Org]
    active_customers: int
    active_seats: int

    @property
    def quiet(self) -> bool:
        """No signups and no churn in the window."""
        return self.new_total == 0 and self.churned_total == 0


def _churned(session: Session, window: Window, limit: int) -> tuple[int, list[Customer]]:
    """Cancellations in the window: a range of the (status, canceled_at, id) index, counted without the table."""
    conditions = [col(Customer.status) == Status.canceled.value, *window_conditions(col(Customer.canceled_at), window)]
    return customers_in(session=session, conditions=conditions, order=col(Customer.canceled_at).desc(), limit=limit)


def _created_in(session: Session, window: Window, seats: int, limit: int) -> tuple[int, list[Customer]]:
    """Live orgs created in the window with exactly `seats` seats: a range of the (seats, created_at, id) index."""
    conditions = [col(Customer.seats) == seats, *window_conditions(col(Customer.created_at), window),
                  col(Customer.status) != Status.canceled.value]
    return customers_in(session=session, conditions=conditions, order=col(Customer.created_at).desc(), limit=limit)


def _grown(session: Session, window: Window, limit: int) -> tuple[int, list[Org]]:
    """Orgs whose seats grew (net) in the window, biggest growth first, counted in the same pass."""
    added = func.sum(col(SeatChange.new_seats) - col(SeatChange.old_seats))
    rows = session.connection().execute(
        select(col(SeatChange.customer_id), added.label("added"), func.count().over().label("total"))
        .where(*window_conditions(col(SeatChange.at), window))
        .group_by(col(SeatChange.customer_id))
        .having(added > 0)
        .order_by(added.desc(), col(SeatChange.customer_id).desc())
        .limit(limit)).all()
    if not rows:
        return 0, []
    found = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_([r[0] for r in rows])))}
    return int(rows[0][2]), [_org(found[r[0]], int(r[1])) for r in rows if r[0] in found]


def digest_content(*, session: Session, until: datetime, hours: int = 24, limit: int = 10) -> DigestContent:
    """The digest for the `hours` up to `until`, compared with the seven days before that window.

    Every part is an index range over one day (or one week, for the counts), so it stays fast at a million customers.
    """
    since = until - timedelta(hours=hours)
    window = Window(since=since, until=until)
    week = Window(since=since - timedelta(days=7), until=since)
    after = timedelta(days=ONE_SEAT_AFTER_DAYS)
    cohort = Window(since=since - after, until=until - after)
    new_total, new = new_signups(session=session, window=window, limit=limit)
    new_week, _ = new_signups(session=session, window=week, limit=0)
    churned_total, gone = _churned(session, window, limit)
    churned_week, _ = _churned(session, week, 0)
    zero_total, zero = _created_in(session, window, 0, limit)
    one_total, one = _created_in(session, cohort, 1, limit)
    grown_total, grown = _grown(session, window, limit)
    active_customers, active_seats = status_totals(session=session).get(Status.active.value, (0, 0))
    return DigestContent(
        since=since, until=until, new_total=new_total, new=[_org(c) for c in new], new_week=new_week,
        churned_total=churned_total, churned=[_org(c) for c in gone], churned_week=churned_week,
        zero_seat_total=zero_total, zero_seat=[_org(c) for c in zero], grown_total=grown_total, grown=grown,
        one_seat_total=one_total, one_seat=[_org(c) for c in one],
        active_customers=active_customers, active_seats=active_seats,
    )

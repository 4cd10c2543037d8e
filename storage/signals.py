"""Growth and churn signals for the daily digest and the Home tab: a count and the first few orgs of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from storage.customers import window_conditions
from storage.models import Customer, SeatChange, Status
from storage.query import Window


def customers_in(
    *, session: Session, conditions: list[ColumnElement[bool]], order: Any, limit: int
) -> tuple[int, list[Customer]]:
    """Count and the first `limit` customers for a set of conditions (the window queries below)."""
    total = int(session.exec(select(func.count()).select_from(Customer).where(*conditions)).one())
    rows = session.exec(select(Customer).where(*conditions).order_by(order, col(Customer.id).desc()).limit(limit))
    return total, list(rows)


def new_signups(*, session: Session, window: Window, limit: int = 10) -> tuple[int, list[Customer]]:
    """Customers created in the window, newest first."""
    conditions = window_conditions(col(Customer.created_at), window)
    return customers_in(session=session, conditions=conditions, order=col(Customer.created_at).desc(), limit=limit)


def churned(*, session: Session, window: Window, limit: int = 10) -> tuple[int, list[Customer]]:
    """Customers now canceled whose cancellation falls in the window, most recent first."""
    conditions = [col(Customer.status) == Status.canceled.value,
                  *window_conditions(col(Customer.canceled_at), window)]
    return customers_in(session=session, conditions=conditions, order=col(Customer.canceled_at).desc(), limit=limit)


def new_zero_seat_orgs(*, session: Session, window: Window, limit: int = 10) -> tuple[int, list[Customer]]:
    """Orgs created in the window that still have no active members (an onboarding nudge)."""
    conditions = [col(Customer.seats) == 0, col(Customer.status) != Status.canceled.value,
                  *window_conditions(col(Customer.created_at), window)]
    return customers_in(session=session, conditions=conditions, order=col(Customer.created_at).desc(), limit=limit)


def one_seat_orgs(*, session: Session, limit: int = 10) -> tuple[int, list[Customer]]:
    """Live orgs with exactly one seat (an add-teammates nudge), newest first."""
    conditions = [col(Customer.seats) == 1, col(Customer.status) != Status.canceled.value]
    return customers_in(session=session, conditions=conditions, order=col(Customer.created_at).desc(), limit=limit)


@dataclass(frozen=True)
class SeatGrowth:
    """An org whose seat count grew inside a window."""

    customer: Customer
    added: int


def seat_growth(*, session: Session, window: Window, limit: int = 10) -> tuple[int, list[SeatGrowth]]:
    """Orgs whose seats grew in the window (net of changes), biggest growth first."""
    added = func.sum(col(SeatChange.new_seats) - col(SeatChange.old_seats)).label("added")
    grown = (
        select(col(SeatChange.customer_id), added)
        .where(*window_conditions(col(SeatChange.at), window))
        .group_by(col(SeatChange.customer_id))
        .having(added > 0)
        .subquery()
    )
    total = int(session.exec(select(func.count()).select_from(grown)).one())
    rows = session.exec(
        select(Customer, grown.c.added)
        .join(grown, grown.c.customer_id == Customer.id)
        .order_by(grown.c.added.desc(), col(Customer.id).desc())
        .limit(limit)
    )
    return total, [SeatGrowth(customer=c, added=int(n)) for c, n in rows]

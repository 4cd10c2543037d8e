"""Builders for test rows, written through the same storage functions the product uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlmodel import Session

from storage.models import Customer, Payment, Payout
from storage.writes import CustomerFields, apply_customer, find_customer
from tests.conftest import NOW

_ids = count(1)


def add_customer(
    session: Session,
    organization: str = "Acme Corp",
    *,
    email: str | None = None,
    seats: int = 3,
    status: str = "active",
    created_at: datetime | None = None,
    canceled_at: datetime | None = None,
    external_id: str | None = None,
) -> Customer:
    """Insert one customer and commit."""
    n = next(_ids)
    email = email or f"owner{n}@{organization.lower().replace(' ', '')[:20] or 'x'}.example"
    fields = CustomerFields(organization=organization, email=email, seats=seats, status=status,
                            created_at=created_at or NOW - timedelta(days=30), canceled_at=canceled_at,
                            external_id=external_id)
    customer, _ = apply_customer(session=session, customer=find_customer(session=session, external_id=external_id,
                                 email=email), fields=fields, at=created_at or NOW - timedelta(days=30))
    session.commit()
    return customer


def add_payment(
    session: Session,
    customer: Customer,
    *,
    amount: int,
    fee: int = 0,
    currency: str = "USD",
    created_at: datetime,
    refunded_amount: int = 0,
    refunded_at: datetime | None = None,
    external_id: str | None = None,
) -> Payment:
    """Insert one payment and commit."""
    payment = Payment(external_id=external_id or f"py_{next(_ids)}", customer_id=customer.id or 0, amount=amount,
                      currency=currency, fee=fee, created_at=created_at, refunded_amount=refunded_amount,
                      refunded_at=refunded_at)
    session.add(payment)
    session.commit()
    return payment


def add_payout(
    session: Session, *, amount: int, status: str, created_at: datetime, currency: str = "USD",
    arrival_date: datetime | None = None,
) -> Payout:
    """Insert one payout and commit."""
    payout = Payout(external_id=f"po_{next(_ids)}", amount=amount, currency=currency, status=status,
                    created_at=created_at, arrival_date=arrival_date)
    session.add(payout)
    session.commit()
    return payout

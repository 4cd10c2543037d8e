"""Single-row writes shared by imports and live events: customers with seat history, payments, payouts, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEvent, Customer, Payment, Payout, SeatChange, Status
from storage.movements import apply_mrr, paying_mrr
from storage.types import utcnow


@dataclass(frozen=True)
class CustomerFields:
    """The fields a platform or a CSV states about a customer; None means 'not stated'."""

    organization: str | None = None
    email: str | None = None
    seats: int | None = None
    status: str | None = None
    created_at: datetime | None = None
    canceled_at: datetime | None = None
    external_id: str | None = None


def find_customer(
    *, session: Session, external_id: str | None, email: str | None, lock: bool = False
) -> Customer | None:
    """The customer with this external id, else with this email (case-insensitive); `lock` holds its row (PG)."""
    if external_id:
        stmt = select(Customer).where(Customer.external_id == external_id)
        found = session.exec(stmt.with_for_update() if lock else stmt).first()
        if found is not None:
            return found
    if email:
        stmt = select(Customer).where(Customer.email_key == email.strip().lower())
        return session.exec(stmt.with_for_update() if lock else stmt).first()
    return None


def apply_customer(
    *, session: Session, customer: Customer | None, fields: CustomerFields, at: datetime
) -> tuple[Customer, bool]:
    """Create or update a customer; seat changes write history, a cancel sets canceled_at, reactivation clears it.

    Returns the customer and whether anything changed (re-applying the same fields changes nothing).
    """
    if customer is None:
        if not (fields.organization and fields.email):
            raise ValueError("a new customer needs an organization and an email")
        customer = Customer(
            external_id=fields.external_id, organization=fields.organization, email=fields.email,
            email_key=fields.email.lower(), seats=fields.seats or 0, status=fields.status or Status.active.value,
            created_at=fields.created_at or at, updated_at=at,
            canceled_at=_canceled_at(fields.status, fields.canceled_at, None, at),
        )
        session.add(customer)
        session.flush()
        return customer, True
    changes: dict[str, Any] = {}
    for name in ("organization", "email", "seats", "status", "created_at", "external_id"):
        value = getattr(fields, name)
        if value is not None and value != getattr(customer, name):
            changes[name] = value
    if "email" in changes:
        changes["email_key"] = changes["email"].lower()
    status = changes.get("status", customer.status)
    canceled_at = _canceled_at(status, fields.canceled_at, customer.canceled_at, at)
    if canceled_at != customer.canceled_at:
        changes["canceled_at"] = canceled_at
    if not changes:
        return customer, False
    if "seats" in changes:
        session.add(SeatChange(customer_id=customer.id or 0, old_seats=customer.seats, new_seats=changes["seats"],
                               at=at))
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.updated_at = at
    session.add(customer)
    session.flush()
    if "status" in changes and customer.mrr and paying_mrr(customer.status, customer.mrr) == 0:
        apply_mrr(session=session, customer=customer, mrr=0, currency=None, at=at)  # a cancellation churns
    return customer, True


def _canceled_at(
    status: str | None, stated: datetime | None, current: datetime | None, at: datetime
) -> datetime | None:
    """Canceled customers keep (or get) a cancel time; any other status clears it."""
    if status != Status.canceled.value:
        return None
    return stated or current or at


def record_audit(*, session: Session, actor: str, action: str, details: dict[str, Any]) -> AuditEvent:
    """Write an audit event in the caller's transaction."""
    event = AuditEvent(actor=actor, action=action, at=utcnow(), details=details)
    session.add(event)
    return event


def find_payment(*, session: Session, external_id: str, lock: bool = False) -> Payment | None:
    """The payment with this external id; `lock` holds its row until commit (PostgreSQL)."""
    stmt = select(Payment).where(Payment.external_id == external_id)
    return session.exec(stmt.with_for_update() if lock else stmt).first()


def find_payout(*, session: Session, external_id: str, lock: bool = False) -> Payout | None:
    """The payout with this external id; `lock` holds its row until commit (PostgreSQL)."""
    stmt = select(Payout).where(Payout.external_id == external_id)
    return session.exec(stmt.with_for_update() if lock else stmt).first()


@dataclass(frozen=True)
class PaymentFields:
    """What a source states about a payment; None means 'not stated'. Money in minor units."""

    customer_id: int | None = None
    amount: int | None = None
    currency: str | None = None
    fee: int | None = None
    created_at: datetime | None = None
    refunded_amount: int | None = None
    refunded_at: datetime | None = None


def apply_payment(
    *, session: Session, payment: Payment | None, external_id: str, fields: PaymentFields, at: datetime
) -> tuple[Payment, bool]:
    """Create or update a payment; a refund without a stated time is dated `at`, a zero refund has no time."""
    refunded_at = _refunded_at(fields, payment.refunded_at if payment else None, at)
    if payment is None:
        if fields.customer_id is None or fields.amount is None or not fields.currency:
            raise ValueError("a new payment needs a customer, an amount and a currency")
        payment = Payment(
            external_id=external_id, customer_id=fields.customer_id, amount=fields.amount, currency=fields.currency,
            fee=fields.fee or 0, created_at=fields.created_at or at, refunded_amount=fields.refunded_amount or 0,
            refunded_at=refunded_at,
        )
        session.add(payment)
        session.flush()
        return payment, True
    changes = _stated_changes(payment, fields, ("customer_id", "amount", "currency", "fee", "created_at",
                                                "refunded_amount"))
    if refunded_at != payment.refunded_at:
        changes["refunded_at"] = refunded_at
    return payment, _set(session, payment, changes)


def _refunded_at(fields: PaymentFields, current: datetime | None, at: datetime) -> datetime | None:
    """The refund time after applying `fields`: kept, stated, or `at` for a new refund without one."""
    if fields.refunded_amount is None:
        return fields.refunded_at or current
    if fields.refunded_amount == 0:
        return None
    return fields.refunded_at or current or at


@dataclass(frozen=True)
class PayoutFields:
    """What a source states about a payout; None means 'not stated'. Money in minor units."""

    amount: int | None = None
    currency: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    arrival_date: datetime | None = None


def apply_payout(
    *, session: Session, payout: Payout | None, external_id: str, fields: PayoutFields, at: datetime
) -> tuple[Payout, bool]:
    """Create or update a payout; returns it and whether anything changed."""
    if payout is None:
        if fields.amount is None or not fields.currency or not fields.status:
            raise ValueError("a new payout needs an amount, a currency and a status")
        payout = Payout(external_id=external_id, amount=fields.amount, currency=fields.currency, status=fields.status,
                        created_at=fields.created_at or at, arrival_date=fields.arrival_date)
        session.add(payout)
        session.flush()
        return payout, True
    changes = _stated_changes(payout, fields, ("amount", "currency", "status", "created_at", "arrival_date"))
    return payout, _set(session, payout, changes)


def _stated_changes(row: object, fields: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The stated (non-None) fields whose value differs from the row's."""
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(fields, name)
        if value is not None and value != getattr(row, name):
            changes[name] = value
    return changes


def _set(session: Session, row: Payment | Payout, changes: dict[str, Any]) -> bool:
    """Write `changes` onto the row; True when there were any."""
    if not changes:
        return False
    for name, value in changes.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return True


def recent_audit(*, session: Session, action: str | None = None, limit: int = 20) -> list[AuditEvent]:
    """The latest audit events, newest first (optionally of one action)."""
    stmt = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.exec(stmt))

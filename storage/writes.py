"""Single-row writes shared by imports and live events: customers with seat history, payments, payouts, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEvent, Customer, Payment, Payout, SeatChange, Status
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


def find_customer(*, session: Session, external_id: str | None, email: str | None) -> Customer | None:
    """The customer with this external id, else with this email (case-insensitive)."""
    if external_id:
        found = session.exec(select(Customer).where(Customer.external_id == external_id)).first()
        if found is not None:
            return found
    if email:
        return session.exec(select(Customer).where(Customer.email_key == email.strip().lower())).first()
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
        session.add(SeatChange(customer_id=customer.id or 0, old_seats=customer.seats, new_seats=changes["seats"], at=at))
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.updated_at = at
    session.add(customer)
    session.flush()
    return customer, True


def _canceled_at(status: str | None, stated: datetime | None, current: datetime | None, at: datetime) -> datetime | None:
    """Canceled customers keep (or get) a cancel time; any other status clears it."""
    if status != Status.canceled.value:
        return None
    return stated or current or at


def record_audit(*, session: Session, actor: str, action: str, details: dict[str, Any]) -> AuditEvent:
    """Write an audit event in the caller's transaction."""
    event = AuditEvent(actor=actor, action=action, at=utcnow(), details=details)
    session.add(event)
    return event


def find_payment(*, session: Session, external_id: str) -> Payment | None:
    """The payment with this external id."""
    return session.exec(select(Payment).where(Payment.external_id == external_id)).first()


def find_payout(*, session: Session, external_id: str) -> Payout | None:
    """The payout with this external id."""
    return session.exec(select(Payout).where(Payout.external_id == external_id)).first()


def recent_audit(*, session: Session, action: str | None = None, limit: int = 20) -> list[AuditEvent]:
    """The latest audit events, newest first (optionally of one action)."""
    stmt = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.exec(stmt))

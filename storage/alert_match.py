"""What one applied change moved: the rows before (watched, locked) and after, and the alert kinds that makes.

Pure reads in the event's own transaction; storage.alerts turns the movements into outbox rows for matching rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from storage.alert_filters import AlertKind
from storage.event_types import CustomerChange, PaymentChange, PayoutChange, SyncEvent
from storage.models import Customer, Payment, PayoutStatus, Status
from storage.writes import find_customer, find_payment, find_payout

_CANCELED = Status.canceled.value


@dataclass(frozen=True)
class CustomerState:
    """What alerts read of a customer at one moment (never its email: payloads reach channels)."""

    id: int
    organization: str
    external_id: str | None
    seats: int
    status: str
    mrr: int = 0
    currency: str | None = None


def customer_state(row: Customer) -> CustomerState:
    """A customer row's alert-relevant values now."""
    return CustomerState(id=row.id or 0, organization=row.organization, external_id=row.external_id,
                         seats=row.seats, status=row.status, mrr=row.mrr, currency=row.currency)


@dataclass(frozen=True)
class Watched:
    """The rows one event is about, as they were before it was applied (None: not stored yet)."""

    change: CustomerChange | PaymentChange | PayoutChange
    customer: Customer | None
    customer_before: CustomerState | None
    payment_before: tuple[int, int] | None  # (refunded_amount, id)
    payout_before: str | None  # status


def watch(*, session: Session, event: SyncEvent) -> Watched | None:
    """Find and lock the event's rows (customer before payment, as the sync does) and remember their values."""
    change = event.change
    if change is None:
        return None
    customer_change = change if isinstance(change, CustomerChange) else (
        change.customer if isinstance(change, PaymentChange) else None)
    customer = None
    if customer_change is not None:
        customer = find_customer(session=session, external_id=customer_change.external_id,
                                 email=customer_change.email, lock=True)
    payment_before = payout_before = None
    if isinstance(change, PaymentChange):
        payment = find_payment(session=session, external_id=change.external_id, lock=True)
        payment_before = (payment.refunded_amount, payment.id or 0) if payment else None
    if isinstance(change, PayoutChange):
        payout = find_payout(session=session, external_id=change.external_id, lock=True)
        payout_before = payout.status if payout else None
    return Watched(change=change, customer=customer, customer_before=customer_state(customer) if customer else None,
                   payment_before=payment_before, payout_before=payout_before)


def customer_kinds(before: CustomerState | None, after: CustomerState) -> list[AlertKind]:
    """Which customer movements a change from `before` to `after` is (ChartMogul's sense, seats when no MRR)."""
    if before is None:
        return [] if after.status == _CANCELED else [AlertKind.signup]
    if before.status != _CANCELED and after.status == _CANCELED:
        return [AlertKind.churn]
    if before.status == _CANCELED and after.status != _CANCELED:
        return [AlertKind.reactivation]
    if after.status == _CANCELED:
        return []
    if before.mrr > 0 and after.mrr > 0 and before.mrr != after.mrr:
        return [AlertKind.expansion if after.mrr > before.mrr else AlertKind.contraction]
    if before.mrr == after.mrr and before.seats != after.seats:
        return [AlertKind.expansion if after.seats > before.seats else AlertKind.contraction]
    return []


def customer_payload(before: CustomerState | None, after: CustomerState, *, show_mrr: bool) -> dict[str, Any]:
    """What a customer alert shows: organization, seats and status before and after (MRR only when allowed)."""
    payload: dict[str, Any] = {
        "customer_id": after.id, "organization": after.organization, "external_id": after.external_id,
        "seats": [before.seats if before else None, after.seats],
        "status": [before.status if before else None, after.status]}
    if show_mrr:
        payload |= {"mrr": [before.mrr if before else None, after.mrr], "currency": after.currency}
    return payload


@dataclass(frozen=True)
class Fired:
    """One movement of one row: its kind, what the filters test, and what the card shows."""

    kind: AlertKind
    seats: int = 0
    status: str = ""
    mrr: int = 0  # minor units of mrr_currency: what a churn lost, else what the customer pays now
    mrr_currency: str | None = None
    amount: int = 0
    currency: str = ""
    before: CustomerState | None = None
    after: CustomerState | None = None
    payload: dict[str, Any] | None = None


def movements(session: Session, watched: Watched) -> list[Fired]:
    """What the applied change moved: customer movements, a new refund, a payout that failed."""
    fired: list[Fired] = []
    change = watched.change
    customer_change = change if isinstance(change, CustomerChange) else (
        change.customer if isinstance(change, PaymentChange) else None)
    if customer_change is not None:
        row = watched.customer or find_customer(session=session, external_id=customer_change.external_id,
                                                email=customer_change.email)
        if row is not None:
            after, before = customer_state(row), watched.customer_before
            for kind in customer_kinds(before, after):
                tested = before if kind is AlertKind.churn and before is not None else after  # what was lost
                fired.append(Fired(kind=kind, seats=tested.seats, status=tested.status, mrr=tested.mrr,
                                   mrr_currency=tested.currency, before=before, after=after))
    if isinstance(change, PaymentChange):
        payment = find_payment(session=session, external_id=change.external_id)
        refunded_before = watched.payment_before[0] if watched.payment_before else 0
        if payment is not None and payment.refunded_amount > refunded_before:
            fired.append(_refund(session, payment, payment.refunded_amount - refunded_before))
    if isinstance(change, PayoutChange) and watched.payout_before != PayoutStatus.failed.value:
        payout = find_payout(session=session, external_id=change.external_id)
        if payout is not None and payout.status == PayoutStatus.failed.value:
            fired.append(Fired(kind=AlertKind.payout_failed, amount=payout.amount, currency=payout.currency,
                                payload={"payout_id": payout.id, "external_id": payout.external_id,
                                         "amount": payout.amount, "currency": payout.currency,
                                         "arrival_date": payout.arrival_date.isoformat() if payout.arrival_date
                                         else None}))
    return fired


def _refund(session: Session, payment: Payment, amount: int) -> Fired:
    """A refund of `amount` (minor units) on a payment, with its customer's name."""
    org = session.exec(select(Customer.organization).where(col(Customer.id) == payment.customer_id)).first()
    return Fired(kind=AlertKind.refund, amount=amount, currency=payment.currency,
                  payload={"payment_id": payment.id, "customer_id": payment.customer_id, "organization": org,
                           "amount": amount, "payment_amount": payment.amount, "currency": payment.currency})

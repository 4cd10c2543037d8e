"""Stripe webhook events mapped to the store change each asks for; event types we do not sync are ignored.

Only documented fields are read (handlers.webhooks.stripe_objects); errors name the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from handlers.webhooks.fields import Payload, parse
from handlers.webhooks.stripe_mrr import subscription_mrr
from handlers.webhooks.stripe_objects import (
    ADAPTER,
    TAGS,
    Charge,
    Invoice,
    StripeCustomer,
    StripePayout,
    Subscription,
    placeholder_email,
)
from storage.event_types import Change, CustomerChange, EventInvalid, PaymentChange, PayoutChange, SyncEvent
from storage.rules import SEATS_MAX
from storage.writes import CustomerFields, PaymentFields, PayoutFields

__all__ = ["map_stripe_event", "placeholder_email"]
_SUBSCRIPTION_STATUS = {"active": "active", "trialing": "trialing", "past_due": "past_due", "unpaid": "unpaid",
                        "paused": "paused", "incomplete": "incomplete", "incomplete_expired": "canceled",
                        "canceled": "canceled"}
Mapped = tuple[str | None, Change | None, str | None]  # object id, change (None: ignored), note


def map_stripe_event(event: Mapping[str, Any]) -> SyncEvent:
    """Map a verified Stripe event (as a dict) to a store change; types we do not sync are ignored."""
    parsed = parse(ADAPTER, dict(event), tags=TAGS)
    obj = parsed.data.object
    mapper = _MAPPERS.get(type(obj))
    mapped: Mapped = (obj.id, None, "event type is not synced") if mapper is None else mapper(
        obj, parsed.type, parsed.created)
    object_id, change, note = mapped
    if isinstance(obj, Subscription) and isinstance(change, CustomerChange) and change.fields.status is not None:
        # an unknown status states no MRR either (it may be paying)
        mrr, currency = subscription_mrr(event["data"]["object"], deleted=parsed.type.endswith(".deleted"))
        change = replace(change, mrr=mrr, currency=currency)  # applied after the status, in the same transaction
    return SyncEvent(source="stripe", event_id=parsed.id, type=parsed.type, created_at=parsed.created,
                     object_id=object_id, change=change, note=note)


def _customer(obj: StripeCustomer, _kind: str, _created: datetime) -> Mapped:
    """customer.created|updated: the name (or metadata.organization) and the email."""
    email = obj.email or obj.metadata.email
    fields = CustomerFields(organization=obj.metadata.organization or obj.name, email=email)
    defaults = CustomerFields(organization=obj.id, email=placeholder_email(obj.id), seats=0, status="incomplete",
                              created_at=obj.created)
    return obj.id, CustomerChange(external_id=obj.id, email=email, fields=fields, defaults=defaults), None


def _subscription(obj: Subscription, kind: str, _created: datetime) -> Mapped:
    """customer.subscription.*: status and seats (quantity, or the items' quantities) of the subscriber.

    Its MRR (stripe_mrr) is added by map_stripe_event, which holds the raw object the prices are read from.
    """
    if kind.endswith(".deleted"):
        status: str | None = "canceled"
    elif obj.status is None:
        raise EventInvalid("data.object.status is required")
    else:
        status = _SUBSCRIPTION_STATUS.get(obj.status)
    seats = obj.quantity
    if seats is None and obj.items:
        seats = sum(item.quantity or 0 for item in obj.items)
        if seats > SEATS_MAX:
            raise EventInvalid(f"data.object.items quantities must add up to at most {SEATS_MAX}")
    canceled_at = (obj.ended_at or obj.canceled_at) if status == "canceled" else None
    meta = obj.metadata
    fields = CustomerFields(organization=meta.organization, email=meta.email, seats=seats, status=status,
                            canceled_at=canceled_at)
    defaults = CustomerFields(organization=obj.customer, email=placeholder_email(obj.customer),
                              created_at=obj.start_date or obj.created)
    return obj.customer, CustomerChange(external_id=obj.customer, email=meta.email, fields=fields,
                                        defaults=defaults), None


def _payer(customer_id: str) -> CustomerChange:
    """The paying Stripe customer, created with placeholders when unknown (customer.* events fill them in)."""
    return CustomerChange(external_id=customer_id, defaults=CustomerFields(
        organization=customer_id, email=placeholder_email(customer_id), seats=0, status="incomplete"))


def _charge(obj: Charge, kind: str, created: datetime) -> Mapped:
    """charge.succeeded|captured|refunded: what was captured, keyed by the payment intent (else the charge) so
    invoice.paid is the same row."""
    key = obj.payment_intent or obj.id
    if obj.customer is None:
        return key, None, "charge has no Stripe customer"
    captured = obj.amount if obj.amount_captured is None else obj.amount_captured  # older API versions lack it
    if obj.captured is False or captured == 0:
        return key, None, "charge is authorized, not captured; charge.captured records it"
    refunded = obj.amount_refunded or 0
    refunded_at = None
    if kind == "charge.refunded" and refunded:
        refunded_at = max((r.created for r in obj.refunds if r.created is not None), default=created)
    fields = PaymentFields(amount=captured, currency=obj.currency, fee=obj.application_fee_amount or 0,
                           created_at=obj.created, refunded_amount=refunded, refunded_at=refunded_at)
    return key, PaymentChange(external_id=key, customer=_payer(obj.customer), fields=fields), None


def _invoice(obj: Invoice, _kind: str, _created: datetime) -> Mapped:
    """invoice.paid: the same payment as its charge; invoices without a payment id (API 2025-03-31+) are ignored."""
    key = obj.payment_intent or obj.charge
    for entry in obj.payments:
        if key is None and entry.payment is not None:
            key = entry.payment.payment_intent or entry.payment.charge
    if key is None:
        return obj.id, None, "invoice names no charge or payment intent; charge.succeeded records it"
    if obj.amount_paid is None:
        raise EventInvalid("data.object.amount_paid is required")
    if obj.customer is None or obj.amount_paid == 0:
        return key, None, "nothing was charged to a Stripe customer"
    paid_at = (obj.status_transitions.paid_at if obj.status_transitions else None) or obj.created
    if paid_at is None:
        raise EventInvalid("data.object.created is required")
    if obj.currency is None:
        raise EventInvalid("data.object.currency is required")
    fields = PaymentFields(amount=obj.amount_paid, currency=obj.currency, fee=obj.application_fee_amount or 0,
                           created_at=paid_at)
    return key, PaymentChange(external_id=key, customer=_payer(obj.customer), fields=fields), None


def _payout(obj: StripePayout, _kind: str, _created: datetime) -> Mapped:
    """payout.*: amount, currency, status, dates."""
    fields = PayoutFields(amount=obj.amount, currency=obj.currency, status=obj.status, created_at=obj.created,
                          arrival_date=obj.arrival_date)
    return obj.id, PayoutChange(external_id=obj.id, fields=fields), None


_MAPPERS: dict[type[Payload], Callable[[Any, str, datetime], Mapped]] = {
    StripeCustomer: _customer, Subscription: _subscription, Charge: _charge, Invoice: _invoice,
    StripePayout: _payout,
}

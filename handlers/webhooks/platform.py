"""The platform's event schema: each event type's `data`, validated into the change it asks of the store.

Messages name the field and what it must be (they are the 400 answer's error); unknown types are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers.webhooks.stripe import MAX_SEATS, Reader
from storage.event_types import Change, CustomerChange, EventInvalid, PaymentChange, PayoutChange, SyncEvent
from storage.models import PayoutStatus, Status
from storage.query import STATUS_ALIASES
from storage.writes import CustomerFields, PaymentFields, PayoutFields

_STATUSES = {s.value for s in Status}
_PAYOUT_STATUSES = {s.value for s in PayoutStatus}


def parse_platform_event(payload: object) -> SyncEvent:
    """Validate a platform event; unknown types are accepted (and ignored) once the envelope is valid."""
    envelope = Reader(payload)
    event_id, kind = envelope.text("id"), envelope.text("type", limit=100)
    created = envelope.opt_iso("created_at")
    if created is None:
        raise EventInvalid("created_at is required")
    parser = _PARSERS.get(kind)
    if parser is None:
        return SyncEvent(source="platform", event_id=event_id, type=kind, created_at=created, object_id=None,
                         change=None, note="event type is not synced")
    data = envelope.obj("data")
    change = parser(data)
    return SyncEvent(source="platform", event_id=event_id, type=kind, created_at=created,
                     object_id=change.external_id, change=change)


def _ref(data: Reader) -> tuple[str | None, str | None]:
    """The customer's (external id, email): `id`, or `customer` (an email when it contains @)."""
    external_id = data.opt_text("id")
    given = data.opt_text("customer", limit=320)
    if external_id is None and given is None:
        raise EventInvalid("data.id or data.customer is required")
    if external_id is None and given is not None and "@" in given:
        return None, given
    return external_id or given, None


def _email(data: Reader) -> str | None:
    """An email address, or None."""
    email = data.opt_text("email", limit=320)
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        raise EventInvalid("data.email must be an email address")
    return email


def _status(data: Reader) -> str | None:
    """A customer status (Stripe's names; `cancelled` and `trial` are understood)."""
    raw = data.opt_text("status", limit=30)
    status = STATUS_ALIASES.get(raw.lower(), raw.lower()) if raw else None
    if status is not None and status not in _STATUSES:
        raise EventInvalid(f"data.status must be one of {', '.join(sorted(_STATUSES))}")
    return status


def _customer_fields(data: Reader) -> CustomerFields:
    """The customer fields an event may state."""
    return CustomerFields(organization=data.opt_text("organization", limit=500), email=_email(data),
                          seats=data.opt_int("seats", maximum=MAX_SEATS), status=_status(data),
                          created_at=data.opt_iso("created_at"), canceled_at=data.opt_iso("canceled_at"))


def _customer_created(data: Reader) -> Change:
    """customer.created: id, organization and email required."""
    external_id, email = data.text("id"), _email(data)
    data.text("organization", limit=500)
    if email is None:
        raise EventInvalid("data.email is required")
    return CustomerChange(external_id=external_id, email=email, fields=_customer_fields(data),
                          defaults=CustomerFields())


def _customer_updated(data: Reader) -> Change:
    """customer.updated: the customer plus any of organization, email, seats, status, canceled_at."""
    external_id, by_email = _ref(data)
    fields = _customer_fields(data)
    if all(v is None for v in (fields.organization, fields.email, fields.seats, fields.status, fields.canceled_at)):
        raise EventInvalid("data must state at least one of organization, email, seats, status, canceled_at")
    return CustomerChange(external_id=external_id, email=by_email or fields.email, fields=fields,
                          defaults=CustomerFields())


def _customer_canceled(data: Reader) -> Change:
    """customer.canceled: the customer, optionally canceled_at (default: the event's time)."""
    external_id, by_email = _ref(data)
    return CustomerChange(external_id=external_id, email=by_email,
                          fields=CustomerFields(status="canceled", canceled_at=data.opt_iso("canceled_at")))


def _seats_changed(data: Reader) -> Change:
    """seats.changed: the customer and the new seat count."""
    external_id, by_email = _ref(data)
    seats = data.integer("seats", maximum=MAX_SEATS)
    return CustomerChange(external_id=external_id, email=by_email, fields=CustomerFields(seats=seats))


def _payment(data: Reader, *, refund: bool) -> Change:
    """payment.succeeded (customer, amount, currency required) or payment.refunded (refunded_amount required)."""
    given = data.opt_text("customer", limit=320)
    if given is None and not refund:
        raise EventInvalid("data.customer is required")
    customer = None if given is None else (
        CustomerChange(email=given) if "@" in given else CustomerChange(external_id=given))
    fields = PaymentFields(
        amount=data.opt_int("amount") if refund else data.integer("amount"),
        currency=data.opt_currency() if refund else data.currency(), fee=data.opt_int("fee"),
        created_at=data.opt_iso("created_at"),
        refunded_amount=data.integer("refunded_amount") if refund else data.opt_int("refunded_amount"),
        refunded_at=data.opt_iso("refunded_at"))
    if fields.amount is not None and fields.refunded_amount is not None and fields.refunded_amount > fields.amount:
        raise EventInvalid("data.refunded_amount must not exceed data.amount")
    return PaymentChange(external_id=data.text("id"), customer=customer, fields=fields)


def _payout(data: Reader, *, created: bool) -> Change:
    """payout.created (amount, currency, status required) or payout.updated (any of them)."""
    status = data.opt_text("status", limit=20)
    if status is not None and status.lower() not in _PAYOUT_STATUSES:
        raise EventInvalid(f"data.status must be one of {', '.join(sorted(_PAYOUT_STATUSES))}")
    if created and status is None:
        raise EventInvalid("data.status is required")
    fields = PayoutFields(amount=data.integer("amount") if created else data.opt_int("amount"),
                          currency=data.currency() if created else data.opt_currency(),
                          status=status.lower() if status else None, created_at=data.opt_iso("created_at"),
                          arrival_date=data.opt_iso("arrival_date"))
    return PayoutChange(external_id=data.text("id"), fields=fields)


_PARSERS: dict[str, Callable[[Reader], Change]] = {
    "customer.created": _customer_created,
    "customer.updated": _customer_updated,
    "customer.canceled": _customer_canceled,
    "seats.changed": _seats_changed,
    "payment.succeeded": lambda data: _payment(data, refund=False),
    "payment.refunded": lambda data: _payment(data, refund=True),
    "payout.created": lambda data: _payout(data, created=True),
    "payout.updated": lambda data: _payout(data, created=False),
}

"""Stripe events to store changes (pure): subscriptions -> customers, charges and invoices -> payments, payouts.

Also holds `Reader`, the strict JSON accessor both webhook sources validate with (errors name the field).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from storage.event_types import Change, CustomerChange, EventInvalid, PaymentChange, PayoutChange, SyncEvent
from storage.models import PayoutStatus
from storage.writes import CustomerFields, PaymentFields, PayoutFields

PLACEHOLDER_DOMAIN = "stripe.invalid"  # RFC 2606: can never be delivered to
MAX_MONEY = 2**63 - 1
MAX_SEATS = 2**31 - 1
_SUBSCRIPTION_STATUS = {"active": "active", "trialing": "trialing", "past_due": "past_due", "unpaid": "unpaid",
                        "paused": "paused", "incomplete": "incomplete", "incomplete_expired": "canceled",
                        "canceled": "canceled"}
_PAYOUT_STATUSES = {s.value for s in PayoutStatus}


class Reader:
    """Typed, validating access to one JSON object; `path` prefixes error messages (e.g. `data.seats`)."""

    def __init__(self, value: object, path: str = "") -> None:
        if not isinstance(value, dict):
            raise EventInvalid(f"{path or 'body'} must be a JSON object")
        self.value: dict[str, Any] = value
        self.path = path

    def name(self, key: str) -> str:
        """The dotted path of a key, for messages."""
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        """True when the key is present and not null."""
        return self.value.get(key) is not None

    def opt_text(self, key: str, *, limit: int = 255) -> str | None:
        """A non-empty string of at most `limit` characters, or None when absent or null."""
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise EventInvalid(f"{self.name(key)} must be a non-empty string of at most {limit} characters")
        return value.strip()

    def text(self, key: str, *, limit: int = 255) -> str:
        """A required non-empty string."""
        value = self.opt_text(key, limit=limit)
        if value is None:
            raise EventInvalid(f"{self.name(key)} is required")
        return value

    def opt_int(self, key: str, *, maximum: int = MAX_MONEY) -> int | None:
        """An integer in 0..maximum (never a bool or a float), or None."""
        value = self.value.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EventInvalid(f"{self.name(key)} must be an integer >= 0")
        if value > maximum:
            raise EventInvalid(f"{self.name(key)} must be at most {maximum}")
        return value

    def integer(self, key: str, *, maximum: int = MAX_MONEY) -> int:
        """A required integer in 0..maximum."""
        value = self.opt_int(key, maximum=maximum)
        if value is None:
            raise EventInvalid(f"{self.name(key)} is required")
        return value

    def opt_currency(self, key: str = "currency") -> str | None:
        """A three-letter ISO 4217 code, upper-cased."""
        value = self.opt_text(key, limit=10)
        if value is not None and not re.fullmatch(r"[A-Za-z]{3}", value):
            raise EventInvalid(f"{self.name(key)} must be a three-letter ISO 4217 code like USD")
        return value.upper() if value else None

    def currency(self, key: str = "currency") -> str:
        """A required currency code."""
        value = self.opt_currency(key)
        if value is None:
            raise EventInvalid(f"{self.name(key)} is required")
        return value

    def opt_iso(self, key: str) -> datetime | None:
        """An ISO 8601 timestamp with a UTC offset (2026-11-24T12:00:00Z), as aware UTC."""
        value = self.value.get(key)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise EventInvalid(f"{self.name(key)} must be an ISO 8601 timestamp with a zone, "
                               "like 2026-11-24T12:00:00Z")
        return parsed.astimezone(UTC)

    def opt_unix(self, key: str) -> datetime | None:
        """Unix seconds (Stripe's timestamps), as aware UTC."""
        value = self.opt_int(key, maximum=253402300799)
        return None if value is None else datetime.fromtimestamp(value, UTC)

    def unix(self, key: str) -> datetime:
        """Required unix seconds."""
        value = self.opt_unix(key)
        if value is None:
            raise EventInvalid(f"{self.name(key)} is required")
        return value

    def opt_obj(self, key: str) -> Reader | None:
        """A nested object, or None."""
        value = self.value.get(key)
        return None if value is None else Reader(value, self.name(key))

    def obj(self, key: str) -> Reader:
        """A required nested object."""
        value = self.opt_obj(key)
        if value is None:
            raise EventInvalid(f"{self.name(key)} is required")
        return value

    def ref(self, key: str) -> str | None:
        """A Stripe reference: an id string, or an expanded object's id."""
        value = self.value.get(key)
        if isinstance(value, dict):
            return Reader(value, self.name(key)).text("id")
        return self.opt_text(key)

    def items(self, key: str) -> list[Reader]:
        """The objects of a Stripe list (`{"data": [...]}`) or of a plain array; [] when absent."""
        value = self.value.get(key)
        if isinstance(value, dict):
            value = value.get("data")
        if value is None:
            return []
        if not isinstance(value, list):
            raise EventInvalid(f"{self.name(key)} must be a list")
        return [Reader(item, f"{self.name(key)}[{n}]") for n, item in enumerate(value)]

    def metadata(self) -> dict[str, str]:
        """Stripe metadata (string values only)."""
        value = self.value.get("metadata")
        if not isinstance(value, dict):
            return {}
        return {k: v.strip() for k, v in value.items() if isinstance(v, str) and v.strip()}


def placeholder_email(customer_id: str) -> str:
    """A never-deliverable, unique email for a Stripe customer whose email we do not know yet."""
    return f"{customer_id.lower()}@{PLACEHOLDER_DOMAIN}"


Mapped = tuple[str | None, Change | None, str | None]  # object id, change (None: ignored), note


def map_stripe_event(event: Mapping[str, Any]) -> SyncEvent:
    """Map a verified Stripe event (as a dict) to a store change; types we do not sync are ignored."""
    envelope = Reader(dict(event))
    event_id, kind, created = envelope.text("id"), envelope.text("type", limit=100), envelope.unix("created")
    obj = envelope.obj("data").obj("object")
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        return SyncEvent(source="stripe", event_id=event_id, type=kind, created_at=created,
                         object_id=obj.ref("id"), change=None, note="event type is not synced")
    object_id, change, note = mapper(obj, kind, created)
    return SyncEvent(source="stripe", event_id=event_id, type=kind, created_at=created, object_id=object_id,
                     change=change, note=note)


def _customer(obj: Reader, _kind: str, _created: datetime) -> Mapped:
    """customer.created|updated: the name (or metadata.organization) and the email."""
    customer_id = obj.text("id")
    meta = obj.metadata()
    email = obj.opt_text("email", limit=320) or meta.get("email")
    organization = meta.get("organization") or obj.opt_text("name", limit=500)
    fields = CustomerFields(organization=organization, email=email)
    defaults = CustomerFields(organization=customer_id, email=placeholder_email(customer_id), seats=0,
                              status="incomplete", created_at=obj.opt_unix("created"))
    return customer_id, CustomerChange(external_id=customer_id, email=email, fields=fields, defaults=defaults), None


def _subscription(obj: Reader, kind: str, _created: datetime) -> Mapped:
    """customer.subscription.*: status and seats (quantity, or the items' quantities) of the subscriber."""
    customer_id = obj.ref("customer")
    if customer_id is None:
        raise EventInvalid("data.object.customer is required")
    status = "canceled" if kind.endswith(".deleted") else _SUBSCRIPTION_STATUS.get(obj.text("status", limit=40))
    seats = obj.opt_int("quantity", maximum=MAX_SEATS)
    items = obj.items("items")
    if seats is None and items:
        seats = sum(item.opt_int("quantity", maximum=MAX_SEATS) or 0 for item in items)
    canceled_at = (obj.opt_unix("ended_at") or obj.opt_unix("canceled_at")) if status == "canceled" else None
    meta = obj.metadata()
    fields = CustomerFields(organization=meta.get("organization"), email=meta.get("email"), seats=seats,
                            status=status, canceled_at=canceled_at)
    defaults = CustomerFields(organization=customer_id, email=placeholder_email(customer_id),
                              created_at=obj.opt_unix("start_date") or obj.opt_unix("created"))
    change = CustomerChange(external_id=customer_id, email=meta.get("email"), fields=fields, defaults=defaults)
    return customer_id, change, None


def _payer(customer_id: str) -> CustomerChange:
    """The paying Stripe customer, created with placeholders when unknown (customer.* events fill them in)."""
    return CustomerChange(external_id=customer_id, defaults=CustomerFields(
        organization=customer_id, email=placeholder_email(customer_id), seats=0, status="incomplete"))


def _charge(obj: Reader, kind: str, created: datetime) -> Mapped:
    """charge.succeeded|refunded: keyed by the payment intent (else the charge) so invoice.paid is the same row."""
    key = obj.ref("payment_intent") or obj.text("id")
    customer_id = obj.ref("customer")
    if customer_id is None:
        return key, None, "charge has no Stripe customer"
    refunded = obj.opt_int("amount_refunded") or 0
    refunded_at = None
    if kind == "charge.refunded" and refunded:
        times = [t for t in (r.opt_unix("created") for r in obj.items("refunds")) if t is not None]
        refunded_at = max(times, default=created)
    fields = PaymentFields(amount=obj.integer("amount"), currency=obj.currency(),
                           fee=obj.opt_int("application_fee_amount") or 0, created_at=obj.unix("created"),
                           refunded_amount=refunded, refunded_at=refunded_at)
    return key, PaymentChange(external_id=key, customer=_payer(customer_id), fields=fields), None


def _invoice(obj: Reader, _kind: str, _created: datetime) -> Mapped:
    """invoice.paid: the same payment as its charge; invoices without a payment id (API 2025-03-31+) are ignored."""
    key = obj.ref("payment_intent") or obj.ref("charge")
    for payment in obj.items("payments"):
        inner = payment.opt_obj("payment")
        if key is None and inner is not None:
            key = inner.ref("payment_intent") or inner.ref("charge")
    if key is None:
        return obj.ref("id"), None, "invoice names no charge or payment intent; charge.succeeded records it"
    customer_id = obj.ref("customer")
    amount = obj.integer("amount_paid")
    if customer_id is None or amount == 0:
        return key, None, "nothing was charged to a Stripe customer"
    transitions = obj.opt_obj("status_transitions")
    paid_at = (transitions.opt_unix("paid_at") if transitions else None) or obj.unix("created")
    fields = PaymentFields(amount=amount, currency=obj.currency(), fee=obj.opt_int("application_fee_amount") or 0,
                           created_at=paid_at)
    return key, PaymentChange(external_id=key, customer=_payer(customer_id), fields=fields), None


def _payout(obj: Reader, _kind: str, _created: datetime) -> Mapped:
    """payout.*: amount, currency, status, dates."""
    payout_id = obj.text("id")
    status = obj.text("status", limit=20)
    if status not in _PAYOUT_STATUSES:
        raise EventInvalid(f"data.object.status must be one of {', '.join(sorted(_PAYOUT_STATUSES))}")
    fields = PayoutFields(amount=obj.integer("amount"), currency=obj.currency(), status=status,
                          created_at=obj.unix("created"), arrival_date=obj.opt_unix("arrival_date"))
    return payout_id, PayoutChange(external_id=payout_id, fields=fields), None


_MAPPERS: dict[str, Callable[[Reader, str, datetime], Mapped]] = {
    "customer.created": _customer,
    "customer.updated": _customer,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "charge.succeeded": _charge,
    "charge.refunded": _charge,
    "invoice.paid": _invoice,
    "payout.created": _payout,
    "payout.updated": _payout,
    "payout.paid": _payout,
    "payout.failed": _payout,
    "payout.canceled": _payout,
}

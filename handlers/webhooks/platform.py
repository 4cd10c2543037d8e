"""The platform's event schema as pydantic models, a union discriminated on `type`, and the change each asks for.

Errors name the field and what it must be (they are the 400 answer's error); unknown types are accepted and ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter

from handlers.webhooks.fields import (
    Currency,
    CustomerRef,
    CustomerStatus,
    Email,
    Id,
    Instant,
    Money,
    Organization,
    Payload,
    PayoutState,
    Seats,
    TypeName,
    parse,
)
from storage.event_types import Change, CustomerChange, EventInvalid, PaymentChange, PayoutChange, SyncEvent
from storage.writes import CustomerFields, PaymentFields, PayoutFields


class CustomerRefData(Payload):
    """Names a customer: `id`, or `customer` (an external id, or an email when it contains @)."""

    id: Id | None = None
    customer: CustomerRef | None = None

    def ref(self) -> tuple[str | None, str | None]:
        """The customer's (external id, email)."""
        if self.id is None and self.customer is None:
            raise EventInvalid("data.id or data.customer is required")
        if self.id is None and self.customer is not None and "@" in self.customer:
            return None, self.customer
        return self.id or self.customer, None


class CustomerData(CustomerRefData):
    """customer.updated: the customer and any of its fields."""

    organization: Organization | None = None
    email: Email | None = None
    seats: Seats | None = None
    status: CustomerStatus | None = None
    created_at: Instant | None = None
    canceled_at: Instant | None = None
    mrr: Money | None = None
    currency: Currency | None = None

    def fields(self) -> CustomerFields:
        """The stated customer fields."""
        return CustomerFields(organization=self.organization, email=self.email, seats=self.seats,
                              status=self.status, created_at=self.created_at, canceled_at=self.canceled_at)


class NewCustomerData(CustomerData):
    """customer.created: id, organization and email required."""

    id: Id
    organization: Organization
    email: Email


class CanceledData(CustomerRefData):
    """customer.canceled: the customer, and when (default: the event's time)."""

    canceled_at: Instant | None = None


class SeatsData(CustomerRefData):
    """seats.changed: the customer and the new seat count (and the MRR it makes, when the platform knows)."""

    seats: Seats
    mrr: Money | None = None
    currency: Currency | None = None


class PaymentData(Payload):
    """payment.refunded: the payment and its refund; customer, amount and currency when the payment is new."""

    id: Id
    customer: CustomerRef | None = None
    amount: Money | None = None
    currency: Currency | None = None
    fee: Money | None = None
    created_at: Instant | None = None
    refunded_amount: Money | None = None
    refunded_at: Instant | None = None


class PaidData(PaymentData):
    """payment.succeeded: customer, amount and currency required."""

    customer: CustomerRef
    amount: Money
    currency: Currency


class RefundData(PaymentData):
    """payment.refunded: the refunded amount required."""

    refunded_amount: Money


class PayoutData(Payload):
    """payout.updated: the payout and any of its fields."""

    id: Id
    amount: Money | None = None
    currency: Currency | None = None
    status: PayoutState | None = None
    created_at: Instant | None = None
    arrival_date: Instant | None = None


class NewPayoutData(PayoutData):
    """payout.created: amount, currency and status required."""

    amount: Money
    currency: Currency
    status: PayoutState


class Envelope(Payload):
    """What every event carries: a unique id, its type and when it happened."""

    id: Id
    type: TypeName
    created_at: Instant


class OtherEvent(Envelope):
    """A type we do not sync: recorded as ignored, its data unread."""

    data: Any = None


class CustomerCreated(Envelope):
    """customer.created."""

    data: NewCustomerData


class CustomerUpdated(Envelope):
    """customer.updated."""

    data: CustomerData


class CustomerCanceled(Envelope):
    """customer.canceled."""

    data: CanceledData


class SeatsChanged(Envelope):
    """seats.changed."""

    data: SeatsData


class PaymentSucceeded(Envelope):
    """payment.succeeded."""

    data: PaidData


class PaymentRefunded(Envelope):
    """payment.refunded."""

    data: RefundData


class PayoutCreated(Envelope):
    """payout.created."""

    data: NewPayoutData


class PayoutUpdated(Envelope):
    """payout.updated."""

    data: PayoutData


_MODELS: dict[str, type[Envelope]] = {
    "customer.created": CustomerCreated, "customer.updated": CustomerUpdated, "customer.canceled": CustomerCanceled,
    "seats.changed": SeatsChanged, "payment.succeeded": PaymentSucceeded, "payment.refunded": PaymentRefunded,
    "payout.created": PayoutCreated, "payout.updated": PayoutUpdated,
}
_OTHER = "other"
_TAGS = frozenset((*_MODELS, _OTHER))


def _event_type(payload: Any) -> str:
    """The union's tag: the event's type when we sync it, else 'other'."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    kind = kind.strip() if isinstance(kind, str) else None
    return kind if kind in _MODELS else _OTHER


PlatformEvent = Annotated[
    Annotated[OtherEvent, Tag(_OTHER)] | Annotated[CustomerCreated, Tag("customer.created")]
    | Annotated[CustomerUpdated, Tag("customer.updated")] | Annotated[CustomerCanceled, Tag("customer.canceled")]
    | Annotated[SeatsChanged, Tag("seats.changed")] | Annotated[PaymentSucceeded, Tag("payment.succeeded")]
    | Annotated[PaymentRefunded, Tag("payment.refunded")] | Annotated[PayoutCreated, Tag("payout.created")]
    | Annotated[PayoutUpdated, Tag("payout.updated")],
    Discriminator(_event_type),
]
_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(PlatformEvent)


def parse_platform_event(payload: object) -> SyncEvent:
    """Validate a platform event; unknown types are accepted (and ignored) once the envelope is valid."""
    if not isinstance(payload, dict):
        raise EventInvalid("body must be a JSON object")
    event = parse(_ADAPTER, payload, tags=_TAGS)
    change = _change(event)
    return SyncEvent(source="platform", event_id=event.id, type=event.type, created_at=event.created_at,
                     object_id=None if change is None else change.external_id, change=change,
                     note="event type is not synced" if change is None else None)


def _change(event: Envelope) -> Change | None:
    """What the event asks of the store; None for types we do not sync."""
    match event:
        case CustomerCreated(data=data):
            return CustomerChange(external_id=data.id, email=data.email, fields=data.fields(),
                                  defaults=CustomerFields(), mrr=data.mrr, currency=data.currency)
        case SeatsChanged(data=data):
            external_id, by_email = data.ref()
            return CustomerChange(external_id=external_id, email=by_email, fields=CustomerFields(seats=data.seats),
                                  mrr=data.mrr, currency=data.currency)
        case CustomerCanceled(data=data):
            external_id, by_email = data.ref()
            return CustomerChange(external_id=external_id, email=by_email,
                                  fields=CustomerFields(status="canceled", canceled_at=data.canceled_at))
        case CustomerUpdated(data=data):
            return _customer_updated(data)
        case PaymentSucceeded(data=data) | PaymentRefunded(data=data):
            return _payment(data)
        case PayoutCreated(data=data) | PayoutUpdated(data=data):
            return PayoutChange(external_id=data.id, fields=PayoutFields(
                amount=data.amount, currency=data.currency, status=data.status, created_at=data.created_at,
                arrival_date=data.arrival_date))
    return None


def _customer_updated(data: CustomerData) -> Change:
    """customer.updated: the customer plus any of organization, email, seats, status, canceled_at."""
    external_id, by_email = data.ref()
    fields = data.fields()
    if all(v is None for v in (fields.organization, fields.email, fields.seats, fields.status, fields.canceled_at,
                               data.mrr)):
        raise EventInvalid("data must state at least one of organization, email, seats, status, canceled_at, mrr")
    return CustomerChange(external_id=external_id, email=by_email or fields.email, fields=fields,
                          defaults=CustomerFields(), mrr=data.mrr, currency=data.currency)


def _payment(data: PaymentData) -> Change:
    """payment.succeeded or payment.refunded: the payment, found or created with its payer."""
    if data.amount is not None and data.refunded_amount is not None and data.refunded_amount > data.amount:
        raise EventInvalid("data.refunded_amount must not exceed data.amount")
    given = data.customer
    customer = None if given is None else (
        CustomerChange(email=given) if "@" in given else CustomerChange(external_id=given))
    fields = PaymentFields(amount=data.amount, currency=data.currency, fee=data.fee, created_at=data.created_at,
                           refunded_amount=data.refunded_amount, refunded_at=data.refunded_at)
    return PaymentChange(external_id=data.id, customer=customer, fields=fields)

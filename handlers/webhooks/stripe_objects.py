"""The fields of Stripe's events and objects that the mapping reads, as pydantic models (anything else is ignored).

The event's `type` picks the object model (a union discriminated on it); errors name the field
(`data.object.amount is required`).
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BeforeValidator, Discriminator, Field, PlainValidator, Tag, TypeAdapter

from handlers.webhooks.fields import (
    Currency,
    Email,
    Id,
    Money,
    Organization,
    Payload,
    PayoutState,
    Seats,
    TypeName,
    Unix,
    fail,
    text,
)
from storage.rules import EXTERNAL_ID_MAX, is_email

PLACEHOLDER_DOMAIN = "stripe.invalid"  # RFC 2606: can never be delivered to


def placeholder_email(customer_id: str) -> str:
    """A never-deliverable, unique email for a Stripe customer whose email we do not know yet."""
    return f"{customer_id.lower()}@{PLACEHOLDER_DOMAIN}"


def _expanded_id(value: Any) -> Any:
    """An expanded Stripe object stands for its id."""
    return value.get("id") if isinstance(value, dict) else value


def _list_data(value: Any) -> Any:
    """A Stripe list object (`{"object": "list", "data": [...]}`) stands for its items; absent is empty."""
    if isinstance(value, dict):
        value = value.get("data")
    return [] if value is None else value


def _strings(value: Any) -> Any:
    """Metadata keeps its non-blank string values only (anything else was never ours)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str) and v.strip()}


def _customer_id(value: Any) -> str:
    """A Stripe customer id; it names the placeholder email, which must pass the email rule like any other."""
    customer_id = text(EXTERNAL_ID_MAX)(value)
    if not is_email(placeholder_email(customer_id)):
        raise fail("must be a Stripe customer id like cus_Na6dX7aXxi11N4")
    return customer_id


Ref = Annotated[str, PlainValidator(text(EXTERNAL_ID_MAX)), BeforeValidator(_expanded_id)]  # id or expanded object
CustomerId = Annotated[str, PlainValidator(_customer_id), BeforeValidator(_expanded_id)]
StatusName = Annotated[str, PlainValidator(text(40))]
Obj = TypeVar("Obj", bound=Payload)


class Metadata(Payload):
    """The metadata keys an operator may set to name the organization and its email."""

    organization: Organization | None = None
    email: Email | None = None


Meta = Annotated[Metadata, BeforeValidator(_strings)]


class StripeObject(Payload):
    """Any Stripe object: only its id is read."""

    id: Ref | None = None


class StripeCustomer(Payload):
    """A customer: name (or metadata.organization) and email."""

    id: CustomerId
    email: Email | None = None
    name: Organization | None = None
    created: Unix | None = None
    metadata: Meta = Field(default_factory=Metadata)


class Quantity(Payload):
    """A subscription item's quantity."""

    quantity: Seats | None = None


class Subscription(Payload):
    """A subscription: status and seats of the subscriber."""

    customer: CustomerId
    status: StatusName | None = None
    quantity: Seats | None = None
    items: Annotated[list[Quantity], BeforeValidator(_list_data)] = Field(default_factory=list)
    ended_at: Unix | None = None
    canceled_at: Unix | None = None
    start_date: Unix | None = None
    created: Unix | None = None
    metadata: Meta = Field(default_factory=Metadata)


class Dated(Payload):
    """Anything with a creation time (a refund)."""

    created: Unix | None = None


class Charge(Payload):
    """A charge: one payment, keyed by its payment intent when it has one."""

    id: Id
    payment_intent: Ref | None = None
    customer: CustomerId | None = None
    amount: Money
    amount_captured: Money | None = None  # less than amount after a partial capture
    captured: bool | None = None
    currency: Currency
    application_fee_amount: Money | None = None
    amount_refunded: Money | None = None
    created: Unix
    refunds: Annotated[list[Dated], BeforeValidator(_list_data)] = Field(default_factory=list)


class PaymentIds(Payload):
    """Where an invoice payment points."""

    payment_intent: Ref | None = None
    charge: Ref | None = None


class InvoicePayment(Payload):
    """One entry of an invoice's payments (API 2025-03-31 and later)."""

    payment: PaymentIds | None = None


class Transitions(Payload):
    """When an invoice changed state."""

    paid_at: Unix | None = None


class Invoice(Payload):
    """A paid invoice: the same payment as its charge."""

    id: Ref | None = None
    payment_intent: Ref | None = None
    charge: Ref | None = None
    payments: Annotated[list[InvoicePayment], BeforeValidator(_list_data)] = Field(default_factory=list)
    customer: CustomerId | None = None
    amount_paid: Money | None = None
    currency: Currency | None = None
    application_fee_amount: Money | None = None
    status_transitions: Transitions | None = None
    created: Unix | None = None


class StripePayout(Payload):
    """A payout."""

    id: Id
    status: PayoutState
    amount: Money
    currency: Currency
    created: Unix
    arrival_date: Unix | None = None


class Data(Payload, Generic[Obj]):
    """An event's `data`: the object as it is after the event."""

    object: Obj


class StripeEvent(Payload, Generic[Obj]):
    """A Stripe event as delivered to webhook endpoints."""

    id: Id
    type: TypeName
    created: Unix
    data: Data[Obj]


_OBJECT_OF = {"customer.created": "customer", "customer.updated": "customer",
              "customer.subscription.created": "subscription", "customer.subscription.updated": "subscription",
              "customer.subscription.deleted": "subscription", "charge.succeeded": "charge",
              "charge.captured": "charge", "charge.refunded": "charge", "invoice.paid": "invoice",
              "payout.created": "payout", "payout.updated": "payout", "payout.paid": "payout",
              "payout.failed": "payout", "payout.canceled": "payout"}
TAGS = frozenset((*_OBJECT_OF.values(), "other"))


def _object_kind(payload: Any) -> str:
    """The union's tag: which object model the event's type carries ('other' for types we do not sync)."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    return _OBJECT_OF.get(kind.strip(), "other") if isinstance(kind, str) else "other"


AnyStripeEvent = Annotated[
    Annotated[StripeEvent[StripeObject], Tag("other")] | Annotated[StripeEvent[StripeCustomer], Tag("customer")]
    | Annotated[StripeEvent[Subscription], Tag("subscription")] | Annotated[StripeEvent[Charge], Tag("charge")]
    | Annotated[StripeEvent[Invoice], Tag("invoice")] | Annotated[StripeEvent[StripePayout], Tag("payout")],
    Discriminator(_object_kind),
]
ADAPTER: TypeAdapter[StripeEvent[Any]] = TypeAdapter(AnyStripeEvent)

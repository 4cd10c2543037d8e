"""What a live-sync event states, in the store's terms: the webhook parsers build these, storage.events applies them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from storage.writes import CustomerFields, PaymentFields, PayoutFields


class EventInvalid(ValueError):
    """A malformed event; the message names the field and what is wrong with it (400, nothing written)."""


class EventConflict(Exception):
    """A well-formed event that cannot be applied yet (unknown object, email taken): 409, nothing written."""


@dataclass(frozen=True)
class CustomerChange:
    """What an event states about one customer, found by external id, else by email."""

    external_id: str | None = None
    email: str | None = None
    fields: CustomerFields = dataclasses.field(default_factory=CustomerFields)
    defaults: CustomerFields | None = None  # fill-ins used only to create an unknown customer; None: never create
    mrr: int | None = None  # monthly recurring revenue in minor units; None: not stated
    currency: str | None = None  # of the mrr; None: the customer's


@dataclass(frozen=True)
class PaymentChange:
    """What an event states about one payment; `customer` finds (or creates) the payer."""

    external_id: str
    customer: CustomerChange | None
    fields: PaymentFields


@dataclass(frozen=True)
class PayoutChange:
    """What an event states about one payout."""

    external_id: str
    fields: PayoutFields


Change = CustomerChange | PaymentChange | PayoutChange


@dataclass(frozen=True)
class SyncEvent:
    """A verified, validated event from one source; `change` None means there is nothing to apply (ignored)."""

    source: str
    event_id: str
    type: str
    created_at: datetime
    object_id: str | None
    change: Change | None
    note: str | None = None


@dataclass(frozen=True)
class Processed:
    """What processing did; `duplicate` means the event was processed before and nothing changed now."""

    outcome: str
    duplicate: bool
    detail: str | None = None

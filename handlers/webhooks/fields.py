"""Webhook field types as pydantic annotations, and pydantic's errors worded as our 400 answers.

Each type applies storage.rules and fails with a PydanticCustomError whose message completes the sentence
"<field> ...", so `explain` can answer `data.seats must be an integer >= 0` for any field it met.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from storage.event_types import EventInvalid
from storage.models import PayoutStatus, Status
from storage.query import STATUS_ALIASES
from storage.rules import (
    AMOUNT_MAX,
    EMAIL_MAX,
    EXTERNAL_ID_MAX,
    INSTANT_MAX,
    INSTANT_MIN,
    ORGANIZATION_MAX,
    SEATS_MAX,
    has_control,
    is_currency,
    is_email,
    utc_instant,
)

RULE = "rule"  # the error type of every check here; its message follows the field's path
UNIX_MAX = (INSTANT_MAX - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)  # Stripe's latest
_STATUSES = sorted(s.value for s in Status)
_PAYOUT_STATUSES = sorted(s.value for s in PayoutStatus)
Model = TypeVar("Model")


def fail(message: str) -> PydanticCustomError:
    """An error whose message completes "<field> ..." (`must be an integer >= 0`)."""
    return PydanticCustomError(RULE, message)


class Payload(BaseModel):
    """A webhook object: the fields we read, anything else ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def text(limit: int) -> Callable[[Any], str]:
    """A non-empty string of at most `limit` characters without control characters, trimmed."""
    def check(value: Any) -> str:
        if value is None:
            raise fail("is required")
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise fail(f"must be a non-empty string of at most {limit} characters")
        if has_control(value):
            raise fail("must not contain control characters")
        return value.strip()
    return check


def email(value: Any) -> str:
    """An email address by the rule every source shares."""
    address = text(EMAIL_MAX)(value)
    if not is_email(address):
        raise fail("must be an email address")
    return address


def customer_ref(value: Any) -> str:
    """An external id, or an email when it contains @ (used to find the customer, never stored as given)."""
    ref = text(EMAIL_MAX)(value)
    if "@" not in ref and len(ref) > EXTERNAL_ID_MAX:
        raise fail(f"must be an external id of at most {EXTERNAL_ID_MAX} characters, or an email address")
    return ref


def count(maximum: int) -> Callable[[Any], int]:
    """An integer in 0..maximum (never a bool, a float or a string)."""
    def check(value: Any) -> int:
        if value is None:
            raise fail("is required")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail("must be an integer >= 0")
        if value > maximum:
            raise fail(f"must be at most {maximum}")
        return value
    return check


def currency(value: Any) -> str:
    """An ISO 4217 code in use, upper-cased."""
    code = text(10)(value)
    if not (len(code) == 3 and code.isascii() and code.isalpha() and is_currency(code)):
        raise fail("must be a three-letter ISO 4217 code like USD")
    return code.upper()


def instant(value: Any) -> datetime:
    """An ISO 8601 timestamp with a zone (2026-11-24T12:00:00Z), as aware UTC within years 1-9999."""
    if value is None:
        raise fail("is required")
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 64 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise fail("must be an ISO 8601 timestamp with a zone, like 2026-11-24T12:00:00Z")
    try:
        return utc_instant(parsed)
    except ValueError:
        raise fail(f"must be a time from {INSTANT_MIN.date()} to {INSTANT_MAX.date()} in UTC") from None


def unix(value: Any) -> datetime:
    """Unix seconds (Stripe's timestamps), as aware UTC."""
    return datetime.fromtimestamp(count(UNIX_MAX)(value), UTC)


def status(value: Any) -> str:
    """A customer status (Stripe's names; `cancelled` and `trial` are understood)."""
    raw = text(30)(value).lower()
    name = STATUS_ALIASES.get(raw, raw)
    if name not in _STATUSES:
        raise fail(f"must be one of {', '.join(_STATUSES)}")
    return name


def payout_status(value: Any) -> str:
    """A payout status."""
    name = text(20)(value).lower()
    if name not in _PAYOUT_STATUSES:
        raise fail(f"must be one of {', '.join(_PAYOUT_STATUSES)}")
    return name


Id = Annotated[str, PlainValidator(text(EXTERNAL_ID_MAX))]
TypeName = Annotated[str, PlainValidator(text(100))]
Organization = Annotated[str, PlainValidator(text(ORGANIZATION_MAX))]
Email = Annotated[str, PlainValidator(email)]
CustomerRef = Annotated[str, PlainValidator(customer_ref)]
Seats = Annotated[int, PlainValidator(count(SEATS_MAX))]
Money = Annotated[int, PlainValidator(count(AMOUNT_MAX))]
Currency = Annotated[str, PlainValidator(currency)]
Instant = Annotated[datetime, PlainValidator(instant)]
Unix = Annotated[datetime, PlainValidator(unix)]
CustomerStatus = Annotated[str, PlainValidator(status)]
PayoutState = Annotated[str, PlainValidator(payout_status)]


def explain(error: ValidationError, *, tags: frozenset[str] = frozenset()) -> str:
    """The first problem as one sentence naming the field (`data.seats must be an integer >= 0`).

    `tags` are the discriminated union's tags, which pydantic puts first in the location; they are not fields.
    """
    first = error.errors(include_url=False, include_input=False)[0]
    loc = list(first["loc"])
    if loc and loc[0] in tags:
        loc = loc[1:]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "body"
    kind = first["type"]
    if kind == RULE:
        return f"{path} {first['msg']}"
    if kind == "missing":
        return f"{path} is required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path} must be a JSON object"
    if kind == "list_type":
        return f"{path} must be a list"
    return f"{path} is not valid: {first['msg']}"


def parse(adapter: TypeAdapter[Model], payload: object, *, tags: frozenset[str] = frozenset()) -> Model:
    """Validate a decoded JSON payload; EventInvalid naming the first wrong field otherwise."""
    try:
        return adapter.validate_python(payload)
    except ValidationError as exc:
        raise EventInvalid(explain(exc, tags=tags)) from None

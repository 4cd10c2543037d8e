"""A Stripe subscription's MRR: the items' prices x quantities normalised to a month, less its discounts.

Only documented fields are read: `items.data[].price.unit_amount`, `.recurring.interval` and `.interval_count`,
`quantity`, `discount.coupon` / `discounts[].coupon` (`percent_off`, `amount_off`, `duration`), `status`, `currency`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator, TypeAdapter

from handlers.webhooks.fields import Currency, Money, Payload, count, fail, parse
from storage.event_types import EventInvalid
from storage.rules import AMOUNT_MAX

# How many of each billing interval make a month (ChartMogul and Stripe's own MRR: a year is 12 months).
PER_MONTH = {"day": Fraction(365, 12), "week": Fraction(52, 12), "month": Fraction(1), "year": Fraction(1, 12)}
PAYING = ("active", "past_due", "unpaid")  # trialing, incomplete, paused and canceled pay nothing


def _interval(value: Any) -> str:
    """day, week, month or year."""
    if value not in PER_MONTH:
        raise fail("must be one of day, week, month, year")
    return str(value)


def _percent(value: Any) -> Fraction:
    """A percentage in 0..100 (Stripe sends a number, possibly with decimals)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise fail("must be a number from 0 to 100")
    return Fraction(str(value))


def _list_data(value: Any) -> Any:
    """Stripe lists arrive as {"object": "list", "data": [...]}."""
    return value.get("data", []) if isinstance(value, dict) else value


def _objects(value: Any) -> Any:
    """`discounts` holds ids unless expanded: keep the expanded objects only."""
    value = _list_data(value)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else value


class Recurring(Payload):
    """How often a price bills."""

    interval: Annotated[str, PlainValidator(_interval)]
    interval_count: Annotated[int, PlainValidator(count(1_000))] = 1


class Price(Payload):
    """A price: minor units per unit and interval."""

    unit_amount: Money | None = None
    currency: Currency | None = None
    recurring: Recurring | None = None


class Item(Payload):
    """A subscription item."""

    price: Price | None = None
    quantity: Annotated[int, PlainValidator(count(10**9))] | None = None


class Coupon(Payload):
    """A coupon: a percentage or an amount off each invoice."""

    percent_off: Annotated[Fraction, PlainValidator(_percent)] | None = None
    amount_off: Money | None = None
    duration: str | None = None


class Discount(Payload):
    """An applied coupon."""

    coupon: Coupon | None = None


class PricedSubscription(Payload):
    """What a subscription's MRR is computed from."""

    status: str | None = None
    currency: Currency | None = None
    items: Annotated[list[Item], BeforeValidator(_list_data)] = Field(default_factory=list)
    discount: Discount | None = None
    discounts: Annotated[list[Discount], BeforeValidator(_objects)] = Field(default_factory=list)


_ADAPTER = TypeAdapter(PricedSubscription)


def subscription_mrr(obj: object, *, deleted: bool = False) -> tuple[int, str | None]:
    """(MRR in minor units, currency) of a subscription object; 0 while trialing, paused, incomplete or canceled."""
    try:
        sub = parse(_ADAPTER, obj)
    except EventInvalid as exc:
        raise EventInvalid(f"data.object.{exc}") from None
    currency = sub.currency or next((i.price.currency for i in sub.items if i.price and i.price.currency), None)
    if deleted or sub.status not in PAYING:
        return 0, currency
    monthly = Fraction(0)
    interval = Fraction(1)  # per month of the (first) billing interval, for amount_off
    for item in sub.items:
        price = item.price
        if price is None or price.unit_amount is None or price.recurring is None:
            continue  # one-off prices are not recurring revenue
        per_month = PER_MONTH[price.recurring.interval] / price.recurring.interval_count
        interval = per_month if monthly == 0 else interval
        monthly += price.unit_amount * (1 if item.quantity is None else item.quantity) * per_month
    for discount in ([sub.discount] if sub.discount else []) + sub.discounts:
        coupon = discount.coupon
        if coupon is None or coupon.duration == "once":
            continue  # a one-off discount does not lower the recurring revenue
        if coupon.percent_off is not None:
            monthly *= 1 - coupon.percent_off / 100
        elif coupon.amount_off is not None:
            monthly -= coupon.amount_off * interval  # taken off each invoice: per month of the interval
    mrr = max(0, int(monthly + Fraction(1, 2)))  # rounded half up to a minor unit
    if mrr > AMOUNT_MAX:
        raise EventInvalid(f"data.object.items add up to more than {AMOUNT_MAX} minor units a month")
    return mrr, currency

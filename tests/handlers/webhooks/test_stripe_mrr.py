"""A Stripe subscription's MRR: items x quantities normalised to a month, discounts as Stripe documents, trials 0."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.webhooks.stripe_mrr import subscription_mrr
from storage.event_types import EventInvalid


def _sub(*items: tuple[int, int, str, int], status: str = "active", extra: dict[str, Any] | None = None,
         ) -> dict[str, Any]:
    """A subscription object with (unit_amount, quantity, interval, interval_count) items."""
    return {"object": "subscription", "status": status, "currency": "usd", "items": {"object": "list", "data": [
        {"quantity": q, "price": {"unit_amount": a, "currency": "usd",
                                  "recurring": {"interval": i, "interval_count": c}}} for a, q, i, c in items]},
        **(extra or {})}


def test_items_are_normalised_to_a_month() -> None:
    assert subscription_mrr(_sub((120000, 1, "year", 1))) == (10000, "USD")  # 1,200.00 a year is 100.00 a month
    assert subscription_mrr(_sub((2000, 5, "month", 1), (3000, 1, "month", 3))) == (11000, "USD")
    assert subscription_mrr(_sub((1000, 1, "week", 1)))[0] == 4333  # 52 weeks / 12, half up
    assert subscription_mrr(_sub((100, 1, "day", 1)))[0] == 3042  # 365 days / 12
    assert subscription_mrr(_sub((2400, 1, "month", 6)))[0] == 400


def test_discounts_apply_as_stripe_documents_them() -> None:
    percent = {"discount": {"coupon": {"percent_off": 25, "duration": "forever"}}}
    assert subscription_mrr(_sub((2000, 5, "month", 1), extra=percent))[0] == 7500
    amount = {"discounts": [{"coupon": {"amount_off": 12000, "duration": "repeating"}}, "di_unexpanded"]}
    assert subscription_mrr(_sub((120000, 1, "year", 1), extra=amount))[0] == 9000  # 120.00 off each yearly invoice
    once = {"discount": {"coupon": {"percent_off": 50, "duration": "once"}}}
    assert subscription_mrr(_sub((2000, 1, "month", 1), extra=once))[0] == 2000
    too_much = {"discount": {"coupon": {"amount_off": 999999, "duration": "forever"}}}
    assert subscription_mrr(_sub((2000, 1, "month", 1), extra=too_much))[0] == 0


@pytest.mark.parametrize("status", ["trialing", "paused", "incomplete", "incomplete_expired", "canceled"])
def test_subscriptions_that_do_not_pay_have_no_mrr(status: str) -> None:
    assert subscription_mrr(_sub((2000, 5, "month", 1), status=status)) == (0, "USD")


def test_a_deleted_subscription_and_one_off_prices_add_nothing() -> None:
    assert subscription_mrr(_sub((2000, 5, "month", 1)), deleted=True)[0] == 0
    one_off = _sub((2000, 1, "month", 1))
    one_off["items"]["data"].append({"quantity": 1, "price": {"unit_amount": 50000, "recurring": None}})
    assert subscription_mrr(one_off)[0] == 2000


def test_a_malformed_price_names_the_field() -> None:
    with pytest.raises(EventInvalid, match=r"data\.object\.items\[0\]\.price\.recurring\.interval must be one of"):
        subscription_mrr(_sub((2000, 1, "fortnight", 1)))
    with pytest.raises(EventInvalid, match="unit_amount must be an integer >= 0"):
        subscription_mrr(_sub((-5, 1, "month", 1)))

"""Stripe over HTTP: subscriptions set the MRR (movements, order-safe, once); charges record what was captured."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from handlers.webhooks.stripe import map_stripe_event
from storage.db import session_scope
from storage.event_types import CustomerChange
from storage.models import Customer, MrrMovement, Payment
from tests.handlers.webhooks.test_platform import AppClient
from tests.handlers.webhooks.test_stripe import T, charge, client, deliver, envelope, subscription

__all__ = ["client"]  # the fixture, on both engines


def priced(*items: tuple[int, int, str], status: str = "active", extra: dict[str, Any] | None = None,
           ) -> dict[str, Any]:
    """A subscription whose items are (unit_amount, quantity, interval) recurring prices in USD."""
    obj = subscription(status=status, quantity=None, items=[q for _, q, _ in items], **(extra or {}))
    for item, (amount, _, interval) in zip(obj["items"]["data"], items, strict=True):
        item["price"].update(unit_amount=amount, type="recurring", recurring={
            "interval": interval, "interval_count": 1, "usage_type": "licensed"})
    return obj


def movements(engine: Engine) -> list[tuple[str, str, int, int]]:
    """(kind, currency, old, new) of every movement, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(select(MrrMovement).order_by(col(MrrMovement.at), col(MrrMovement.id)))
        return [(m.kind, m.currency, m.old_mrr, m.new_mrr) for m in rows]


def customer(engine: Engine) -> tuple[int, str | None, str]:
    """The one customer's MRR, currency and status."""
    with session_scope(engine) as session:
        found = session.exec(select(Customer)).one()
        return found.mrr, found.currency, found.status


def outcome(client: AppClient, kind: str, obj: dict[str, Any], created: int) -> Any:
    """Deliver one event and return its JSON answer."""
    response = deliver(client, envelope(kind, obj, created=created))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_yearly_price_is_a_twelfth_of_it_a_month(client: AppClient, engine: Engine) -> None:
    outcome(client, "customer.subscription.created", priced((120000, 1, "year")), T)
    assert customer(engine) == (10000, "USD", "active")
    assert movements(engine) == [("new", "USD", 0, 10000)]


def test_percent_and_amount_off_lower_the_mrr(client: AppClient, engine: Engine) -> None:
    outcome(client, "customer.subscription.created", priced((2000, 5, "month")), T)
    percent = {"discount": {"coupon": {"id": "Z4OV52SU", "percent_off": 25, "duration": "forever"}}}
    outcome(client, "customer.subscription.updated", priced((2000, 5, "month"), extra=percent), T + 10)
    amount = {"discounts": [{"id": "di_1", "coupon": {"amount_off": 12000, "duration": "repeating"}}]}
    outcome(client, "customer.subscription.updated", priced((120000, 1, "year"), extra=amount), T + 20)
    assert movements(engine) == [("new", "USD", 0, 10000), ("contraction", "USD", 10000, 7500),
                                 ("expansion", "USD", 7500, 9000)]


def test_a_trial_pays_nothing_until_it_converts(client: AppClient, engine: Engine) -> None:
    outcome(client, "customer.subscription.created", priced((2000, 3, "month"), status="trialing"), T)
    assert customer(engine) == (0, "USD", "trialing")
    assert movements(engine) == []
    outcome(client, "customer.subscription.updated", priced((2000, 3, "month")), T + 10)
    assert movements(engine) == [("new", "USD", 0, 6000)]


def test_a_deleted_subscription_churns_its_mrr(client: AppClient, engine: Engine) -> None:
    outcome(client, "customer.subscription.created", priced((2000, 5, "month")), T)
    gone = priced((2000, 5, "month"), status="canceled", extra={"canceled_at": T + 50, "ended_at": T + 60})
    outcome(client, "customer.subscription.deleted", gone, T + 60)
    assert customer(engine) == (0, "USD", "canceled")
    assert movements(engine) == [("new", "USD", 0, 10000), ("churn", "USD", 10000, 0)]
    outcome(client, "customer.subscription.created", priced((2000, 2, "month")), T + 120)
    assert movements(engine)[-1] == ("reactivation", "USD", 0, 4000)


def test_an_older_subscription_event_changes_no_mrr(client: AppClient, engine: Engine) -> None:
    outcome(client, "customer.subscription.updated", priced((2000, 5, "month")), T + 100)
    late = outcome(client, "customer.subscription.updated", priced((2000, 9, "month")), T)
    assert late["outcome"] == "stale"
    assert customer(engine) == (10000, "USD", "active")
    assert movements(engine) == [("new", "USD", 0, 10000)]


def test_a_replayed_subscription_event_writes_one_movement(client: AppClient, engine: Engine) -> None:
    event = envelope("customer.subscription.updated", priced((2000, 5, "month")), created=T)
    assert deliver(client, event).json()["duplicate"] is False
    assert deliver(client, event).json()["duplicate"] is True
    assert movements(engine) == [("new", "USD", 0, 10000)]


def test_a_subscription_worth_more_than_the_amount_rule_is_400(client: AppClient, engine: Engine) -> None:
    response = deliver(client, envelope("customer.subscription.created", priced((10**12, 10**9, "month")), created=T))
    assert response.status_code == 400
    assert "data.object.items add up to more than" in response.json()["error"]
    with session_scope(engine) as session:
        assert session.exec(select(Customer)).first() is None


def payments(engine: Engine) -> list[tuple[int, str]]:
    """(amount, currency) of every payment."""
    with session_scope(engine) as session:
        return [(p.amount, p.currency) for p in session.exec(select(Payment))]


def test_a_partially_captured_charge_records_what_was_captured(client: AppClient, engine: Engine) -> None:
    partial = {**charge(amount=5000), "amount_captured": 3000}
    assert outcome(client, "charge.succeeded", partial, T)["outcome"] == "applied"
    assert payments(engine) == [(3000, "USD")]


def test_an_authorized_charge_is_recorded_when_charge_captured_arrives(client: AppClient, engine: Engine) -> None:
    authorized = {**charge(amount=5000), "amount_captured": 0, "captured": False, "paid": True}
    assert outcome(client, "charge.succeeded", authorized, T)["outcome"] == "ignored"
    assert payments(engine) == []
    captured = {**charge(amount=5000), "amount_captured": 5000, "captured": True}
    assert outcome(client, "charge.captured", captured, T + 30)["outcome"] == "applied"
    assert payments(engine) == [(5000, "USD")]


def test_a_subscription_status_we_do_not_know_states_no_mrr() -> None:
    change = map_stripe_event(envelope("customer.subscription.updated", priced((2000, 5, "month"), status="brand_new"))
                              ).change
    assert isinstance(change, CustomerChange)
    assert (change.fields.status, change.mrr) == (None, None)
    known = map_stripe_event(envelope("customer.subscription.updated", priced((2000, 5, "month")))).change
    assert isinstance(known, CustomerChange)
    assert (known.mrr, known.currency) == (10000, "USD")

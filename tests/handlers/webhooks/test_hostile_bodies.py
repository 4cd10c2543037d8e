"""Hostile but correctly signed webhook bodies: a 400 naming the field, nothing written, no email in the logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette

from bot.deps import Deps
from bot.settings import Settings
from handlers.webhooks.routes import routes
from storage.db import session_scope
from storage.events import count_events
from storage.models import Customer, Payment, PaymentTotal, Payout
from storage.rules import AMOUNT_MAX
from tests.conftest import NOW
from tests.handlers.webhooks.test_platform import EMAIL, NEW_CUSTOMER, SECRET, AppClient, body_of, post, send
from tests.handlers.webhooks.test_stripe import (
    CUS,
    WHSEC,
    charge,
    deliver,
    envelope,
    payout,
    stripe_customer,
    subscription,
)

LONG_EMAIL = "a" * 309 + "@acme.example"  # 322 characters
DOTTED_I_EMAIL = "İ" * 300 + "@acme.example"  # 313 characters, 613 once lower-cased for the stored key


@pytest.fixture
def client(engine: Engine) -> AppClient:
    """A client for both webhook endpoints (both engines)."""
    settings = Settings(database_url="sqlite://", platform_webhook_secret=SecretStr(SECRET),
                        stripe_webhook_secret=SecretStr(WHSEC))
    return AppClient(Starlette(routes=routes(Deps(settings=settings, engine=engine, clock=lambda: NOW))))


def nothing_written(engine: Engine) -> bool:
    """No event logged and no customer, payment or payout stored."""
    with session_scope(engine) as session:
        return count_events(session=session) == 0 and all(
            session.exec(select(table)).first() is None for table in (Customer, Payment, Payout))


def nested(depth: int) -> str:
    """A JSON array nested `depth` levels."""
    return "[" * depth + "]" * depth


def payment(**data: Any) -> dict[str, Any]:
    """A payment.succeeded data object."""
    return {"id": "pay_1", "customer": "c_1", "amount": 100, "currency": "USD", **data}


PLATFORM_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("customer.created", {**NEW_CUSTOMER, "created_at": "0001-01-01T00:00:00+01:00"},
     "data.created_at must be a time from 0001-01-02 to 9999-12-30 in UTC"),
    ("customer.created", {**NEW_CUSTOMER, "canceled_at": "9999-12-31T23:59:59-01:00", "status": "canceled"},
     "data.canceled_at must be a time from 0001-01-02 to 9999-12-30 in UTC"),
    ("payment.succeeded", payment(currency="ZZZ"), "data.currency must be a three-letter ISO 4217 code like USD"),
    ("payout.created", {"id": "po_1", "amount": 1, "currency": "XTS", "status": "paid"},
     "data.currency must be a three-letter ISO 4217 code like USD"),
    ("payment.succeeded", payment(amount=2**63 - 1), f"data.amount must be at most {AMOUNT_MAX}"),
    ("payment.succeeded", payment(fee=AMOUNT_MAX + 1), f"data.fee must be at most {AMOUNT_MAX}"),
    ("payout.created", {"id": "po_1", "amount": 2**64, "currency": "USD", "status": "paid"},
     f"data.amount must be at most {AMOUNT_MAX}"),
    ("customer.created", {**NEW_CUSTOMER, "organization": "Acme\x00Corp"},
     "data.organization must not contain control characters"),
    ("customer.created", {**NEW_CUSTOMER, "organization": "Acme\ud800"},
     "data.organization must not contain control characters"),
    ("customer.created", {**NEW_CUSTOMER, "id": "c\x00"}, "data.id must not contain control characters"),
    ("customer.created", {**NEW_CUSTOMER, "organization": "x" * 501},
     "data.organization must be a non-empty string of at most 500 characters"),
    ("customer.created", {**NEW_CUSTOMER, "email": "two words@x.example"}, "data.email must be an email address"),
    ("customer.created", {**NEW_CUSTOMER, "email": LONG_EMAIL},
     "data.email must be a non-empty string of at most 320 characters"),
    ("customer.created", {**NEW_CUSTOMER, "email": DOTTED_I_EMAIL}, "data.email must be an email address"),
    ("customer.updated", {"customer": "c" * 256, "organization": "Acme", "email": EMAIL},
     "data.customer must be an external id of at most 255 characters, or an email address"),
    ("seats.changed", {"customer": "x@y\x00", "seats": 1}, "data.customer must not contain control characters"),
]


@pytest.mark.parametrize(("kind", "data", "message"), PLATFORM_CASES)
def test_a_platform_event_breaking_a_field_rule_is_400_naming_the_field(
    client: AppClient, engine: Engine, kind: str, data: dict[str, Any], message: str
) -> None:
    response = send(client, "evt_1", kind, data)
    assert (response.status_code, response.json()) == (400, {"error": message})
    assert nothing_written(engine)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_event_time_out_of_range_is_400_naming_created_at(client: AppClient, engine: Engine, at: str) -> None:
    response = send(client, "evt_1", "workspace.renamed", {}, at=at)
    assert (response.status_code, response.json()["error"]) == (
        400, "created_at must be a time from 0001-01-02 to 9999-12-30 in UTC")
    assert nothing_written(engine)


def test_the_edges_of_the_instant_range_are_stored_and_read_back(client: AppClient, engine: Engine) -> None:
    data = {**NEW_CUSTOMER, "status": "canceled", "created_at": "0001-01-02T00:00:00Z",
            "canceled_at": "9999-12-30T23:59:59Z"}
    assert send(client, "evt_1", "customer.created", data).status_code == 200
    with session_scope(engine) as session:
        row = session.exec(select(Customer)).one()
        assert (row.created_at.year, row.canceled_at.year if row.canceled_at else 0) == (1, 9999)


def test_json_nested_5000_levels_is_400_on_both_endpoints(client: AppClient, engine: Engine) -> None:
    platform = post(client, body_of("evt_1", "x", {}).replace(b"{}", nested(5000).encode()))
    assert (platform.status_code, platform.json()) == (400, {"error": "body is not valid JSON: nested too deeply"})
    stripe = deliver(client, json.dumps(envelope("payout.paid", payout("paid"))).replace(
        '"previous_attributes": {}', f'"previous_attributes": {nested(5000)}').encode())
    assert (stripe.status_code, stripe.json()) == (400, {"error": "body is not a JSON Stripe event"})
    assert nothing_written(engine)


def test_payments_at_the_amount_bound_keep_the_running_totals_exact(client: AppClient, engine: Engine) -> None:
    send(client, "evt_c", "customer.created", NEW_CUSTOMER)
    for n in range(3):
        data = payment(id=f"pay_{n}", amount=AMOUNT_MAX, fee=AMOUNT_MAX, refunded_amount=AMOUNT_MAX)
        assert send(client, f"evt_{n}", "payment.succeeded", data).status_code == 200
    with session_scope(engine) as session:
        total = session.exec(select(PaymentTotal).where(PaymentTotal.currency == "USD")).one()
        assert (total.amount, total.fee, total.refunded, total.count) == (3 * AMOUNT_MAX,) * 3 + (3,)
        assert all(isinstance(value, int) for value in (total.amount, total.fee, total.refunded))


def metadata_subscription(**metadata: str) -> dict[str, Any]:
    """A subscription event stating this metadata."""
    return envelope("customer.subscription.created", subscription(metadata=metadata))


STRIPE_CASES: list[tuple[dict[str, Any], str]] = [
    (envelope("charge.succeeded", {**charge(), "currency": "zzz"}),
     "data.object.currency must be a three-letter ISO 4217 code like USD"),
    (envelope("charge.succeeded", charge(amount=2**63 - 1)), f"data.object.amount must be at most {AMOUNT_MAX}"),
    (envelope("payout.paid", {**payout("paid"), "amount": AMOUNT_MAX + 1}),
     f"data.object.amount must be at most {AMOUNT_MAX}"),
    (envelope("customer.subscription.created", subscription(quantity=None, items=[2**31 - 1, 1])),
     "data.object.items quantities must add up to at most 2147483647"),
    (envelope("customer.subscription.created", subscription(quantity=None, items=[2**31])),
     "data.object.items[0].quantity must be at most 2147483647"),
    (metadata_subscription(email=LONG_EMAIL),
     "data.object.metadata.email must be a non-empty string of at most 320 characters"),
    (metadata_subscription(organization="x" * 501),
     "data.object.metadata.organization must be a non-empty string of at most 500 characters"),
    (metadata_subscription(organization="Globex\x00"),
     "data.object.metadata.organization must not contain control characters"),
    (metadata_subscription(email="two words@x.example"), "data.object.metadata.email must be an email address"),
    (envelope("customer.created", stripe_customer(email="nobody")), "data.object.email must be an email address"),
    (envelope("customer.updated", stripe_customer(name="Acme\x00")),
     "data.object.name must not contain control characters"),
    (envelope("customer.created", stripe_customer(id="cus with spaces")),
     "data.object.id must be a Stripe customer id like cus_Na6dX7aXxi11N4"),
    (envelope("charge.succeeded", charge(customer="İ" * 250)),
     "data.object.customer must be a Stripe customer id like cus_Na6dX7aXxi11N4"),
    (envelope("payout.paid", {**payout("paid"), "created": 253402300799}),
     "data.object.created must be at most 253402214399"),
    (envelope("payout.paid", payout("paid"), created=2**40), "created must be at most 253402214399"),
]


@pytest.mark.parametrize(("event", "message"), STRIPE_CASES)
def test_a_stripe_event_breaking_a_field_rule_is_400_naming_the_field(
    client: AppClient, engine: Engine, event: dict[str, Any], message: str
) -> None:
    response = deliver(client, event)
    assert (response.status_code, response.json()) == (400, {"error": message})
    assert nothing_written(engine)


def test_a_stripe_customer_with_a_valid_email_is_stored_and_exportable(client: AppClient, engine: Engine) -> None:
    assert deliver(client, envelope("customer.created", stripe_customer())).status_code == 200
    with session_scope(engine) as session:
        assert session.exec(select(Customer.email)).one() == "jenny.rosen@acme.example"


def test_hostile_events_leave_no_email_and_no_traceback_in_the_logs(
    client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for n, (kind, data, _) in enumerate(PLATFORM_CASES):
        send(client, f"evt_{n}", kind, data)
    send(client, "evt_ok", "customer.created", NEW_CUSTOMER)
    send(client, "evt_taken", "customer.created", {**NEW_CUSTOMER, "id": "c_2"})  # 409: email taken
    for event, _ in STRIPE_CASES:
        deliver(client, event)
    deliver(client, envelope("customer.created", stripe_customer(id=CUS)))
    assert "@" not in caplog.text
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

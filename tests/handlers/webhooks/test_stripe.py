"""POST /stripe/webhook: Stripe-signed events in Stripe's documented shapes, mapped to customers, payments, payouts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette

from bot.deps import Deps
from bot.settings import Settings
from handlers.webhooks.routes import MAX_BODY, routes
from handlers.webhooks.stripe import map_stripe_event, placeholder_email
from storage.db import session_scope
from storage.event_types import EventInvalid
from storage.events import count_events, recent_events
from storage.models import Customer, Payment, Payout
from tests.conftest import NOW
from tests.handlers.webhooks.test_platform import AppClient

WHSEC = "whsec_test_5Jq2B3kZs9cT0vWnYpRfLm7A"
CUS = "cus_Na6dX7aXxi11N4"
T = 1_763_900_000  # 2025-11-23T12:13:20Z


def at(offset: int) -> datetime:
    """T + offset seconds as aware UTC."""
    return datetime.fromtimestamp(T + offset, UTC)


@pytest.fixture
def client(engine: Engine) -> AppClient:
    """A client whose server knows the Stripe signing secret (both engines)."""
    settings = Settings(database_url="sqlite://", stripe_webhook_secret=SecretStr(WHSEC))
    return AppClient(Starlette(routes=routes(Deps(settings=settings, engine=engine, clock=lambda: NOW))))


def envelope(kind: str, obj: dict[str, Any], *, created: int = T, event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event as delivered to webhook endpoints."""
    return {"id": event_id or f"evt_{kind.replace('.', '_')}_{created}", "object": "event",
            "api_version": "2025-03-31.basil", "created": created, "livemode": False, "pending_webhooks": 1,
            "request": {"id": "req_8yBN0WtsrpNT1P", "idempotency_key": "0f4c5c3e-73d1-4e0e-9d9b-1f5b8a0d0c11"},
            "type": kind, "data": {"object": obj, "previous_attributes": {}}}


def deliver(client: AppClient, event: dict[str, Any] | bytes, *, secret: str = WHSEC,
            header: str | None = None) -> Any:
    """POST the event signed the way Stripe signs it (t=..., v1=HMAC-SHA256 of "t.payload")."""
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    signature = header if header is not None else stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret)
    return client.post("/stripe/webhook", content=payload, headers={"Stripe-Signature": signature})


def subscription(*, status: str = "active", quantity: int | None = 5, items: list[int] | None = None,
                 metadata: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """A subscription object (trimmed to documented fields)."""
    item_quantities = items if items is not None else [quantity or 1]
    obj: dict[str, Any] = {
        "id": "sub_1MowQVLkdIwHu7ixeRlqHVzs", "object": "subscription", "application": None,
        "billing_cycle_anchor": T - 86400, "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None,
        "collection_method": "charge_automatically", "created": T - 86400, "currency": "usd", "customer": CUS,
        "ended_at": None, "latest_invoice": "in_1MowQWLkdIwHu7ixuzkSPfKd", "livemode": False,
        "metadata": metadata or {}, "start_date": T - 86400, "status": status,
        "items": {"object": "list", "has_more": False, "total_count": len(item_quantities),
                  "url": "/v1/subscription_items?subscription=sub_1MowQVLkdIwHu7ixeRlqHVzs",
                  "data": [{"id": f"si_{n}", "object": "subscription_item", "created": T - 86400, "metadata": {},
                            "price": {"id": "price_1MowQULkdIwHu7ixraBm864M", "object": "price", "currency": "usd",
                                      "unit_amount": 1000}, "quantity": q,
                            "subscription": "sub_1MowQVLkdIwHu7ixeRlqHVzs"}
                           for n, q in enumerate(item_quantities)]},
    }
    if quantity is not None:
        obj["quantity"] = quantity
    obj.update(extra)
    return obj


def charge(*, amount: int = 2000, refunded: int = 0, customer: str | None = CUS, fee: int | None = 150,
           payment_intent: str | None = "pi_3MtwBwLkdIwHu7ix28a3tqPa") -> dict[str, Any]:
    """A charge object (trimmed to documented fields)."""
    return {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": refunded, "application_fee_amount": fee, "balance_transaction": "txn_3MmlLr",
            "billing_details": {"email": "billing@acme.example", "name": "Jenny Rosen"}, "captured": True,
            "created": T - 60, "currency": "usd", "customer": customer, "paid": True,
            "payment_intent": payment_intent, "receipt_email": None, "refunded": refunded == amount,
            "status": "succeeded"}


def invoice(**extra: Any) -> dict[str, Any]:
    """An invoice object as older API versions send it (with charge and payment_intent)."""
    obj = {"id": "in_1MtHbELkdIwHu7ixl4OzzPMv", "object": "invoice", "amount_due": 2000, "amount_paid": 2000,
           "amount_remaining": 0, "application_fee_amount": 150, "charge": "ch_3MmlLrLkdIwHu7ix0snN0B15",
           "created": T - 120, "currency": "usd", "customer": CUS, "customer_email": "billing@acme.example",
           "customer_name": "Acme", "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "status": "paid",
           "status_transitions": {"finalized_at": T - 110, "paid_at": T - 60, "voided_at": None},
           "subscription": "sub_1MowQVLkdIwHu7ixeRlqHVzs"}
    obj.update(extra)
    return obj


def payout(status: str = "pending") -> dict[str, Any]:
    """A payout object (trimmed to documented fields)."""
    return {"id": "po_1OaFDbEcg9tTZuTgNYmX0PKB", "object": "payout", "amount": 1100, "arrival_date": T + 86400,
            "automatic": True, "balance_transaction": "txn_1OaFDcEcg9tTZuTgYMR25tSe", "created": T,
            "currency": "usd", "description": "STRIPE PAYOUT", "destination": "ba_1MtIhL2eZvKYlo2CAElKwKu2",
            "method": "standard", "status": status, "type": "bank_account"}


def stripe_customer(**extra: Any) -> dict[str, Any]:
    """A customer object (trimmed to documented fields)."""
    obj = {"id": CUS, "object": "customer", "created": T - 90000, "email": "jenny.rosen@acme.example",
           "livemode": False, "metadata": {}, "name": "Acme Corp", "phone": None}
    obj.update(extra)
    return obj


def the_customer(engine: Engine) -> Customer:
    """The only customer."""
    with session_scope(engine) as session:
        row = session.exec(select(Customer)).one()
        session.expunge(row)
        return row


def test_a_subscription_of_an_unknown_customer_creates_it_with_placeholders(client: AppClient,
                                                                            engine: Engine) -> None:
    response = deliver(client, envelope("customer.subscription.created", subscription(quantity=5)))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    c = the_customer(engine)
    assert (c.external_id, c.organization, c.email, c.seats, c.status) == (
        CUS, CUS, placeholder_email(CUS), 5, "active")
    assert c.created_at == at(-86400)


def test_customer_events_fill_in_the_name_and_email_even_when_they_arrive_late(client: AppClient,
                                                                             engine: Engine) -> None:
    deliver(client, envelope("customer.subscription.created", subscription(quantity=5), created=T))
    response = deliver(client, envelope("customer.created", stripe_customer(), created=T - 5))
    assert response.json()["outcome"] == "applied"
    c = the_customer(engine)
    assert (c.organization, c.email, c.seats, c.status) == ("Acme Corp", "jenny.rosen@acme.example", 5, "active")


def test_subscription_metadata_names_the_organization_and_email(client: AppClient, engine: Engine) -> None:
    meta = {"organization": "Globex", "email": "ops@globex.example"}
    deliver(client, envelope("customer.subscription.created", subscription(metadata=meta)))
    c = the_customer(engine)
    assert (c.organization, c.email) == ("Globex", "ops@globex.example")


def test_seats_are_the_sum_of_item_quantities_when_the_subscription_has_no_quantity(client: AppClient,
                                                                                  engine: Engine) -> None:
    deliver(client, envelope("customer.subscription.created", subscription(quantity=None, items=[3, 4])))
    assert the_customer(engine).seats == 7


def test_a_deleted_subscription_cancels_the_customer_when_it_ended(client: AppClient, engine: Engine) -> None:
    deliver(client, envelope("customer.subscription.created", subscription()))
    ended = subscription(status="canceled", canceled_at=T + 50, ended_at=T + 60)
    deliver(client, envelope("customer.subscription.deleted", ended, created=T + 61))
    c = the_customer(engine)
    assert (c.status, c.canceled_at) == ("canceled", at(60))


def test_an_expired_incomplete_subscription_counts_as_canceled(client: AppClient, engine: Engine) -> None:
    deliver(client, envelope("customer.subscription.updated", subscription(status="incomplete_expired")))
    c = the_customer(engine)
    assert (c.status, c.canceled_at) == ("canceled", at(0))


def test_an_older_subscription_update_is_stale(client: AppClient, engine: Engine) -> None:
    deliver(client, envelope("customer.subscription.updated", subscription(quantity=9), created=T + 100))
    late = deliver(client, envelope("customer.subscription.updated", subscription(quantity=2), created=T + 50))
    assert late.json()["outcome"] == "stale"
    assert the_customer(engine).seats == 9


def test_a_charge_and_its_invoice_make_one_payment(client: AppClient, engine: Engine) -> None:
    deliver(client, envelope("charge.succeeded", charge(), created=T - 59))
    deliver(client, envelope("invoice.paid", invoice(), created=T - 58))
    with session_scope(engine) as session:
        p = session.exec(select(Payment)).one()
        assert (p.external_id, p.amount, p.currency, p.fee, p.refunded_amount) == (
            "pi_3MtwBwLkdIwHu7ix28a3tqPa", 2000, "USD", 150, 0)
        assert p.created_at == at(-60)


def test_an_invoice_paid_first_is_joined_by_its_charge(client: AppClient, engine: Engine) -> None:
    deliver(client, envelope("invoice.paid", invoice(payment_intent=None), created=T - 58))
    deliver(client, envelope("charge.succeeded", charge(payment_intent=None), created=T - 59))
    with session_scope(engine) as session:
        assert [p.external_id for p in session.exec(select(Payment))] == ["ch_3MmlLrLkdIwHu7ix0snN0B15"]


def test_a_basil_invoice_without_payment_ids_is_ignored_so_nothing_is_counted_twice(client: AppClient,
                                                                                 engine: Engine) -> None:
    basil = invoice(charge=None, payment_intent=None)
    del basil["charge"], basil["payment_intent"]
    response = deliver(client, envelope("invoice.paid", basil))
    assert response.json()["outcome"] == "ignored"
    with session_scope(engine) as session:
        assert session.exec(select(Payment)).first() is None
        assert "charge.succeeded records it" in (recent_events(session=session)[0].detail or "")


def test_an_invoice_listing_its_payments_uses_the_payment_intent(client: AppClient, engine: Engine) -> None:
    basil = invoice(charge=None, payment_intent=None, payments={"object": "list", "data": [
        {"id": "inpay_1M3USa2eZvKYlo2CBjuwbq0N", "object": "invoice_payment", "amount_paid": 2000,
         "payment": {"type": "payment_intent", "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa"}}]})
    deliver(client, envelope("invoice.paid", basil))
    deliver(client, envelope("charge.succeeded", charge()))
    with session_scope(engine) as session:
        assert [p.external_id for p in session.exec(select(Payment))] == ["pi_3MtwBwLkdIwHu7ix28a3tqPa"]


def test_a_refund_sets_the_refunded_amount_and_time(client: AppClient, engine: Engine) -> None:
    deliver(client, envelope("charge.succeeded", charge(), created=T - 59))
    deliver(client, envelope("charge.refunded", charge(refunded=500), created=T + 3600))
    with session_scope(engine) as session:
        p = session.exec(select(Payment)).one()
        assert (p.amount, p.refunded_amount, p.refunded_at) == (2000, 500, at(3600))


def test_a_charge_without_a_customer_is_ignored(client: AppClient, engine: Engine) -> None:
    assert deliver(client, envelope("charge.succeeded", charge(customer=None))).json()["outcome"] == "ignored"
    with session_scope(engine) as session:
        assert session.exec(select(Payment)).first() is None


def test_payouts_follow_their_lifecycle(client: AppClient, engine: Engine) -> None:
    for n, (kind, status) in enumerate([("payout.created", "pending"), ("payout.updated", "in_transit"),
                                        ("payout.paid", "paid")]):
        assert deliver(client, envelope(kind, payout(status), created=T + n)).status_code == 200
    late = deliver(client, envelope("payout.failed", payout("failed"), created=T - 1))
    assert late.json()["outcome"] == "stale"
    with session_scope(engine) as session:
        po = session.exec(select(Payout)).one()
        assert (po.amount, po.currency, po.status, po.arrival_date) == (1100, "USD", "paid", at(86400))


def test_a_redelivered_stripe_event_changes_nothing(client: AppClient, engine: Engine) -> None:
    event = envelope("customer.subscription.created", subscription(quantity=5))
    deliver(client, event)
    assert deliver(client, event).json()["duplicate"] is True
    with session_scope(engine) as session:
        assert count_events(session=session, source="stripe") == 1


def test_event_types_we_do_not_sync_are_acknowledged_as_ignored(client: AppClient, engine: Engine) -> None:
    response = deliver(client, envelope("checkout.session.completed", {"id": "cs_test_a1", "object": "x"}))
    assert response.json()["outcome"] == "ignored"


@pytest.mark.parametrize("header", ["", "t=1,v1=abc", "garbage"])
def test_a_missing_or_wrong_stripe_signature_is_401_and_nothing_is_written(
    client: AppClient, engine: Engine, header: str
) -> None:
    response = deliver(client, envelope("payout.paid", payout("paid")), header=header)
    assert response.status_code == 401
    with session_scope(engine) as session:
        assert count_events(session=session) == 0


def test_a_signature_made_with_another_secret_is_401(client: AppClient) -> None:
    response = deliver(client, envelope("payout.paid", payout("paid")), secret="whsec_other")
    assert response.status_code == 401


def test_a_stale_stripe_signature_is_401(client: AppClient) -> None:
    payload = json.dumps(envelope("payout.paid", payout("paid")))
    old = stripe.WebhookSignature.generate_signature_header(payload, WHSEC, timestamp=int(time.time()) - 301)
    assert deliver(client, payload.encode(), header=old).status_code == 401


@pytest.mark.parametrize("ahead", [301, 365 * 86400])
def test_a_stripe_signature_from_the_future_is_401_and_writes_nothing(client: AppClient, engine: Engine,
                                                                      ahead: int) -> None:
    payload = json.dumps(envelope("payout.paid", payout("paid")))
    future = stripe.WebhookSignature.generate_signature_header(payload, WHSEC, timestamp=int(time.time()) + ahead)
    assert deliver(client, payload.encode(), header=future).status_code == 401
    with session_scope(engine) as session:
        assert count_events(session=session) == 0


def test_a_signed_body_that_is_not_json_is_400(client: AppClient) -> None:
    response = deliver(client, b"not json at all")
    assert response.status_code == 400
    assert response.json()["error"] == "body is not a JSON Stripe event"


def test_a_signed_event_missing_a_field_is_400_naming_it(client: AppClient, engine: Engine) -> None:
    broken = charge()
    del broken["amount"]
    response = deliver(client, envelope("charge.succeeded", broken))
    assert (response.status_code, response.json()) == (400, {"error": "data.object.amount is required"})


def test_without_a_stripe_secret_webhooks_are_refused_with_503(engine: Engine) -> None:
    app = Starlette(routes=routes(Deps(settings=Settings(database_url="sqlite://"), engine=engine)))
    response = deliver(AppClient(app), envelope("payout.paid", payout("paid")))
    assert response.status_code == 503


def test_a_stripe_body_over_one_megabyte_is_413(client: AppClient) -> None:
    big = envelope("payout.paid", {**payout("paid"), "description": "x" * MAX_BODY})
    assert deliver(client, big).status_code == 413


def test_mapping_rejects_a_subscription_without_a_customer() -> None:
    with pytest.raises(EventInvalid, match=r"data\.object\.customer is required"):
        map_stripe_event(envelope("customer.subscription.updated", subscription(customer=None)))


def test_mapping_keeps_an_unknown_subscription_status_unstated() -> None:
    event = map_stripe_event(envelope("customer.subscription.updated", subscription(status="brand_new", quantity=2)))
    fields = getattr(event.change, "fields", None)
    assert fields is not None
    assert (fields.status, fields.seats) == (None, 2)

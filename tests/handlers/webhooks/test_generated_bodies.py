"""Generated, correctly signed bodies on both webhook endpoints: always an answer (2xx/4xx), never a 500 or a traceback.

Values mix what the store accepts with what it must refuse (control characters, huge numbers, dates at the ends of
time, unknown currencies, bad emails, wrong JSON types), so examples reach the store as well as the validators.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import Engine
from starlette.applications import Starlette

from bot.deps import Deps
from bot.settings import Settings
from handlers.webhooks.routes import routes
from handlers.webhooks.signatures import sign_platform
from tests.conftest import NOW
from tests.handlers.webhooks.test_platform import SECRET, AppClient
from tests.handlers.webhooks.test_stripe import WHSEC, T

ANSWERS = {200, 400, 409}
RUNS = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
hostile: st.SearchStrategy[Any] = st.sampled_from([
    None, True, False, -1, 0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**12, 10**12 + 1, 1.5, "", " ", "\x00",
    "Acme\x00", "\ud800", "x" * 600, "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-02T00:00:00Z",
    "2026-11-24T11:00:00Z", "2026-11-24T11:00:00", "ZZZ", "usd", "EUR", "a@b", "nobody", "two words@x.example",
    "İ" * 200 + "@x.example", "a" * 330 + "@x.example", "c_1", "cus_1", "canceled", "paid", {}, [], {"id": "x"},
    {"data": [{"quantity": 2**31 - 1}, {"quantity": 2}]},
])
values = hostile | json_values


def _mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` four times in five, else `other` (one_of would not weigh repeated branches)."""
    return st.sampled_from([True] * 4 + [False]).flatmap(lambda pick: usual if pick else other)


def _plausible(*options: Any) -> st.SearchStrategy[Any]:
    """Mostly a value the store accepts, else a hostile one."""
    return _mostly(st.sampled_from(options), values)


fresh_ids = st.uuids().map(lambda u: f"evt_{u.hex[:12]}")


PLATFORM_FIELDS = {
    "id": _plausible("c_1", "c_2", "pay_1", "po_1"), "customer": _plausible("c_1", "o1@acme.example"),
    "organization": _plausible("Acme", "Globex"), "email": _plausible("o1@acme.example", "o2@acme.example"),
    "seats": _plausible(0, 5, 2**31 - 1), "status": _plausible("active", "canceled", "pending", "paid"),
    "created_at": _plausible("2026-11-24T10:00:00Z"), "canceled_at": _plausible("2026-11-24T10:30:00+01:00"),
    "amount": _plausible(100, 10**12), "currency": _plausible("USD", "jpy"), "fee": _plausible(0, 10**12),
    "refunded_amount": _plausible(0, 50), "refunded_at": _plausible("2026-11-24T10:00:00Z"),
    "arrival_date": _plausible("2026-11-25T00:00:00Z"),
}
platform_events = st.fixed_dictionaries({
    "id": _mostly(fresh_ids, values),
    "type": _plausible("customer.created", "customer.updated", "customer.canceled", "seats.changed",
                       "payment.succeeded", "payment.refunded", "payout.created", "payout.updated", "other.kind"),
    "created_at": _plausible("2026-11-24T11:00:00Z", "2026-11-24T11:59:00Z"),
    "data": st.fixed_dictionaries({"id": PLATFORM_FIELDS["id"]},
                                  optional={k: v for k, v in PLATFORM_FIELDS.items() if k != "id"}),
})

STRIPE_FIELDS = {
    "id": _plausible("cus_1", "ch_1", "po_1", "in_1"), "customer": _plausible("cus_1", {"id": "cus_2"}),
    "email": _plausible("j@acme.example"), "name": _plausible("Acme"), "created": _plausible(T, T - 60),
    "metadata": _plausible({"organization": "Globex", "email": "g@globex.example"}, {"email": "x" * 400}),
    "status": _plausible("active", "incomplete_expired", "paid", "pending"), "quantity": _plausible(1, 2**31 - 1),
    "items": _plausible({"object": "list", "data": [{"quantity": 2}, {"quantity": 3}]}),
    "ended_at": _plausible(T), "canceled_at": _plausible(T), "start_date": _plausible(T - 86400),
    "payment_intent": _plausible("pi_1", {"id": "pi_2"}), "amount": _plausible(2000, 10**12),
    "currency": _plausible("usd", "kwd"), "application_fee_amount": _plausible(150),
    "amount_refunded": _plausible(0, 500), "refunds": _plausible({"data": [{"created": T + 1}]}),
    "charge": _plausible("ch_1"), "payments": _plausible({"data": [{"payment": {"payment_intent": "pi_1"}}]}),
    "amount_paid": _plausible(2000, 0), "status_transitions": _plausible({"paid_at": T}),
    "arrival_date": _plausible(T + 86400),
}
stripe_objects = st.fixed_dictionaries({"id": STRIPE_FIELDS["id"]},
                                       optional={k: v for k, v in STRIPE_FIELDS.items() if k != "id"})
stripe_events = st.fixed_dictionaries({
    "id": _mostly(fresh_ids, values), "object": st.just("event"),
    "type": _plausible("customer.created", "customer.updated", "customer.subscription.created",
                       "customer.subscription.deleted", "charge.succeeded", "charge.refunded", "invoice.paid",
                       "payout.created", "payout.paid", "checkout.session.completed"),
    "created": _plausible(T, T + 10), "data": st.fixed_dictionaries({"object": stripe_objects}),
})


class Collector(logging.Handler):
    """Keeps every log record the endpoint writes during a test."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


@pytest.fixture
def collector() -> Iterator[Collector]:
    """Every record logged while the test runs."""
    handler, root = Collector(), logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
def client(engine: Engine) -> AppClient:
    """Both webhook endpoints on a store of each engine."""
    built = Settings(database_url="sqlite://", platform_webhook_secret=SecretStr(SECRET),
                     stripe_webhook_secret=SecretStr(WHSEC))
    client = AppClient(Starlette(routes=routes(Deps(settings=built, engine=engine, clock=lambda: NOW))))
    seeds = [("customer.created", {"id": "c_1", "organization": "Acme", "email": "o1@acme.example"}),
             ("payment.succeeded", {"id": "pay_1", "customer": "c_1", "amount": 100, "currency": "USD"}),
             ("payout.created", {"id": "po_1", "amount": 100, "currency": "USD", "status": "pending"})]
    for n, (kind, data) in enumerate(seeds):  # so generated updates find something to update
        body = json.dumps({"id": f"seed_{n}", "type": kind, "created_at": "2026-11-24T09:00:00Z", "data": data})
        headers = {"X-Platform-Signature": sign_platform(body.encode(), SECRET, int(NOW.timestamp()))}
        assert client.post("/platform/events", content=body.encode(), headers=headers).status_code == 200
    return client


def assert_answered_cleanly(status: int, collector: Collector) -> None:
    """A 2xx/4xx answer, and nothing logged at ERROR or with a traceback."""
    assert status in ANSWERS
    bad = [r for r in collector.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@RUNS
@given(body=_mostly(platform_events, values).map(lambda payload: json.dumps(payload).encode())
       | st.binary(max_size=64))
def test_generated_platform_bodies_are_always_answered(client: AppClient, collector: Collector, body: bytes) -> None:
    headers = {"X-Platform-Signature": sign_platform(body, SECRET, int(NOW.timestamp())),
               "content-type": "application/json"}
    response = client.post("/platform/events", content=body, headers=headers)
    assert_answered_cleanly(response.status_code, collector)


@RUNS
@given(body=_mostly(stripe_events, values).map(json.dumps) | st.text(max_size=64))
def test_generated_stripe_bodies_are_always_answered(client: AppClient, collector: Collector, body: str) -> None:
    try:
        payload = body.encode()
    except UnicodeEncodeError:  # a lone surrogate: not a body anyone can send
        return
    headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, WHSEC)}
    response = client.post("/stripe/webhook", content=payload, headers=headers)
    assert_answered_cleanly(response.status_code, collector)

"""POST /platform/events over HTTP: signatures, size limit, validation, idempotency, ordering, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette

from bot.deps import Deps
from bot.settings import Settings
from handlers.webhooks.platform import parse_platform_event
from handlers.webhooks.routes import MAX_BODY, routes
from handlers.webhooks.signatures import sign_platform, verify_platform
from storage.db import session_scope
from storage.event_types import EventInvalid
from storage.events import count_events
from storage.models import Customer, Payment, Payout, SeatChange
from tests.conftest import NOW

SECRET = "plat_test_secret_0123456789"
EMAIL = "owner@acme.example"


class AppClient:
    """A synchronous client calling the ASGI app in-process through httpx (request bodies may be streamed)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def request(self, method: str, url: str, *, content: bytes | list[bytes] = b"",
                headers: dict[str, Any] | None = None) -> httpx.Response:
        """Send one request; a list of chunks is streamed without a Content-Length."""
        async def stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                body = stream(content) if isinstance(content, list) else content
                return await client.request(method, url, content=body, headers=headers)

        return asyncio.run(go())

    def post(self, url: str, *, content: bytes | list[bytes] = b"",
             headers: dict[str, Any] | None = None) -> httpx.Response:
        """POST."""
        return self.request("POST", url, content=content, headers=headers)

    def get(self, url: str) -> httpx.Response:
        """GET."""
        return self.request("GET", url)


def make_client(engine: Engine, secret: str = SECRET, **settings: Any) -> AppClient:
    """A client for an app serving only the webhook routes, with a fixed clock."""
    built = Settings(database_url="sqlite://", platform_webhook_secret=SecretStr(secret), **settings)
    return AppClient(Starlette(routes=routes(Deps(settings=built, engine=engine, clock=lambda: NOW))))


@pytest.fixture
def client(engine: Engine) -> AppClient:
    """A client on both engines."""
    return make_client(engine)


def body_of(event_id: str, kind: str, data: dict[str, Any], *, at: str = "2026-11-24T11:00:00Z") -> bytes:
    """A platform event body."""
    return json.dumps({"id": event_id, "type": kind, "created_at": at, "data": data}).encode()


def post(client: AppClient, body: bytes, *, signature: str | None = "good", offset: int = 0) -> Any:
    """POST a body, signed now (+offset seconds) unless told otherwise."""
    headers: dict[str, Any] = {"content-type": "application/json"}
    if signature == "good":
        headers["X-Platform-Signature"] = sign_platform(body, SECRET, int(NOW.timestamp()) + offset)
    elif signature is not None:
        headers["X-Platform-Signature"] = signature.encode()
    return client.post("/platform/events", content=body, headers=headers)


def send(client: AppClient, event_id: str, kind: str, data: dict[str, Any], **kw: Any) -> Any:
    """Build, sign and POST one event."""
    return post(client, body_of(event_id, kind, data, **{k: v for k, v in kw.items() if k == "at"}))


NEW_CUSTOMER = {"id": "c_1", "organization": "Acme", "email": EMAIL, "seats": 3}


def nothing_written(engine: Engine) -> bool:
    """No event logged and no customer stored."""
    with session_scope(engine) as session:
        return count_events(session=session) == 0 and session.exec(select(Customer)).first() is None


def test_a_signed_event_is_applied_and_acknowledged_after_commit(client: AppClient, engine: Engine) -> None:
    response = send(client, "evt_1", "customer.created", NEW_CUSTOMER)
    assert response.status_code == 200
    assert response.json() == {"id": "evt_1", "outcome": "applied", "duplicate": False}
    with session_scope(engine) as session:
        row = session.exec(select(Customer)).one()
        assert (row.external_id, row.organization, row.seats, row.status) == ("c_1", "Acme", 3, "active")
        assert row.created_at == NOW - timedelta(hours=1)  # the event's time when data.created_at is absent


def test_a_redelivered_event_is_acknowledged_and_changes_nothing(client: AppClient, engine: Engine) -> None:
    send(client, "evt_1", "customer.created", NEW_CUSTOMER)
    send(client, "evt_2", "seats.changed", {"customer": "c_1", "seats": 8}, at="2026-11-24T11:30:00Z")
    again = send(client, "evt_2", "seats.changed", {"customer": "c_1", "seats": 8}, at="2026-11-24T11:30:00Z")
    assert again.status_code == 200
    assert again.json() == {"id": "evt_2", "outcome": "applied", "duplicate": True}
    with session_scope(engine) as session:
        assert len(session.exec(select(SeatChange)).all()) == 1


def test_an_older_event_is_acknowledged_as_stale(client: AppClient, engine: Engine) -> None:
    send(client, "evt_1", "customer.created", NEW_CUSTOMER)
    send(client, "evt_2", "seats.changed", {"id": "c_1", "seats": 9}, at="2026-11-24T11:40:00Z")
    late = send(client, "evt_3", "seats.changed", {"customer": EMAIL, "seats": 4}, at="2026-11-24T11:20:00Z")
    assert late.json()["outcome"] == "stale"
    with session_scope(engine) as session:
        assert session.exec(select(Customer.seats)).one() == 9


@pytest.mark.parametrize("signature", [
    None, "", "garbage", "t=,v1=", "v1=abc", "t=1764000000", "t=abc,v1=00", "t=1764000000,v1=" + "0" * 64,
    "t=1764000000,v1=ünïcødé",
])
def test_a_missing_malformed_or_wrong_signature_is_401_and_nothing_is_written(
    client: AppClient, engine: Engine, signature: str | None
) -> None:
    response = post(client, body_of("evt_1", "customer.created", NEW_CUSTOMER), signature=signature)
    assert response.status_code == 401
    assert "X-Platform-Signature" in response.json()["error"]
    assert nothing_written(engine)


@pytest.mark.parametrize("offset", [-301, 301, -3600, 86400])
def test_a_signature_older_or_newer_than_five_minutes_is_401(client: AppClient, engine: Engine, offset: int) -> None:
    assert post(client, body_of("e", "customer.created", NEW_CUSTOMER), offset=offset).status_code == 401
    assert nothing_written(engine)


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_signature_within_five_minutes_is_accepted(client: AppClient, offset: int) -> None:
    assert post(client, body_of("e", "customer.created", NEW_CUSTOMER), offset=offset).status_code == 200


def test_a_signature_over_another_body_is_401(client: AppClient, engine: Engine) -> None:
    signed = body_of("evt_1", "customer.created", NEW_CUSTOMER)
    tampered = signed.replace(b'"seats": 3', b'"seats": 300')
    header = sign_platform(signed, SECRET, int(NOW.timestamp()))
    assert post(client, tampered, signature=header).status_code == 401
    assert nothing_written(engine)


def test_any_of_several_v1_signatures_may_match_during_secret_rotation() -> None:
    body = b"{}"
    good = sign_platform(body, SECRET, 1000).split(",")[1]
    header = f"t=1000,v1={'f' * 64},{good}"
    assert verify_platform(header=header, body=body, secret=SECRET, now=1000.0)


def test_without_a_configured_secret_every_event_is_refused_with_503(engine: Engine) -> None:
    body = body_of("evt_1", "customer.created", NEW_CUSTOMER)
    headers = {"X-Platform-Signature": sign_platform(body, "", int(NOW.timestamp()))}
    response = make_client(engine, secret="").post("/platform/events", content=body, headers=headers)
    assert response.status_code == 503
    assert "PLATFORM_WEBHOOK_SECRET" in response.json()["error"]
    assert nothing_written(engine)


def test_a_body_over_one_megabyte_is_413_by_declared_length(client: AppClient, engine: Engine) -> None:
    body = body_of("evt_1", "customer.created", {**NEW_CUSTOMER, "pad": "x" * MAX_BODY})
    assert post(client, body).status_code == 413
    assert nothing_written(engine)


def test_a_streamed_body_over_one_megabyte_is_413(client: AppClient, engine: Engine) -> None:
    body = body_of("evt_1", "customer.created", {**NEW_CUSTOMER, "pad": "x" * MAX_BODY})
    chunks = [body[start:start + 65536] for start in range(0, len(body), 65536)]
    headers = {"X-Platform-Signature": sign_platform(body, SECRET, int(NOW.timestamp()))}
    response = client.post("/platform/events", content=chunks, headers=headers)  # chunked: no Content-Length
    assert response.status_code == 413
    assert nothing_written(engine)


def test_a_body_of_exactly_one_megabyte_is_read(client: AppClient) -> None:
    base = body_of("evt_1", "customer.created", {**NEW_CUSTOMER, "pad": ""})
    body = base.replace(b'"pad": ""', b'"pad": "' + b"x" * (MAX_BODY - len(base)) + b'"')
    assert len(body) == MAX_BODY
    assert post(client, body).status_code == 200


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "body is not valid JSON"),
    (b"[1, 2]", "body must be a JSON object"),
    (b'{"type": "customer.created", "created_at": "2026-11-24T11:00:00Z", "data": {}}', "id is required"),
    (body_of("e", "customer.created", NEW_CUSTOMER, at="2026-11-24 11:00"), "created_at must be an ISO 8601"),
    (body_of("e", "customer.created", {**NEW_CUSTOMER, "seats": -1}), "data.seats must be an integer >= 0"),
    (body_of("e", "customer.created", {**NEW_CUSTOMER, "seats": "3"}), "data.seats must be an integer >= 0"),
    (body_of("e", "customer.created", {**NEW_CUSTOMER, "seats": True}), "data.seats must be an integer >= 0"),
    (body_of("e", "customer.created", {**NEW_CUSTOMER, "seats": 2.5}), "data.seats must be an integer >= 0"),
    (body_of("e", "customer.created", {**NEW_CUSTOMER, "seats": 2**31}), "data.seats must be at most 2147483647"),
    (body_of("e", "customer.created", {**NEW_CUSTOMER, "email": "nope"}), "data.email must be an email address"),
    (body_of("e", "customer.created", {"id": "c_1", "email": EMAIL}), "data.organization is required"),
    (body_of("e", "customer.updated", {"id": "c_1", "status": "gone"}), "data.status must be one of"),
    (body_of("e", "customer.updated", {"id": "c_1"}), "data must state at least one of"),
    (body_of("e", "seats.changed", {"seats": 3}), "data.id or data.customer is required"),
    (body_of("e", "payment.succeeded", {"id": "p", "customer": "c_1", "amount": 100, "currency": "EURO"}),
     "data.currency must be a three-letter ISO 4217 code"),
    (body_of("e", "payment.succeeded", {"id": "p", "customer": "c_1", "amount": 1.5, "currency": "EUR"}),
     "data.amount must be an integer >= 0"),
    (body_of("e", "payment.refunded", {"id": "p", "amount": 100, "refunded_amount": 200}),
     "data.refunded_amount must not exceed data.amount"),
    (body_of("e", "payout.created", {"id": "po", "amount": 1, "currency": "USD", "status": "lost"}),
     "data.status must be one of"),
    (json.dumps({"id": "e", "type": "seats.changed", "created_at": "2026-11-24T11:00:00Z"}).encode(),
     "data is required"),
    (body_of("e", "seats.changed", {"id": "c_1", "seats": 1}, at="2026-11-24T12:06:00Z"),
     "created_at is in the future"),
])
def test_malformed_events_are_400_naming_the_problem_and_nothing_is_written(
    client: AppClient, engine: Engine, body: bytes, message: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert nothing_written(engine)


def test_an_unknown_type_is_acknowledged_and_recorded_as_ignored(client: AppClient, engine: Engine) -> None:
    response = send(client, "evt_9", "workspace.renamed", {"anything": ["goes"]})
    assert response.json() == {"id": "evt_9", "outcome": "ignored", "duplicate": False}
    with session_scope(engine) as session:
        assert count_events(session=session, outcome="ignored") == 1


def test_an_event_for_an_unknown_customer_is_409_so_the_sender_retries(client: AppClient, engine: Engine) -> None:
    response = send(client, "evt_1", "seats.changed", {"customer": "c_404", "seats": 2})
    assert response.status_code == 409
    assert "'c_404' is not known yet" in response.json()["error"]
    assert nothing_written(engine)


def test_every_event_type_updates_the_store(client: AppClient, engine: Engine) -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("customer.created", NEW_CUSTOMER),
        ("customer.updated", {"id": "c_1", "organization": "Acme Inc", "email": "new@acme.example"}),
        ("seats.changed", {"customer": "new@acme.example", "seats": 12}),
        ("customer.canceled", {"id": "c_1", "canceled_at": "2026-11-24T09:00:00+01:00"}),
        ("customer.updated", {"id": "c_1", "status": "active"}),
        ("payment.succeeded", {"id": "pay_1", "customer": "c_1", "amount": 12000, "currency": "eur", "fee": 360,
                               "created_at": "2026-11-20T10:00:00Z"}),
        ("payment.refunded", {"id": "pay_1", "refunded_amount": 2000, "refunded_at": "2026-11-21T10:00:00Z"}),
        ("payout.created", {"id": "po_1", "amount": 9000, "currency": "EUR", "status": "pending"}),
        ("payout.updated", {"id": "po_1", "status": "paid", "arrival_date": "2026-11-23T00:00:00Z"}),
    ]
    for n, (kind, data) in enumerate(steps):
        response = send(client, f"evt_{n}", kind, data, at=f"2026-11-24T10:{n:02d}:00Z")
        assert response.status_code == 200, response.json()
        assert response.json()["outcome"] == "applied"
    with session_scope(engine) as session:
        c = session.exec(select(Customer)).one()
        assert (c.organization, c.email, c.seats, c.status, c.canceled_at) == (
            "Acme Inc", "new@acme.example", 12, "active", None)
        p = session.exec(select(Payment)).one()
        assert (p.amount, p.currency, p.fee, p.refunded_amount, p.refunded_at.isoformat() if p.refunded_at else "") \
            == (12000, "EUR", 360, 2000, "2026-11-21T10:00:00+00:00")
        po = session.exec(select(Payout)).one()
        assert (po.status, po.amount, po.arrival_date is not None) == ("paid", 9000, True)


def test_a_cancel_without_a_time_is_dated_at_the_event(client: AppClient, engine: Engine) -> None:
    send(client, "evt_1", "customer.created", NEW_CUSTOMER)
    send(client, "evt_2", "customer.canceled", {"customer": EMAIL}, at="2026-11-24T11:45:00Z")
    with session_scope(engine) as session:
        c = session.exec(select(Customer)).one()
        assert (c.status, c.canceled_at) == ("canceled", NOW - timedelta(minutes=15))


def test_logs_name_the_event_but_never_emails_or_secrets(
    client: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    send(client, "evt_1", "customer.created", NEW_CUSTOMER)
    send(client, "evt_2", "customer.updated", {"id": "c_1", "email": "bad email"})
    send(client, "evt_3", "customer.created", {**NEW_CUSTOMER, "id": "c_2"})  # email taken: 409
    post(client, body_of("evt_4", "customer.created", NEW_CUSTOMER), signature="t=1,v1=00")
    text = caplog.text
    assert "'evt_1' type='customer.created' outcome=applied" in text
    assert "409" in text
    assert "acme.example" not in text
    assert "bad email" not in text
    assert SECRET not in text


def test_the_get_method_is_not_allowed(client: AppClient) -> None:
    assert client.get("/platform/events").status_code == 405


def test_parsing_accepts_offsets_and_normalises_to_utc() -> None:
    event = parse_platform_event({"id": "e", "type": "seats.changed", "created_at": "2026-11-24T13:00:00+01:00",
                                  "data": {"id": "c_1", "seats": 0}})
    assert event.created_at == NOW


def test_parsing_rejects_a_naive_timestamp() -> None:
    with pytest.raises(EventInvalid, match="created_at must be an ISO 8601 timestamp with a zone"):
        parse_platform_event({"id": "e", "type": "x", "created_at": "2026-11-24T13:00:00", "data": {}})


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_the_readme_openssl_recipe_produces_a_valid_signature() -> None:
    body = '{"id":"evt_1","type":"seats.changed","created_at":"2026-11-24T11:00:00Z","data":{"id":"c_1","seats":5}}'
    script = ('ts=1764000000; '
              'sig=$(printf "%s.%s" "$ts" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed "s/^.* //"); '
              'printf "t=%s,v1=%s" "$ts" "$sig"')
    header = subprocess.run(["bash", "-c", script], env={"BODY": body, "SECRET": SECRET, "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, check=True).stdout
    assert verify_platform(header=header, body=body.encode(), secret=SECRET, now=1764000000.0)

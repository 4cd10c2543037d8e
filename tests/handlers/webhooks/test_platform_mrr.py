"""Platform events carrying MRR over HTTP: movements with ChartMogul's kinds, order-safe, churn on cancellation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from storage.db import session_scope
from storage.models import Customer, MrrMovement
from tests.conftest import NOW
from tests.handlers.webhooks.test_platform import NEW_CUSTOMER, make_client, send


def _movements(engine: Engine) -> list[tuple[str, str, int, int]]:
    """(kind, currency, old, new) of every movement, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(select(MrrMovement).order_by(MrrMovement.at, MrrMovement.id))  # type: ignore[arg-type]
        return [(m.kind, m.currency, m.old_mrr, m.new_mrr) for m in rows]


def _at(ago: timedelta) -> str:
    """An event time that long before NOW, as the platform sends it."""
    return (NOW - ago).isoformat()


def _customer(engine: Engine) -> tuple[int, str | None, str]:
    with session_scope(engine) as session:
        c = session.exec(select(Customer)).one()
        return c.mrr, c.currency, c.status


def test_mrr_from_platform_events_writes_one_movement_per_change(engine: Engine) -> None:
    client = make_client(engine)
    hour = timedelta(hours=1)
    created = send(client, "e1", "customer.created", {**NEW_CUSTOMER, "mrr": 6000, "currency": "eur"},
                   at=_at(5 * hour))
    assert created.status_code == 200
    assert send(client, "e2", "seats.changed", {"id": "c_1", "seats": 5, "mrr": 10000}, at=_at(4 * hour)).json()[
        "outcome"] == "applied"
    assert send(client, "e3", "customer.updated", {"id": "c_1", "mrr": 8000}, at=_at(3 * hour)).json()[
        "outcome"] == "applied"
    stale = send(client, "e4", "customer.updated", {"id": "c_1", "mrr": 1}, at=_at(4.5 * hour)).json()
    assert stale["outcome"] == "stale"  # older than the MRR the store has
    assert send(client, "e5", "customer.canceled", {"id": "c_1"}, at=_at(2 * hour)).json()["outcome"] == "applied"
    assert send(client, "e6", "customer.updated", {"id": "c_1", "status": "active", "mrr": 7000},
                at=_at(hour)).json()["outcome"] == "applied"
    assert send(client, "e6", "customer.updated", {"id": "c_1", "status": "active", "mrr": 7000},
                at=_at(hour)).json()["duplicate"] is True
    assert _movements(engine) == [("new", "EUR", 0, 6000), ("expansion", "EUR", 6000, 10000),
                                  ("contraction", "EUR", 10000, 8000), ("churn", "EUR", 8000, 0),
                                  ("reactivation", "EUR", 0, 7000)]
    assert _customer(engine) == (7000, "EUR", "active")


def test_an_mrr_while_not_paying_stays_0_and_a_customer_without_currency_is_a_conflict(engine: Engine) -> None:
    client = make_client(engine)
    send(client, "e1", "customer.created", {**NEW_CUSTOMER, "status": "trialing", "mrr": 5000, "currency": "usd"})
    assert _customer(engine) == (0, "USD", "trialing")
    assert _movements(engine) == []
    send(client, "e2", "customer.created", {"id": "c_2", "organization": "B", "email": "b@b.example"})
    answer = send(client, "e3", "seats.changed", {"id": "c_2", "seats": 2, "mrr": 900})
    assert answer.status_code == 409
    assert "data.currency" in answer.json()["error"]
    bad = send(client, "e4", "customer.updated", {"id": "c_2", "mrr": -1, "currency": "usd"})
    assert bad.status_code == 400
    assert "data.mrr" in bad.json()["error"]

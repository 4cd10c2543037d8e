"""Alert rules filtered by MRR (`mrr:` as lists read it): a churn is tested on what was lost (both engines)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from storage.alert_filters import Conditions, parse_rule
from storage.event_types import CustomerChange
from tests.conftest import NOW
from tests.storage.test_alerts import customer_event, make_rule, outbox, send


def _paying(engine: Engine, external_id: str, mrr: int, currency: str) -> None:
    """A customer created an hour ago, then paying `mrr` (minor units of `currency`)."""
    send(engine, customer_event(external_id, seats=5, at=NOW - timedelta(hours=2)))
    event = customer_event(external_id, seats=5, at=NOW - timedelta(hours=1))
    assert isinstance(event.change, CustomerChange)
    send(engine, replace(event, change=replace(event.change, mrr=mrr, currency=currency)))


def test_a_churn_rule_with_an_mrr_floor_fires_for_what_a_customer_paid_before_leaving(engine: Engine) -> None:
    make_rule(engine, "churn mrr:>=500")
    _paying(engine, "big", 60_000, "usd")  # 600.00 a month
    _paying(engine, "small", 9_900, "usd")  # 99.00 a month
    _paying(engine, "yen", 80_000, "jpy")  # ¥80,000: JPY has no minor unit
    for external_id in ("big", "small", "yen"):
        send(engine, customer_event(external_id, status="canceled", at=NOW))
    churned = [row.payload["organization"] for row in outbox(engine) if row.kind == "churn"]
    assert sorted(churned) == ["Org big", "Org yen"]


def test_an_expansion_rule_with_an_mrr_range_tests_the_new_mrr(engine: Engine) -> None:
    make_rule(engine, "expansion mrr:100..1000", show_mrr=True)
    _paying(engine, "a", 5_000, "eur")
    for at, mrr in ((NOW - timedelta(minutes=30), 20_000), (NOW, 200_000)):  # 200.00, then 2,000.00
        event = customer_event("a", seats=5, at=at)
        assert isinstance(event.change, CustomerChange)
        send(engine, replace(event, change=replace(event.change, mrr=mrr, currency="eur")))
    fired = [row.payload["mrr"] for row in outbox(engine) if row.kind == "expansion"]
    assert fired == [[5_000, 20_000]]  # 50.00 -> 200.00 is in range; 200.00 -> 2,000.00 is not


@pytest.mark.parametrize(("text", "mrr", "currency", "passes"), [
    ("churn mrr:>500", 50_000, "USD", False), ("churn mrr:>500", 50_001, "USD", True),
    ("churn mrr:<100", 9_999, "USD", True), ("churn mrr:<100", 10_000, "USD", False),
    ("churn mrr:0", 0, None, True), ("churn mrr:0", 1, "USD", False), ("churn mrr:>=1", 1_000, "KWD", True),
])
def test_mrr_bounds_read_whole_major_units_of_the_customers_own_currency(
        text: str, mrr: int, currency: str | None, passes: bool) -> None:
    conditions: Conditions = parse_rule(text, now=NOW).conditions
    assert conditions.uses_mrr
    assert conditions.customer(5, "canceled", mrr, currency) is passes

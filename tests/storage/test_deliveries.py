"""Slack deliveries are acted on once, across processes and replicas, and forgotten after a day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from storage.db import session_scope
from storage.deliveries import claim_delivery
from storage.models import SlackDelivery
from tests.conftest import NOW


def test_a_delivery_is_claimed_once_and_its_retries_are_not(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        assert claim_delivery(session=session, key="event:Ev1", now=NOW)
    with session_scope(engine, write=True) as session:
        assert not claim_delivery(session=session, key="event:Ev1", now=NOW + timedelta(minutes=5))
        assert claim_delivery(session=session, key="event:Ev2", now=NOW)


def test_deliveries_older_than_a_day_are_forgotten_as_new_ones_arrive(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        claim_delivery(session=session, key="trigger:old", now=NOW - timedelta(days=2))
    with session_scope(engine, write=True) as session:
        claim_delivery(session=session, key="trigger:new", now=NOW)
    with session_scope(engine) as session:
        keys = session.execute(select(SlackDelivery.key)).scalars().all()  # type: ignore[call-overload]
        assert keys == ["trigger:new"]
        assert session.execute(select(func.count()).select_from(SlackDelivery)).scalar_one() == 1

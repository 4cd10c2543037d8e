"""Slack deliveries already acted on: Slack resends an event (or a click) it got no 2xx for, and we act once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from storage.models import SlackDelivery

KEPT_FOR = timedelta(days=1)  # Slack retries within minutes; a day covers every retry with room to spare


def claim_delivery(*, session: Session, key: str, now: datetime) -> bool:
    """Record a delivery; True the first time its key is seen (by any process or replica), False after."""
    table = SlackDelivery.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(delete(SlackDelivery).where(col(SlackDelivery.received_at) < now - KEPT_FOR))
    inserted = session.connection().execute(
        dialect.insert(table).values(key=key[:200], received_at=now)
        .on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)).first()
    return inserted is not None

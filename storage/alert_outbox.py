"""The alert outbox's claims: each due row is posted by one poster once, paced per channel across every replica.

A poster claims a channel's due rows under a fresh `batch` id in one transaction, after taking the channel's pacing
slot (`alert_channel.next_at`, about one message per second); on PostgreSQL a concurrent claimer waits on the slot's
row lock and then finds it taken. A claim older than `stale_after` (its poster crashed between commit and post) is
claimed again, remembering the old batch so the poster can first look for a message that did go out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from storage.models import AlertChannel, AlertOutbox, AlertRule

PACE = timedelta(seconds=1)
STALE_AFTER = timedelta(minutes=2)
BATCH_MAX = 500  # a grouped message lists a few and counts the rest; more wait for the next slot
KEEP_DONE = timedelta(days=7)


@dataclass(frozen=True)
class Alert:
    """One claimed outbox row; `earlier_batch` is set when a crashed poster had claimed it before."""

    id: int
    rule_id: int
    kind: str
    created_at: datetime
    payload: dict[str, Any]
    attempts: int
    earlier_batch: str | None


@dataclass(frozen=True)
class Claimed:
    """A poster's claim on some of one channel's due alerts."""

    batch: str
    channel_id: str
    alerts: tuple[Alert, ...]

    @property
    def earlier_batches(self) -> set[str]:
        """Batches of a crashed poster that may already be in the channel."""
        return {a.earlier_batch for a in self.alerts if a.earlier_batch}


def _due(now: datetime, stale_after: timedelta) -> Any:
    """Rows that may be claimed: pending and due, or claimed by a poster that never finished."""
    return or_(and_(col(AlertOutbox.status) == "pending", col(AlertOutbox.due_at) <= now),
               and_(col(AlertOutbox.status) == "claimed", col(AlertOutbox.claimed_at) < now - stale_after))


def due_channels(*, session: Session, now: datetime, stale_after: timedelta = STALE_AFTER) -> list[str]:
    """Channels with alerts to post now."""
    stmt = select(col(AlertOutbox.channel_id)).where(_due(now, stale_after)).distinct()
    return sorted(session.exec(stmt))


def _take_slot(session: Session, channel_id: str, now: datetime, pace: timedelta) -> bool:
    """The channel's next message slot, if it is free now (then it is ours and the next is `pace` away)."""
    table = SQLModel.metadata.tables["alert_channel"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.connection().execute(dialect.insert(table).values(channel_id=channel_id, next_at=now)
                                 .on_conflict_do_nothing(index_elements=["channel_id"]))
    taken = session.connection().execute(
        update(AlertChannel).where(col(AlertChannel.channel_id) == channel_id, col(AlertChannel.next_at) <= now)
        .values(next_at=now + pace))
    return taken.rowcount == 1


def hold_channel(*, session: Session, channel_id: str, until: datetime) -> None:
    """Keep a channel's slot closed until `until` (Slack said Retry-After)."""
    session.connection().execute(update(AlertChannel).where(col(AlertChannel.channel_id) == channel_id)
                                 .values(next_at=until))


def claim_channel(
    *, session: Session, channel_id: str, now: datetime, worker: str, stale_after: timedelta = STALE_AFTER,
    pace: timedelta = PACE, limit: int = BATCH_MAX,
) -> Claimed | None:
    """Claim up to `limit` of a channel's due alerts, oldest first; None when its slot is taken or none are due."""
    candidates = session.exec(select(AlertOutbox.id, AlertOutbox.status, AlertOutbox.batch)
                              .where(col(AlertOutbox.channel_id) == channel_id, _due(now, stale_after))
                              .order_by(col(AlertOutbox.id)).limit(limit)).all()
    if not candidates or not _take_slot(session, channel_id, now, pace):
        return None
    earlier = {row_id: batch for row_id, status, batch in candidates if status == "claimed"}
    batch = uuid.uuid4().hex
    claimed = session.connection().execute(
        update(AlertOutbox)
        .where(col(AlertOutbox.id).in_([c[0] for c in candidates]), _due(now, stale_after))
        .values(status="claimed", batch=batch, claimed_at=now, claimed_by=worker[:128],
                attempts=col(AlertOutbox.attempts) + 1)
        .returning(col(AlertOutbox.id), col(AlertOutbox.rule_id), col(AlertOutbox.kind),
                   col(AlertOutbox.created_at), col(AlertOutbox.payload), col(AlertOutbox.attempts))).all()
    if not claimed:
        return None
    alerts = sorted((Alert(id=int(r[0]), rule_id=int(r[1]), kind=str(r[2]), created_at=r[3], payload=r[4],
                           attempts=int(r[5]), earlier_batch=earlier.get(int(r[0]))) for r in claimed),
                    key=lambda a: a.id)
    return Claimed(batch=batch, channel_id=channel_id, alerts=tuple(alerts))


def record_posted(*, session: Session, claimed: Claimed, ids: list[int], message_ts: str, at: datetime) -> int:
    """These alerts are in the channel (unless another poster took them over since); the rules last fired now."""
    done = session.connection().execute(
        update(AlertOutbox).where(col(AlertOutbox.id).in_(ids), col(AlertOutbox.batch) == claimed.batch,
                                  col(AlertOutbox.status) == "claimed")
        .values(status="posted", message_ts=message_ts[:32], posted_at=at, error=None)).rowcount
    rule_ids = {a.rule_id for a in claimed.alerts if a.id in set(ids)}
    if rule_ids:
        session.connection().execute(update(AlertRule).where(col(AlertRule.id).in_(rule_ids))
                                     .values(last_fired_at=at))
    return int(done)


def record_failed(*, session: Session, claimed: Claimed, error: str, retry_at: datetime | None,
                  max_attempts: int) -> None:
    """Posting failed: back to pending at `retry_at` (None, or too many attempts: given up, kept for the record)."""
    ours = and_(col(AlertOutbox.batch) == claimed.batch, col(AlertOutbox.status) == "claimed")
    if retry_at is not None:
        session.connection().execute(update(AlertOutbox).where(ours, col(AlertOutbox.attempts) < max_attempts)
                                     .values(status="pending", due_at=retry_at, error=error[:200]))
    session.connection().execute(update(AlertOutbox).where(ours).values(status="failed", error=error[:200]))


def batch_alerts(*, session: Session, batch: str) -> list[AlertOutbox]:
    """The alerts one message carried (its Export CSV button)."""
    return list(session.exec(select(AlertOutbox).where(col(AlertOutbox.batch) == batch)
                             .order_by(col(AlertOutbox.id))))


def outbox_counts(*, session: Session) -> dict[str, int]:
    """How many outbox rows are in each status (tests and diagnostics)."""
    rows = session.exec(select(AlertOutbox.status, AlertOutbox.id))
    counts: dict[str, int] = {}
    for status, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def prune(*, session: Session, now: datetime, keep: timedelta = KEEP_DONE) -> int:
    """Forget posted and failed alerts older than `keep`, so the outbox stays small."""
    gone = session.connection().execute(
        delete(AlertOutbox).where(col(AlertOutbox.status).in_(("posted", "failed")),
                                  col(AlertOutbox.due_at) < now - keep))
    return int(gone.rowcount)

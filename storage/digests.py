"""Digest storage: channel subscriptions and the run claims that make posting exactly-once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, UniqueConstraint, and_, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.digest_content import DigestContent, Org, digest_content
from storage.types import UTCDateTime

__all__ = ["Claim", "DigestContent", "DigestRun", "DigestSubscription", "Org", "Run", "Subscription", "digest_content"]


def _ts(*, nullable: bool = False) -> Any:
    """A UTC timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class DigestSubscription(SQLModel, table=True):
    """A channel's daily digest: local time, zone, quiet-day choice, who made it and its health."""

    __tablename__ = "digest_subscription"
    __table_args__ = (
        Index("uq_digest_subscription_channel", "channel_id", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32)
    team_id: str | None = Field(default=None, max_length=32)
    local_time: str = Field(max_length=5)
    timezone: str = Field(max_length=64)
    quiet_skip: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    created_by: str = Field(max_length=32)
    created_at: datetime = _ts()
    updated_by: str = Field(max_length=32)
    updated_at: datetime = _ts()
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    deleted_by: str | None = Field(default=None, max_length=32)
    deleted_at: datetime | None = _ts(nullable=True)
    broken_reason: str | None = Field(default=None, max_length=64)
    broken_at: datetime | None = _ts(nullable=True)
    last_sent_at: datetime | None = _ts(nullable=True)


class DigestRun(SQLModel, table=True):
    """One subscription's digest for one local day; the unique key is what makes posting happen once."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("subscription_id", "local_day", name="uq_digest_run_day"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        sa_column=Column(Integer, ForeignKey("digest_subscription.id", ondelete="CASCADE"), nullable=False))
    local_day: date = Field(sa_column=Column(Date, nullable=False))
    scheduled_for: datetime = _ts()
    status: str = Field(max_length=16)
    claimed_at: datetime = _ts()
    claimed_by: str = Field(max_length=128)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    retry_at: datetime | None = _ts(nullable=True)
    message_ts: str | None = Field(default=None, max_length=32)
    posted_at: datetime | None = _ts(nullable=True)
    error: str | None = Field(default=None, max_length=200)


@dataclass(frozen=True)
class Subscription:
    """A detached, read-only copy of a subscription row, safe to use after the session is gone."""

    id: int
    channel_id: str
    local_time: str
    timezone: str
    quiet_skip: bool
    created_by: str
    created_at: datetime
    broken_reason: str | None
    broken_at: datetime | None
    last_sent_at: datetime | None


def _snapshot(row: DigestSubscription) -> Subscription:
    """Copy the columns the scheduler and renderers use."""
    return Subscription(id=row.id or 0, channel_id=row.channel_id, local_time=row.local_time, timezone=row.timezone,
                        quiet_skip=row.quiet_skip, created_by=row.created_by, created_at=row.created_at,
                        broken_reason=row.broken_reason, broken_at=row.broken_at, last_sent_at=row.last_sent_at)


def active_subscriptions(*, session: Session) -> list[Subscription]:
    """Every live subscription (healthy or broken), oldest first."""
    rows = session.exec(select(DigestSubscription).where(col(DigestSubscription.active))
                        .order_by(col(DigestSubscription.id)))
    return [_snapshot(row) for row in rows]


def subscription_for_channel(*, session: Session, channel_id: str) -> Subscription | None:
    """The channel's live subscription, if any."""
    row = _live_row(session, channel_id)
    return _snapshot(row) if row else None


def _live_row(session: Session, channel_id: str) -> DigestSubscription | None:
    """The live subscription row of a channel."""
    return session.exec(select(DigestSubscription).where(DigestSubscription.channel_id == channel_id,
                                                         col(DigestSubscription.active))).first()


def subscribe(
    *, session: Session, channel_id: str, team_id: str | None, local_time: str, timezone: str, quiet_skip: bool,
    user_id: str, at: datetime,
) -> tuple[Subscription, bool]:
    """Create the channel's subscription, or update its time, zone and quiet choice (clearing a broken mark).

    Returns the subscription and whether it was new.
    """
    for _ in range(2):  # a concurrent subscribe in the same channel wins the insert; then we update theirs
        row = _live_row(session, channel_id)
        if row is not None:
            row.local_time, row.timezone, row.quiet_skip = local_time, timezone, quiet_skip
            row.updated_by, row.updated_at, row.broken_reason, row.broken_at = user_id, at, None, None
            session.add(row)
            session.flush()
            return _snapshot(row), False
        # Re-subscribing revives the channel's last row, so a digest already posted today is not posted again.
        fields: dict[str, Any] = {
            "team_id": team_id, "local_time": local_time, "timezone": timezone, "quiet_skip": quiet_skip,
            "created_by": user_id, "created_at": at, "updated_by": user_id, "updated_at": at, "active": True,
            "deleted_by": None, "deleted_at": None, "broken_reason": None, "broken_at": None}
        row = session.exec(select(DigestSubscription).where(DigestSubscription.channel_id == channel_id)
                           .order_by(col(DigestSubscription.id).desc())).first()
        if row is None:
            row = DigestSubscription(channel_id=channel_id, **fields)
        else:
            row.sqlmodel_update(fields)
        try:
            with session.begin_nested():
                session.add(row)
            return _snapshot(row), True
        except IntegrityError:
            continue
    raise RuntimeError("could not save the subscription; try again")


def unsubscribe(*, session: Session, channel_id: str, user_id: str, at: datetime) -> Subscription | None:
    """Turn the channel's subscription off (kept for the record); None when there was none."""
    row = _live_row(session, channel_id)
    if row is None:
        return None
    row.active, row.deleted_by, row.deleted_at = False, user_id, at
    session.add(row)
    session.flush()
    return _snapshot(row)


def mark_broken(*, session: Session, subscription_id: int, reason: str, at: datetime) -> bool:
    """Mark a subscription broken; True only for the caller that changed it (so its creator is told once)."""
    result = session.connection().execute(
        update(DigestSubscription)
        .where(col(DigestSubscription.id) == subscription_id, col(DigestSubscription.broken_at).is_(None))
        .values(broken_reason=reason[:64], broken_at=at))
    return result.rowcount == 1


@dataclass(frozen=True)
class Claim:
    """The right to post one run; `attempt` fences later writes, `recovered` means an earlier try may have posted."""

    run_id: int
    attempt: int
    recovered: bool


def claim_run(
    *, session: Session, subscription_id: int, local_day: date, scheduled_for: datetime, now: datetime,
    worker: str, stale_after: timedelta,
) -> Claim | None:
    """Claim (subscription, day) by inserting its run, or take over a stale claim or a failed run due for retry.

    None means someone else has it, or it is already posted or skipped.
    """
    table = SQLModel.metadata.tables["digest_run"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.connection().execute(
        dialect.insert(table)
        .values(subscription_id=subscription_id, local_day=local_day, scheduled_for=scheduled_for, status="claimed",
                claimed_at=now, claimed_by=worker, attempts=1)
        .on_conflict_do_nothing(index_elements=["subscription_id", "local_day"])
        .returning(table.c.id)).first()
    if inserted is not None:
        return Claim(run_id=int(inserted[0]), attempt=1, recovered=False)
    retryable = or_(
        and_(col(DigestRun.status) == "claimed", col(DigestRun.claimed_at) < now - stale_after),
        and_(col(DigestRun.status) == "failed", col(DigestRun.retry_at).is_not(None), col(DigestRun.retry_at) <= now),
    )
    taken = session.connection().execute(
        update(DigestRun)
        .where(col(DigestRun.subscription_id) == subscription_id, col(DigestRun.local_day) == local_day, retryable)
        .values(status="claimed", claimed_at=now, claimed_by=worker, attempts=col(DigestRun.attempts) + 1,
                retry_at=None)
        .returning(col(DigestRun.id), col(DigestRun.attempts))).first()
    if taken is None:
        return None
    run_id, attempt = taken
    return Claim(run_id=int(run_id or 0), attempt=int(attempt), recovered=True)


def _finish(session: Session, claim: Claim, **values: Any) -> bool:
    """Write a claimed run's outcome, unless another worker has taken the claim over since."""
    result = session.connection().execute(
        update(DigestRun)
        .where(col(DigestRun.id) == claim.run_id, col(DigestRun.attempts) == claim.attempt,
               col(DigestRun.status) == "claimed")
        .values(**values))
    return result.rowcount == 1


def record_posted(*, session: Session, claim: Claim, subscription_id: int, message_ts: str, at: datetime) -> bool:
    """The digest is in the channel: keep its ts and the subscription's last-sent time."""
    session.connection().execute(
        update(DigestSubscription).where(col(DigestSubscription.id) == subscription_id).values(last_sent_at=at))
    return _finish(session, claim, status="posted", message_ts=message_ts, posted_at=at, error=None)


def record_skipped(*, session: Session, claim: Claim, reason: str) -> bool:
    """The digest is deliberately not posted (too late to be useful, or a quiet day with quiet:skip)."""
    return _finish(session, claim, status="skipped", error=reason[:200])


def record_failed(*, session: Session, claim: Claim, error: str, retry_at: datetime | None) -> bool:
    """Posting failed; `retry_at` None means give up on this day."""
    return _finish(session, claim, status="failed", error=error[:200], retry_at=retry_at)


def taken_days(*, session: Session, subscription_id: int, since: date) -> set[date]:
    """Local days from `since` on that already have a run (posted, skipped, claimed or failed)."""
    rows = session.exec(select(col(DigestRun.local_day)).where(DigestRun.subscription_id == subscription_id,
                                                          col(DigestRun.local_day) >= since))
    return set(rows)


@dataclass(frozen=True)
class Run:
    """A detached copy of a run row."""

    status: str
    scheduled_for: datetime
    claimed_by: str
    attempts: int
    message_ts: str | None
    error: str | None


def run_for(*, session: Session, subscription_id: int, local_day: date) -> Run | None:
    """The run of one subscription and day (for `digest list`, tests and diagnostics)."""
    row = session.exec(select(DigestRun).where(DigestRun.subscription_id == subscription_id,
                                               DigestRun.local_day == local_day)).first()
    if row is None:
        return None
    return Run(status=row.status, scheduled_for=row.scheduled_for, claimed_by=row.claimed_by, attempts=row.attempts,
               message_ts=row.message_ts, error=row.error)

"""Digest storage: channel subscriptions and the run claims that make posting exactly-once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from storage.digest_content import DigestContent, Org, digest_content
from storage.models import DigestRun, DigestSubscription

__all__ = ["Claim", "DigestContent", "DigestRun", "DigestSubscription", "Org", "Run", "Subscription", "digest_content"]


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
    revenue: bool = False  # net new MRR and churned MRR in the post (revenue:show)


def _snapshot(row: DigestSubscription) -> Subscription:
    """Copy the columns the scheduler and renderers use."""
    return Subscription(id=row.id or 0, channel_id=row.channel_id, local_time=row.local_time, timezone=row.timezone,
                        quiet_skip=row.quiet_skip, created_by=row.created_by, created_at=row.created_at,
                        broken_reason=row.broken_reason, broken_at=row.broken_at, last_sent_at=row.last_sent_at,
                        revenue=row.revenue)


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
    user_id: str, at: datetime, revenue: bool = False,
) -> tuple[Subscription, bool]:
    """Create the channel's subscription, or update its time, zone, quiet and revenue choices (clearing a broken mark).

    Returns the subscription and whether it was new.
    """
    for _ in range(2):  # a concurrent subscribe in the same channel wins the insert; then we update theirs
        row = _live_row(session, channel_id)
        if row is not None:
            row.local_time, row.timezone, row.quiet_skip, row.revenue = local_time, timezone, quiet_skip, revenue
            row.updated_by, row.updated_at, row.broken_reason, row.broken_at = user_id, at, None, None
            session.add(row)
            session.flush()
            return _snapshot(row), False
        # Re-subscribing revives the channel's last row, so a digest already posted today is not posted again.
        fields: dict[str, Any] = {
            "team_id": team_id, "local_time": local_time, "timezone": timezone, "quiet_skip": quiet_skip,
            "revenue": revenue, "created_by": user_id, "created_at": at, "updated_by": user_id, "updated_at": at,
            "active": True, "deleted_by": None, "deleted_at": None, "broken_reason": None, "broken_at": None}
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

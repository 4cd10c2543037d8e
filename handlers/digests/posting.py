"""Posting due digests: each claimed exactly once in the database, posted, and its failures recorded or retried."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from handlers.blocks.charts import with_digest_trend
from handlers.blocks.digest import broken_notice, digest_message, export_values
from handlers.blocks.revenue import with_digest_revenue
from handlers.charts_send import post_message
from handlers.digests.schedule import latest_due
from storage.db import session_scope
from storage.digests import (
    Claim,
    Subscription,
    active_subscriptions,
    claim_run,
    digest_content,
    mark_broken,
    record_failed,
    record_posted,
    record_skipped,
)
from storage.query import Query
from storage.revenue import revenue
from storage.trends import customer_trend
from storage.writes import record_audit

log = logging.getLogger(__name__)

EVENT_TYPE = "customers_digest"
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 5
TICK_SECONDS = 30.0
BROKEN_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
TREND_DAYS = 14


@dataclass(frozen=True)
class Outcome:
    """What one run did, for logs and the `digest run-due` output."""

    channel_id: str
    local_day: date
    status: str  # posted | found | skipped | quiet | failed | broken
    detail: str = ""

    def __str__(self) -> str:
        """One line such as `posted C123 2026-11-24 (ts 1.2)`."""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.status} {self.channel_id} {self.local_day.isoformat()}{detail}"


def worker_name() -> str:
    """host:pid, recorded on claims so a stuck one can be traced."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due(deps: Deps, client: WebClient, *, now: datetime | None = None, worker: str | None = None) -> list[Outcome]:
    """Post every digest that is due and not yet claimed, as read from the database right now."""
    now = now or deps.clock()
    with session_scope(deps.engine) as session:
        subscriptions = active_subscriptions(session=session)
    outcomes: list[Outcome] = []
    for sub in subscriptions:
        if sub.broken_at is not None:
            continue
        try:
            outcome = _run_one(deps, client, sub, now=now, worker=worker or worker_name())
        except Exception:
            log.exception("digest for channel %s failed unexpectedly", sub.channel_id)
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _run_one(deps: Deps, client: WebClient, sub: Subscription, *, now: datetime, worker: str) -> Outcome | None:
    """Claim, then post (or skip) one subscription's most recent due digest."""
    zone = ZoneInfo(sub.timezone)
    day, instant = latest_due(now, time.fromisoformat(sub.local_time), zone)
    if instant < sub.created_at:
        return None  # subscribed after today's time: the first digest is tomorrow's
    with session_scope(deps.engine, write=True) as session:
        claim = claim_run(session=session, subscription_id=sub.id, local_day=day, scheduled_for=instant, now=now,
                          worker=worker, stale_after=CLAIM_TIMEOUT)
    if claim is None:
        return None
    late = now - instant
    if late > timedelta(hours=deps.settings.digest_catchup_hours):
        reason = f"{_hours(late)} late, beyond DIGEST_CATCHUP_HOURS={deps.settings.digest_catchup_hours}"
        with session_scope(deps.engine, write=True) as session:
            record_skipped(session=session, claim=claim, reason=reason)
        log.warning("digest for channel %s on %s skipped: %s", sub.channel_id, day, reason)
        return Outcome(sub.channel_id, day, "skipped", reason)
    try:
        return _deliver(deps, client, sub, claim, day=day, instant=instant, now=now)
    except Exception as exc:  # e.g. the database went away mid-run: release the claim for a later retry
        log.exception("digest for channel %s on %s failed unexpectedly", sub.channel_id, day)
        return _post_failed(deps, client, sub, claim, day, now, f"{type(exc).__name__}: {exc}")


def _deliver(
    deps: Deps, client: WebClient, sub: Subscription, claim: Claim, *, day: date, instant: datetime, now: datetime
) -> Outcome:
    """Post a claimed digest (unless an earlier attempt already did) and record its ts."""
    if claim.recovered:
        earlier = _find_posted(client, sub, day, instant)
        if earlier is not None:
            _finish_posted(deps, claim, sub, earlier, now)
            log.info("digest for channel %s on %s was already posted (ts %s); recorded it", sub.channel_id, day,
                     earlier)
            return Outcome(sub.channel_id, day, "found", f"ts {earlier}")
    with session_scope(deps.engine) as session:
        content = digest_content(session=session, until=instant)
        trend = None if content.quiet else customer_trend(
            session=session, query=Query(), since=instant - timedelta(days=TREND_DAYS - 1), until=instant)
        figures = revenue(session=session, since=content.since, until=content.until) if sub.revenue else None
    if content.quiet and sub.quiet_skip:
        with session_scope(deps.engine, write=True) as session:
            record_skipped(session=session, claim=claim, reason="quiet day (quiet:skip)")
        return Outcome(sub.channel_id, day, "quiet", "no signups or churn; quiet:skip")
    message = digest_message(content, local_day=day, tz=ZoneInfo(sub.timezone), product_url=deps.settings.product_url,
                             exports=export_values(content))
    if trend is not None:
        message = with_digest_trend(message, trend)
    if figures is not None:
        message = with_digest_revenue(message, figures)
    try:  # without the chart where the workspace refuses chart blocks
        response = post_message(
            deps, client, team_id=_team(client), channel=sub.channel_id, msg=message, unfurl_links=False,
            metadata={"event_type": EVENT_TYPE,
                      "event_payload": {"subscription_id": sub.id, "local_day": day.isoformat()}})
    except SlackApiError as exc:
        return _post_failed(deps, client, sub, claim, day, now, str(exc.response.get("error") or exc))
    except Exception as exc:  # connection failures after the client's own retries: try again later
        return _post_failed(deps, client, sub, claim, day, now, f"{type(exc).__name__}: {exc}")
    ts = str(response.get("ts") or "")
    _finish_posted(deps, claim, sub, ts, now)
    log.info("digest for channel %s on %s posted (ts %s)", sub.channel_id, day, ts)
    return Outcome(sub.channel_id, day, "posted", f"ts {ts}")


def _team(client: WebClient) -> str:
    """The workspace the bot token belongs to (chart refusals are remembered per workspace), '' when unknown."""
    try:
        return str(client.auth_test().get("team_id") or "")
    except Exception:  # the post itself will say what is wrong with Slack
        return ""


def _finish_posted(deps: Deps, claim: Claim, sub: Subscription, ts: str, now: datetime) -> None:
    """Record the posted message's ts."""
    with session_scope(deps.engine, write=True) as session:
        if not record_posted(session=session, claim=claim, subscription_id=sub.id, message_ts=ts, at=now):
            log.warning("digest run %s was taken over by another worker after posting ts %s", claim.run_id, ts)


def _post_failed(
    deps: Deps, client: WebClient, sub: Subscription, claim: Claim, day: date, now: datetime, error: str
) -> Outcome:
    """A broken channel stops the subscription and tells its creator; anything else is retried with backoff."""
    if error in BROKEN_ERRORS:
        with session_scope(deps.engine, write=True) as session:
            # Retry as soon as someone fixes the channel and subscribes again (still within the catch-up window).
            record_failed(session=session, claim=claim, error=error, retry_at=now)
            newly = mark_broken(session=session, subscription_id=sub.id, reason=error, at=now)
            if newly:
                record_audit(session=session, actor="scheduler", action="digest_broken",
                             details={"channel": sub.channel_id, "reason": error})
        log.warning("digest subscription for channel %s is broken: %s", sub.channel_id, error)
        if newly:
            _tell_creator(client, sub, error)
        return Outcome(sub.channel_id, day, "broken", error)
    retry_at = now + timedelta(minutes=2 ** (claim.attempt - 1)) if claim.attempt < MAX_ATTEMPTS else None
    with session_scope(deps.engine, write=True) as session:
        record_failed(session=session, claim=claim, error=error, retry_at=retry_at)
    log.warning("digest for channel %s on %s failed (attempt %d): %s; %s", sub.channel_id, day, claim.attempt,
                error, f"retrying after {retry_at:%H:%M} UTC" if retry_at else "giving up for this day")
    return Outcome(sub.channel_id, day, "failed", error)


def _tell_creator(client: WebClient, sub: Subscription, error: str) -> None:
    """DM the admin who made the subscription how to fix it."""
    notice = broken_notice(channel_id=sub.channel_id, reason=error)
    try:
        client.chat_postMessage(channel=sub.created_by, text=notice["text"], blocks=notice["blocks"])
    except Exception:
        log.exception("could not tell %s that the digest for %s is broken", sub.created_by, sub.channel_id)


def _find_posted(client: WebClient, sub: Subscription, day: date, instant: datetime) -> str | None:
    """The ts of this run's message if an earlier attempt did post it (matched by our message metadata)."""
    cursor: str | None = None
    try:
        for _ in range(10):
            response = client.conversations_history(channel=sub.channel_id, oldest=f"{instant.timestamp():.6f}",
                                                    include_all_metadata=True, limit=200, cursor=cursor)
            for message in response.get("messages") or []:
                if _is_ours(message, sub, day):
                    return str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        # Without history we cannot tell; posting risks a duplicate, not posting risks losing the day. Post.
        log.warning("cannot read %s to check for an earlier digest: %s", sub.channel_id, exc.response.get("error"))
    return None


def _is_ours(message: dict[str, Any], sub: Subscription, day: date) -> bool:
    """True for the digest message of this subscription and day."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return (metadata.get("event_type") == EVENT_TYPE and str(payload.get("subscription_id")) == str(sub.id)
            and payload.get("local_day") == day.isoformat())


def _hours(delta: timedelta) -> str:
    """A lateness such as `7.5h`."""
    return f"{delta.total_seconds() / 3600:.1f}h"


def tick(deps: Deps, client: WebClient) -> None:
    """One scheduler pass; never lets an error stop the job."""
    try:
        for outcome in run_due(deps, client):
            log.info("digest %s", outcome)
    except Exception:
        log.exception("digest tick failed; the next tick will try again")

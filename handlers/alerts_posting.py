"""Posting due alerts: each channel's due outbox rows claimed once in the database, posted as one message (a card,
or a grouped burst), their failures retried with backoff or the rule marked broken."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from handlers.blocks.alerts import alert_card, broken_notice, grouped_message
from storage.alert_outbox import (
    Alert,
    Claimed,
    claim_channel,
    due_channels,
    hold_channel,
    prune,
    record_failed,
    record_posted,
)
from storage.alerts import Rule, live_rules, mark_broken
from storage.db import read_scope, session_scope
from storage.writes import record_audit

log = logging.getLogger(__name__)

EVENT_TYPE = "customers_alert"
TICK_SECONDS = 1.0
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=5)
BROKEN_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


@dataclass(frozen=True)
class Outcome:
    """What one channel's turn did, for logs and `alerts run-due`."""

    channel_id: str
    status: str  # posted | found | failed | broken
    alerts: int
    detail: str = ""

    def __str__(self) -> str:
        """One line such as `posted C123 12 alerts (ts 1.2)`."""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.status} {self.channel_id} {self.alerts} alert{'s' if self.alerts != 1 else ''}{detail}"


def worker_name() -> str:
    """host:pid, recorded on claims so a stuck one can be traced."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due(deps: Deps, client: WebClient, *, now: datetime | None = None, worker: str | None = None) -> list[Outcome]:
    """Post every channel's due alerts whose channel slot is free, as read from the database now."""
    now = now or deps.clock()
    with read_scope(deps.engine) as session:
        channels = due_channels(session=session, now=now)
    if not channels:
        return []
    with read_scope(deps.engine) as session:
        rules = {rule.id: rule for rule in live_rules(session=session)}
    outcomes = []
    for channel_id in channels:
        try:
            with session_scope(deps.engine, write=True) as session:
                claimed = claim_channel(session=session, channel_id=channel_id, now=now,
                                        worker=worker or worker_name())
            if claimed is not None:
                outcomes.append(_deliver(deps, client, claimed, rules, now))
        except Exception:
            log.exception("alerts for channel %s failed unexpectedly; a later tick retries", channel_id)
    with session_scope(deps.engine, write=True) as session:
        prune(session=session, now=now)
    return outcomes


def _deliver(deps: Deps, client: WebClient, claimed: Claimed, rules: dict[int, Rule], now: datetime) -> Outcome:
    """Post a claimed batch (less what a crashed poster already posted) and record it."""
    alerts = list(claimed.alerts)
    if claimed.earlier_batches:
        found = _find_posted(client, claimed.channel_id, claimed.earlier_batches,
                             oldest=min(a.created_at for a in alerts))
        done = [a for a in alerts if a.earlier_batch in found]
        for batch, ts in found.items():
            _finish(deps, claimed, [a.id for a in done if a.earlier_batch == batch], ts, now)
        alerts = [a for a in alerts if a not in done]
        if not alerts:
            return Outcome(claimed.channel_id, "found", len(done), "already posted")
    msg = _message(deps, claimed.batch, alerts, rules)
    try:
        response = client.chat_postMessage(
            channel=claimed.channel_id, text=msg["text"], blocks=msg["blocks"], unfurl_links=False,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"batch": claimed.batch}})
    except SlackApiError as exc:
        return _failed(deps, client, claimed, alerts, rules, now, exc)
    except Exception as exc:  # connection failures after the client's own retries
        return _retry_later(deps, claimed, now, f"{type(exc).__name__}", None)
    ts = str(response.get("ts") or "")
    _finish(deps, claimed, [a.id for a in alerts], ts, now)
    return Outcome(claimed.channel_id, "posted", len(alerts), f"ts {ts}")


def _message(deps: Deps, batch: str, alerts: list[Alert], rules: dict[int, Rule]) -> dict[str, Any]:
    """One card for one alert, else one grouped message."""
    if len(alerts) == 1:
        alert = alerts[0]
        rule = rules.get(alert.rule_id)
        shown = f"{rule.kind} {rule.filters}".strip() if rule else alert.kind
        return alert_card(alert.kind, alert.payload, product_url=deps.settings.product_url, rule=shown)
    return grouped_message([(a.kind, a.payload) for a in alerts], batch=batch, first=alerts[0].created_at,
                           last=alerts[-1].created_at)


def _finish(deps: Deps, claimed: Claimed, ids: list[int], ts: str, now: datetime) -> None:
    """Record that these alerts are in the channel."""
    with session_scope(deps.engine, write=True) as session:
        if record_posted(session=session, claimed=claimed, ids=ids, message_ts=ts, at=now) < len(ids):
            log.warning("alert batch %s was taken over by another poster after posting ts %s", claimed.batch, ts)


def _failed(deps: Deps, client: WebClient, claimed: Claimed, alerts: list[Alert], rules: dict[int, Rule],
            now: datetime, exc: SlackApiError) -> Outcome:
    """A broken channel stops its rules and tells their creators; rate limits and server errors retry later."""
    error = str(exc.response.get("error") or "error")
    if error in BROKEN_ERRORS:
        with session_scope(deps.engine, write=True) as session:
            record_failed(session=session, claimed=claimed, error=error, retry_at=None, max_attempts=MAX_ATTEMPTS)
            newly = mark_broken(session=session, rule_ids={a.rule_id for a in alerts}, reason=error, at=now)
            for rule in newly:
                record_audit(session=session, actor="scheduler", action="alert_broken",
                             details={"rule": rule.id, "channel": rule.channel_id, "reason": error})
        log.warning("alert rules %s for channel %s are broken: %s", [r.id for r in newly], claimed.channel_id, error)
        for rule in newly:
            _tell_creator(client, rule, error)
        return Outcome(claimed.channel_id, "broken", len(alerts), error)
    retry_after = None
    if exc.response.status_code == 429:
        headers = {str(k).lower(): str(v) for k, v in (exc.response.headers or {}).items()}
        seconds = headers.get("retry-after", "")
        retry_after = timedelta(seconds=int(seconds) if seconds.isdigit() else 1)
    return _retry_later(deps, claimed, now, error, retry_after)


def _retry_later(deps: Deps, claimed: Claimed, now: datetime, error: str, retry_after: timedelta | None) -> Outcome:
    """Put the batch back, due after Retry-After or an exponential backoff; given up after MAX_ATTEMPTS."""
    attempt = max(a.attempts for a in claimed.alerts)
    wait = retry_after or min(timedelta(seconds=2 ** attempt), MAX_BACKOFF)
    with session_scope(deps.engine, write=True) as session:
        record_failed(session=session, claimed=claimed, error=error, retry_at=now + wait, max_attempts=MAX_ATTEMPTS)
        if retry_after is not None:
            hold_channel(session=session, channel_id=claimed.channel_id, until=now + wait)
    log.warning("alerts for channel %s failed (attempt %d): %s; retrying in %ss", claimed.channel_id, attempt, error,
                int(wait.total_seconds()))
    return Outcome(claimed.channel_id, "failed", len(claimed.alerts), error)


def _tell_creator(client: WebClient, rule: Rule, error: str) -> None:
    """DM the admin who made the rule how to fix it."""
    notice = broken_notice(channel_id=rule.channel_id, reason=error, rule=rule)
    try:
        client.chat_postMessage(channel=rule.created_by, text=notice["text"], blocks=notice["blocks"])
    except Exception:
        log.exception("could not tell %s that alert rule %s is broken", rule.created_by, rule.id)


def _find_posted(client: WebClient, channel_id: str, batches: set[str], *, oldest: datetime) -> dict[str, str]:
    """The ts of messages a crashed poster did post for these batches (matched by our message metadata)."""
    found: dict[str, str] = {}
    cursor: str | None = None
    try:
        for _ in range(10):
            response = client.conversations_history(channel=channel_id, oldest=f"{oldest.timestamp() - 60:.6f}",
                                                    include_all_metadata=True, limit=200, cursor=cursor)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                batch = (metadata.get("event_payload") or {}).get("batch")
                if metadata.get("event_type") == EVENT_TYPE and batch in batches:
                    found[str(batch)] = str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        # Without history we cannot tell; posting risks a duplicate, not posting risks losing alerts. Post.
        log.warning("cannot read %s to check for earlier alerts: %s", channel_id, exc.response.get("error"))
    return found


def tick(deps: Deps, client: WebClient) -> None:
    """One scheduler pass; never lets an error stop the job."""
    try:
        for outcome in run_due(deps, client):
            log.info("alerts %s", outcome)
    except Exception:
        log.exception("alert tick failed; the next tick will try again")

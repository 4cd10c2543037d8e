"""`/customers digest subscribe|unsubscribe|list|preview` and the digest's Export CSV buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.blocks.common import error_message, refusal
from handlers.blocks.digest import (
    DIGEST_EXPORT_CHURNED,
    DIGEST_EXPORT_NEW,
    DIGEST_OPEN_PRODUCT,
    Message,
    digest_message,
    digest_usage,
    export_values,
    preview_message,
    subscribed_notice,
    subscriptions_list,
    unsubscribed_notice,
)
from handlers.blocks.revenue import with_digest_revenue
from handlers.common import answering, channel_of, claim_delivery, delivery_key, ephemeral, user_of
from handlers.digests.schedule import next_post
from handlers.exports import Exports
from storage.db import read_scope, session_scope
from storage.digests import (
    active_subscriptions,
    digest_content,
    subscribe,
    subscription_for_channel,
    taken_days,
    unsubscribe,
)
from storage.revenue import revenue
from storage.rules import known_zone, zone_hint
from storage.writes import record_audit

DEFAULT_TIME = "09:00"
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
SUBSCRIBE_FORM = ("`/customers digest subscribe 09:00 Europe/Berlin` (add `quiet:skip` to skip quiet days, "
                  "`revenue:show` for net new and churned MRR)")


class DigestInputError(ValueError):
    """Input the user can fix; the message says how."""


@dataclass(frozen=True)
class SubscribeArgs:
    """What `digest subscribe` was asked for."""

    local_time: str
    timezone: str
    quiet_skip: bool
    revenue: bool = False  # revenue:show: the post carries net new and churned MRR (the whole channel sees it)


def parse_local_time(value: str) -> str:
    """`9:00` or `09:00` -> `09:00`; anything else is a clear error."""
    match = _TIME.match(value)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise DigestInputError(f"{value} is not a time; try 09:00 or 17:30")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_zone(value: str) -> str:
    """An IANA zone name (any letter case) -> its canonical spelling; anything else is a clear error."""
    name = known_zone(value)
    if name is None:
        raise DigestInputError(
            f"{value} is not a time zone; use an Area/City name like Europe/Berlin{zone_hint(value)}")
    return name


def parse_subscribe(tokens: list[str], *, default_zone: str) -> SubscribeArgs:
    """`[HH:MM] [Area/City] [quiet:skip] [revenue:show]` in any order."""
    local_time, zone, quiet, revenue = DEFAULT_TIME, default_zone, False, False
    for token in tokens:
        lowered = token.lower()
        if lowered.startswith("revenue:"):
            if lowered not in ("revenue:show", "revenue:hide"):
                raise DigestInputError(f"{token} is not a revenue choice; use revenue:show (or revenue:hide)")
            revenue = lowered == "revenue:show"
        elif lowered.startswith("quiet:"):
            if lowered not in ("quiet:skip", "quiet:post"):
                raise DigestInputError(f"{token} is not a quiet-day choice; use quiet:skip (or quiet:post)")
            quiet = lowered == "quiet:skip"
        elif token[:1].isdigit():
            local_time = parse_local_time(token)
        else:
            zone = parse_zone(token)
    return SubscribeArgs(local_time=local_time, timezone=zone, quiet_skip=quiet, revenue=revenue)


def _is_digest(body: dict[str, Any]) -> bool:
    """Only `/customers digest ...` reaches the digest handler."""
    words = str(body.get("text") or "").split(maxsplit=1)
    return bool(words) and words[0].lower() == "digest"


def _in_dm(body: dict[str, Any]) -> bool:
    """True when the command was typed in a DM (digests need a channel)."""
    channel = str(body.get("channel_id") or "")
    name = str(body.get("channel_name") or "")
    return not channel or channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


def register(app: App, deps: Deps, exports: Exports) -> None:
    """Register `/customers digest ...` (before the customers handler) and the digest buttons."""

    @app.command("/customers", matchers=[_is_digest])
    def on_digest(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        with answering(respond, what="/customers digest"):
            ephemeral(respond, handle_command(deps, body))

    @app.action(re.compile(f"^({DIGEST_EXPORT_NEW}|{DIGEST_EXPORT_CHURNED})$"))
    def on_export(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        if not deps.settings.is_admin(user_id):
            ephemeral(respond, refusal(needs="admin", granters=deps.settings.access_granters()))
            return
        container = body.get("container") or {}
        # Into the digest's own thread; an ephemeral preview has no thread, so the export gets a parent message.
        thread_ts = None if container.get("is_ephemeral") else (container.get("message_ts")
                                                               or (body.get("message") or {}).get("ts"))
        if not claim_delivery(deps, delivery_key(body)):
            return  # Slack retried this click: the first delivery already started the export
        exports.start(client=client, query_text=str(body["actions"][0]["value"]),
                      channel_id=channel_of(body) or str(container.get("channel_id") or ""),
                      thread_ts=thread_ts, user_id=user_id, tell=lambda msg: ephemeral(respond, msg))

    @app.action(DIGEST_OPEN_PRODUCT)
    def on_open_product(ack: Ack) -> None:
        ack()  # a URL button; Slack opens the link, we only acknowledge


def handle_command(deps: Deps, body: dict[str, Any]) -> Message:
    """Run one `/customers digest ...` command and return the ephemeral reply (bad input gets a clear message)."""
    try:
        return _dispatch(deps, body)
    except DigestInputError as exc:
        return error_message(str(exc))


def _dispatch(deps: Deps, body: dict[str, Any]) -> Message:
    """Route a digest subcommand."""
    words = str(body.get("text") or "").split()[1:]
    action = words[0].lower() if words else ""
    user_id = str(body.get("user_id") or "")
    if action in ("subscribe", "unsubscribe"):
        if not deps.settings.is_admin(user_id):
            return refusal(needs="admin",
                           granters=deps.settings.access_granters())
        if _in_dm(body):
            raise DigestInputError(f"Digests are posted in a channel; run this in the channel that should get them, "
                                   f"like {SUBSCRIBE_FORM}")
        if action == "subscribe":
            return _subscribe(deps, body, parse_subscribe(words[1:], default_zone=deps.settings.default_timezone))
        return _unsubscribe(deps, body)
    if action == "list":
        with read_scope(deps.engine) as session:
            return subscriptions_list(active_subscriptions(session=session), tz=deps.settings.timezone,
                                      can_subscribe=deps.settings.is_admin(user_id))
    if action == "preview":
        return _preview(deps, body)
    return digest_usage()


def _subscribe(deps: Deps, body: dict[str, Any], args: SubscribeArgs) -> Message:
    """Create or change the channel a command was typed in's subscription."""
    return subscribe_channel(deps, user_id=str(body["user_id"]), channel_id=str(body["channel_id"]),
                             team_id=body.get("team_id"), args=args)


def subscribe_channel(deps: Deps, *, user_id: str, channel_id: str, team_id: str | None,
                      args: SubscribeArgs) -> Message:
    """Create or change a channel's subscription, audited (the command and the form both land here)."""
    now = deps.clock()
    with session_scope(deps.engine, write=True) as session:
        sub, created = subscribe(session=session, channel_id=channel_id, team_id=team_id,
                                 local_time=args.local_time, timezone=args.timezone, quiet_skip=args.quiet_skip,
                                 user_id=user_id, at=now, revenue=args.revenue)
        record_audit(session=session, actor=user_id, action="digest_subscribe",
                     details={"channel": channel_id, "time": args.local_time, "timezone": args.timezone,
                              "quiet_skip": args.quiet_skip, "revenue": args.revenue, "created": created})
        taken = taken_days(session=session, subscription_id=sub.id, since=now.date() - timedelta(days=2))
    next_at = next_post(sub, now=now, taken=taken, catchup_hours=deps.settings.digest_catchup_hours)
    return subscribed_notice(sub, created=created, next_at=next_at, tz=ZoneInfo(sub.timezone))


def _unsubscribe(deps: Deps, body: dict[str, Any]) -> Message:
    """Stop the channel's digest, audited."""
    user_id, channel_id = str(body["user_id"]), str(body["channel_id"])
    with session_scope(deps.engine, write=True) as session:
        sub = unsubscribe(session=session, channel_id=channel_id, user_id=user_id, at=deps.clock())
        if sub is not None:
            record_audit(session=session, actor=user_id, action="digest_unsubscribe",
                         details={"channel": channel_id, "time": sub.local_time, "timezone": sub.timezone})
    return unsubscribed_notice(channel_id, existed=sub is not None)


def _preview(deps: Deps, body: dict[str, Any]) -> Message:
    """What this channel would get if its digest were posted now (the 24 hours up to now)."""
    now = deps.clock()
    channel_id = None if _in_dm(body) else str(body.get("channel_id"))
    with read_scope(deps.engine) as session:
        sub = subscription_for_channel(session=session, channel_id=channel_id) if channel_id else None
        content = digest_content(session=session, until=now)
        figures = revenue(session=session, since=content.since, until=content.until) if sub and sub.revenue else None
    zone = ZoneInfo(sub.timezone) if sub else deps.settings.timezone
    message = digest_message(content, local_day=now.astimezone(zone).date(), tz=zone,
                             product_url=deps.settings.product_url, exports=export_values(content))
    if figures is not None:  # what the channel gets, which its members see anyway
        message = with_digest_revenue(message, figures)
    return preview_message(message, channel_id=channel_id)

"""Digest renderers (pure): the daily channel post, its quiet-day line, and the replies to `/customers digest ...`."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

from handlers.blocks.common import Block, Message, actions, button, clip, context, escape, header, message, section
from handlers.blocks.modals import digest_form_button
from storage.digests import DigestContent, Org, Subscription

__all__ = ["Message"]

DIGEST_EXPORT_NEW = "digest_export_new"
DIGEST_EXPORT_CHURNED = "digest_export_churned"
DIGEST_OPEN_PRODUCT = "digest_open_product"
LIST_LIMIT = 10
SIGNAL_NAMES = 5
ORG_WIDTH = 60
MAX_LISTED_SUBSCRIPTIONS = 40
REVENUE_SEEN = "Carries revenue (net new and churned MRR): everyone in the channel sees it"

BROKEN_HELP = {
    "not_in_channel": "the bot is not in the channel",
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "is_archived": "the channel is archived",
}


def slack_date(at: datetime, tz: tzinfo, fmt: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token: each reader sees it in their own zone; the fallback is in `tz`."""
    return f"<!date^{int(at.timestamp())}^{fmt}|{at.astimezone(tz):%Y-%m-%d %H:%M %Z}>"


def day_title(day: date) -> str:
    """`Tuesday 24 November 2026`."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def _iso(at: datetime) -> str:
    """A compact UTC instant the filter language reads back (`2026-11-24T09:00:00Z`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_values(content: DigestContent) -> tuple[str, str]:
    """The queries behind the digest's two Export CSV buttons: the window's signups and its churn."""
    window = f"{_iso(content.since)}..{_iso(content.until)}"
    return f"created:{window}", f"canceled:{window}"


def _avg(week: int) -> str:
    """The daily average of a 7-day count, one decimal."""
    return f"{week / 7:.1f}"


def _signed(n: int | float, fmt: str = "") -> str:
    """+3, -2, 0."""
    return f"{n:+{fmt}}" if n else f"{0:{fmt}}"


def tenure(org: Org) -> str:
    """How long a churned org stayed: `5 days`, `8 months`, `2 years`."""
    days = max(((org.canceled_at or org.created_at) - org.created_at).days, 0)
    if days < 1:
        return "under a day"
    if days < 31:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 365:
        months = days // 30
        return f"{months} month{'s' if months != 1 else ''}"
    years = days // 365
    return f"{years} year{'s' if years != 1 else ''}"


def _name(org: Org) -> str:
    """An organization's name, cut to fit and escaped for mrkdwn."""
    return escape(clip(org.organization, ORG_WIDTH))


def _seats(n: int) -> str:
    """`1 seat`, `12 seats`."""
    return f"{n:,} seat{'s' if n != 1 else ''}"


def _org_list(title: str, orgs: list[Org], total: int, line: Any) -> Block:
    """A section listing up to LIST_LIMIT orgs, with `+N more`."""
    lines = [f"• {line(org)}" for org in orgs[:LIST_LIMIT]]
    if total > len(lines):
        lines.append(f"+{total - len(lines):,} more")
    return section(f"*{title}*\n" + "\n".join(lines))


def _signal(count: int, what: str, nudge: str, names: list[str]) -> str:
    """One Signals line, e.g. `• 3 new orgs with 0 seats (onboarding nudge): A, B, C +1 more`."""
    shown = names[:SIGNAL_NAMES]
    more = f" +{count - len(shown):,} more" if count > len(shown) else ""
    return f"• *{count:,}* {what} _({nudge})_: " + ", ".join(shown) + more


def digest_message(
    content: DigestContent, *, local_day: date, tz: tzinfo, product_url: str, exports: tuple[str, str]
) -> Message:
    """The daily channel post (no email addresses); a quiet day is one short line."""
    totals = f"{content.active_customers:,} active customers · {_seats(content.active_seats)}"
    title = day_title(local_day)
    if content.quiet:
        line = f"*Daily digest, {title}:* a quiet day, no new signups and no churn in the last 24 hours. {totals}."
        return message(f"Daily digest {local_day.isoformat()}: no new signups and no churn", [section(line)])
    net = content.new_total - content.churned_total
    net_week = (content.new_week - content.churned_week) / 7
    counts = {"type": "section", "fields": [
        {"type": "mrkdwn", "text": f"*New signups*\n{content.new_total:,} (7-day avg {_avg(content.new_week)})"},
        {"type": "mrkdwn", "text": f"*Churned*\n{content.churned_total:,} (7-day avg {_avg(content.churned_week)})"},
        {"type": "mrkdwn", "text": f"*Net change*\n{_signed(net)} (7-day avg {_signed(net_week, '.1f')})"},
    ]}
    blocks: list[Block | None] = [
        header(f"Daily digest · {title}"), counts, context(f"The 24 hours up to {slack_date(content.until, tz)}")]
    if content.new_total:
        blocks.append(_org_list("New signups", content.new, content.new_total,
                                lambda o: f"*{_name(o)}* · {_seats(o.seats)} · {o.status.replace('_', ' ')}"))
    if content.churned_total:
        blocks.append(_org_list("Churned", content.churned, content.churned_total,
                                lambda o: f"*{_name(o)}* · {_seats(o.seats)} · customer for {tenure(o)}"))
    blocks += [_signals(content), context(totals), actions(
        button("Export signups CSV", DIGEST_EXPORT_NEW, value=exports[0]) if content.new_total else None,
        button("Export churn CSV", DIGEST_EXPORT_CHURNED, value=exports[1]) if content.churned_total else None,
        button("Open Product", DIGEST_OPEN_PRODUCT, url=product_url) if product_url else None)]
    text = (f"Daily digest {local_day.isoformat()}: {content.new_total:,} new, {content.churned_total:,} churned "
            f"(net {_signed(net)})")
    return message(text, blocks)


def _signals(content: DigestContent) -> Block | None:
    """Orgs to act on today: onboarding, case studies, adding teammates."""
    signals = []
    if content.zero_seat_total:
        signals.append(_signal(content.zero_seat_total, "new orgs with 0 seats", "onboarding nudge",
                               [_name(o) for o in content.zero_seat]))
    if content.grown_total:
        signals.append(_signal(content.grown_total, "orgs added seats", "case-study candidates",
                               [f"{_name(o)} (+{o.added:,})" for o in content.grown]))
    if content.one_seat_total:
        signals.append(_signal(content.one_seat_total, "orgs that joined a week ago still on 1 seat",
                               "add-teammates nudge", [_name(o) for o in content.one_seat]))
    return section("*Signals*\n" + "\n".join(signals)) if signals else None


def preview_message(digest: Message, *, channel_id: str | None) -> Message:
    """The digest as it would be posted now, marked as a preview (ephemeral)."""
    where = f"<#{channel_id}>" if channel_id else "a channel"
    note = context(f"Preview of what {where} would get now; only you can see it.")
    return message("Preview: " + digest["text"], [note, *digest["blocks"]][:50])


def broken_notice(*, channel_id: str, reason: str) -> Message:
    """The DM to a broken subscription's creator: what happened and how to fix it."""
    why = BROKEN_HELP.get(reason, reason)
    text = (f"The daily digest for <#{channel_id}> has stopped: {why} (`{escape(reason)}`). To fix it, "
            f"invite the bot with `/invite @Customers` in <#{channel_id}> (or pick another channel), then run "
            "`/customers digest subscribe HH:MM Area/City` there again.")
    return message(f"The daily digest for <#{channel_id}> has stopped: {why}", [section(text)])


def schedule_words(sub: Subscription) -> str:
    """`09:00 Europe/Berlin, quiet days skipped` (`, with revenue` for revenue:show)."""
    quiet = "quiet days skipped" if sub.quiet_skip else "quiet days get one line"
    return f"{sub.local_time} {sub.timezone}, {quiet}" + (", with revenue" if sub.revenue else "")


def health(sub: Subscription, tz: tzinfo) -> str:
    """`✅ ok` or `⚠️ broken: not_in_channel since …`."""
    if sub.broken_at is None:
        return "✅ ok"
    return f"⚠️ broken: {escape(sub.broken_reason or 'unknown')} since {slack_date(sub.broken_at, tz)}"


def subscriptions_list(subs: list[Subscription], *, tz: tzinfo, can_subscribe: bool = False) -> Message:
    """Every subscription: channel, time, zone, last sent and health (and, for admins, the form's button)."""
    form = actions(digest_form_button()) if can_subscribe else None
    if not subs:
        text = "No channel gets a daily digest yet. In a channel, run `/customers digest subscribe 09:00 Europe/Berlin`"
        return message("No daily digests yet", [section(text), form])
    blocks: list[Block | None] = [header(f"Daily digests ({len(subs):,})")]
    for sub in subs[:MAX_LISTED_SUBSCRIPTIONS]:
        sent = slack_date(sub.last_sent_at, tz) if sub.last_sent_at else "never"
        revenue = f"\n💰 {REVENUE_SEEN}" if sub.revenue else ""
        blocks.append(section(f"<#{sub.channel_id}> · daily at {schedule_words(sub)}\n"
                              f"Last sent: {sent} · {health(sub, tz)}{revenue}"))
    if len(subs) > MAX_LISTED_SUBSCRIPTIONS:
        blocks.append(context(f"+{len(subs) - MAX_LISTED_SUBSCRIPTIONS:,} more"))
    blocks.append(form)
    return message(f"{len(subs):,} daily digest subscription(s)", blocks)


def subscribed_notice(sub: Subscription, *, created: bool, next_at: datetime, tz: tzinfo) -> Message:
    """Confirmation of a new or changed subscription, with the next post time."""
    verb = "will get" if created else "now gets"
    text = (f"<#{sub.channel_id}> {verb} the daily digest at {schedule_words(sub)}. "
            f"Next one: {slack_date(next_at, tz)}.")
    return message(f"Daily digest at {sub.local_time} {sub.timezone}", [section(text)])


def unsubscribed_notice(channel_id: str, *, existed: bool) -> Message:
    """Confirmation of an unsubscribe (or that there was nothing to stop)."""
    text = (f"<#{channel_id}> will no longer get the daily digest." if existed
            else f"<#{channel_id}> has no daily digest; nothing to stop.")
    return message(text, [section(text)])


def digest_usage() -> Message:
    """How to use `/customers digest`."""
    text = ("*Daily digest of new signups and churn*\n"
            "• `/customers digest subscribe [HH:MM] [Area/City] [quiet:skip] [revenue:show]` in a channel (admins), "
            "e.g. `/customers digest subscribe 09:00 Europe/Berlin`; `revenue:show` adds net new and churned MRR, "
            "which everyone in the channel sees\n"
            "• `/customers digest unsubscribe` in that channel (admins)\n"
            "• `/customers digest list`: every subscription and its health\n"
            "• `/customers digest preview`: what this channel would get now (only you see it)")
    return message("Usage: /customers digest subscribe|unsubscribe|list|preview", [section(text)])

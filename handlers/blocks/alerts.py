"""Alert messages and rule listings as Block Kit (pure): one card, a grouped burst, import summaries, App Home."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, tzinfo
from typing import Any

from handlers.blocks.common import (
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    escape,
    escape_fallback,
    fields,
    format_money,
    header,
    hide_emails,
    line_sections,
    link_button,
    message,
    notice,
    plural,
    section,
)
from handlers.blocks.digest import BROKEN_HELP, slack_date
from handlers.blocks.nav import OPEN_PRODUCT
from storage.alert_filters import KINDS_HELP
from storage.alerts import Rule

ALERT_SHOW_CUSTOMER = "alert_show_customer"
ALERT_EXPORT = "alert_export"
GROUP_SHOWN = 20  # lines in a grouped message; the rest are counted ("+N more")
ORG_WIDTH = 80
RULES_SHOWN = 40
VERBS = {"churn": "churned", "signup": "signed up", "expansion": "expanded", "contraction": "contracted",
         "reactivation": "came back", "refund": "refunded", "payout_failed": "payout failed"}
TITLES = {"churn": "🔴 Churn", "signup": "🟢 Signup", "expansion": "📈 Expansion", "contraction": "📉 Contraction",
          "reactivation": "🔁 Reactivation", "refund": "💸 Refund", "payout_failed": "⚠️ Payout failed"}
Alert = tuple[str, dict[str, Any]]  # (kind, payload)


def _org(payload: dict[str, Any]) -> str:
    """The organization as plain text: no email addresses in channel posts, clipped."""
    return clip(hide_emails(str(payload.get("organization") or "an unknown customer")), ORG_WIDTH)


def _pair(values: Any, shown: Any = str) -> str:
    """`40 → 40` from [before, after]; a new row shows only its value."""
    before, after = (values or [None, None])[:2]
    return shown(after) if before is None else f"{shown(before)} → {shown(after)}"


def _status(value: Any) -> str:
    """A status word for people."""
    return str(value).replace("_", " ")


def _mrr(payload: dict[str, Any]) -> str | None:
    """MRR before → after, when the rule may show it and the customer has a currency."""
    if "mrr" not in payload or not payload.get("currency"):
        return None
    currency = str(payload["currency"])
    return _pair(payload["mrr"], lambda v: format_money(int(v), currency))


def _what(kind: str, payload: dict[str, Any]) -> str:
    """One line saying what changed, for a grouped message."""
    if kind == "payout_failed":
        return f"payout {format_money(int(payload['amount']), payload['currency'])} failed"
    if kind == "refund":
        return f"refunded {format_money(int(payload['amount']), payload['currency'])}"
    parts = [VERBS.get(kind, kind), f"{_pair(payload.get('seats'))} seats", _pair(payload.get("status"), _status)]
    if mrr := _mrr(payload):
        parts.append(f"MRR {mrr}")
    return " · ".join(parts)


def alert_card(kind: str, payload: dict[str, Any], *, product_url: str, rule: str) -> Message:
    """One alert: organization, what changed, Open Product, and a button showing the card to whoever clicks."""
    if payload.get("summary"):
        return summary_card(kind, payload, rule=rule)
    org = _org(payload)
    title = f"{TITLES.get(kind, kind)}: {org}" if kind != "payout_failed" else TITLES[kind]
    if kind in ("refund", "payout_failed"):
        amount = format_money(int(payload["amount"]), str(payload["currency"]))
        detail = fields(f"*Amount*\n{escape(amount)}",
                        f"*Payout*\n`{escape(clip(str(payload.get('external_id') or ''), 100))}`"
                        if kind == "payout_failed" else f"*Customer*\n{escape(org)}")
        text = f"{TITLES[kind]}: {amount}" + (f" ({org})" if kind == "refund" else "")
    else:
        mrr = _mrr(payload)
        detail = fields(f"*Seats*\n{_pair(payload.get('seats'))}", f"*Status*\n{_pair(payload.get('status'), _status)}",
                        f"*MRR*\n{escape(mrr)}" if mrr else None)
        text = f"{org} {VERBS.get(kind, kind)}: {_what(kind, payload)}"
    show = button("Show customer", ALERT_SHOW_CUSTOMER, value=str(payload["customer_id"])) \
        if payload.get("customer_id") else None
    return message(escape_fallback(text), [
        header(title), detail, context(f"Alert rule: `{escape(clip(rule, 200))}`"),
        actions(link_button("Open Product", OPEN_PRODUCT, product_url), show)])


def summary_card(kind: str, payload: dict[str, Any], *, rule: str) -> Message:
    """An import's one alert per rule: how many, and the first few."""
    count = int(payload.get("count") or 0)
    title = f"{plural(count, 'customer')} {VERBS.get(kind, kind)} in this import"
    lines = [f"• *{escape(_org(p))}* · {_what(kind, p)}" for p in payload.get("examples") or []]
    more = count - len(lines)
    return message(escape_fallback(title), [
        header(title), *line_sections(lines), context(f"+{more:,} more") if more > 0 else None,
        context(f"Alert rule: `{escape(clip(rule, 200))}`")])


def grouped_message(alerts: list[Alert], *, batch: str, first: datetime, last: datetime) -> Message:
    """Several alerts due for one channel at once: one message, the first few listed, the rest counted."""
    kinds = Counter(kind for kind, _ in alerts)
    span = "in the last minute" if (last - first).total_seconds() <= 60 else "recently"
    if len(kinds) == 1:
        kind = next(iter(kinds))
        noun = "payout" if kind == "payout_failed" else "refund" if kind == "refund" else "customer"
        title = f"{plural(len(alerts), noun)} {VERBS.get(kind, kind)} {span}"
    else:
        title = f"{plural(len(alerts), 'alert')} {span}: " + ", ".join(
            f"{n:,} {VERBS.get(k, k)}" for k, n in kinds.most_common())
    lines = [f"• *{escape(_org(p))}* · {escape(_what(k, p))}" for k, p in alerts[:GROUP_SHOWN]]
    more = len(alerts) - GROUP_SHOWN
    customers = any(p.get("customer_id") for _, p in alerts)
    return message(escape_fallback(title), [
        header(title), *line_sections(lines), context(f"+{more:,} more") if more > 0 else None,
        actions(button("Export CSV (admins)", ALERT_EXPORT, value=batch)) if customers else None])


def broken_notice(*, channel_id: str, reason: str, rule: Rule) -> Message:
    """The DM to a broken rule's creator: which rule, what happened and how to fix it."""
    why = BROKEN_HELP.get(reason, reason)
    text = (f"Alert rule #{rule.id} (`{escape(rule.kind)} {escape(rule.filters)}`) for <#{channel_id}> has stopped: "
            f"{why} (`{escape(reason)}`). Invite the bot with `/invite @Customers` in <#{channel_id}>, then "
            f"`/customers alert resume {rule.id}`.")
    return message(f"Alert rule #{rule.id} for <#{channel_id}> has stopped: {why}", [section(text)])


def health(rule: Rule, tz: tzinfo) -> str:
    """`✅ firing`, `⏸️ paused` or `⚠️ broken: not_in_channel since …`."""
    if rule.broken_at is not None:
        return f"⚠️ broken: {escape(rule.broken_reason or 'unknown')} since {slack_date(rule.broken_at, tz)}"
    return "⏸️ paused" if rule.paused else "✅ firing"


def rule_line(rule: Rule, tz: tzinfo) -> str:
    """One rule: id, kind, filters, channel, creator, last fired, health."""
    filters = f" `{escape(clip(rule.filters, 200))}`" if rule.filters else ""
    quiet = f" · quiet {rule.quiet[0]}-{rule.quiet[1]} {escape(rule.timezone)}" if rule.quiet else ""
    fired = slack_date(rule.last_fired_at, tz) if rule.last_fired_at else "never"
    return (f"*#{rule.id}* {escape(rule.kind)}{filters} in <#{rule.channel_id}> · by <@{rule.created_by}>{quiet}"
            f" · last fired {fired} · {health(rule, tz)}")


def alert_rules_blocks(rules: list[Rule], *, tz: tzinfo) -> list[Block]:
    """The rules for App Home (admins): a title and one line each."""
    if not rules:
        return [section("*Alerts*\nNo alert rules yet. In a channel: `/customers alert add churn seats:>=20`.")]
    lines = [rule_line(r, tz) for r in rules[:RULES_SHOWN]]
    more = [context(f"+{len(rules) - RULES_SHOWN:,} more: `/customers alert list`")] if len(rules) > RULES_SHOWN else []
    return [*line_sections(lines, title="*Alerts*"), *more]


def rules_list(rules: list[Rule], *, tz: tzinfo) -> Message:
    """`/customers alert list`."""
    if not rules:
        return notice("No alert rules yet. Add one in a channel: /customers alert add churn seats:>=20")
    blocks: list[Block | None] = [*alert_rules_blocks(rules, tz=tz)]
    return message(f"{plural(len(rules), 'alert rule')}", blocks)


def rule_added(rule: Rule) -> Message:
    """What `alert add` answers."""
    quiet = f", held during {rule.quiet[0]}-{rule.quiet[1]} {rule.timezone}" if rule.quiet else ""
    mrr = " MRR before and after is shown (you have finance access)." if rule.show_mrr else ""
    what = f"{rule.kind} {rule.filters}".strip()
    tail = f"{quiet}.{mrr} Pause it with `/customers alert pause {rule.id}`."
    return message(escape_fallback(f"Alert rule #{rule.id} added: {what} in <#{rule.channel_id}>{tail}"),
                   [section(f":white_check_mark: Alert rule #{rule.id} added: `{escape(what)}` in "
                            f"<#{rule.channel_id}>{escape(tail)}")])


def alerts_usage() -> Message:
    """Help for `/customers alert`."""
    text = ("*Alerts* post to a channel as changes happen (admins manage them):\n"
            "• `/customers alert add <kind> [filters] [quiet:22:00-07:00] [tz:Europe/Berlin]` in the channel\n"
            f"  kinds: {KINDS_HELP}; filters: `seats:>=20`, `status:active`, `mrr:>=500` (customers; MRR "
            "for finance users), "
            "`amount:>=100 currency:usd` (refunds, failed payouts; finance access)\n"
            "• `/customers alert list` · `remove <id>` · `pause <id>` · `resume <id>`")
    return message("Alerts: /customers alert add|list|remove|pause|resume", [section(text)])

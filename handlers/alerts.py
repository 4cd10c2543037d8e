"""`/customers alert add|list|remove|pause|resume` (admins manage) and the alert cards' Show customer and Export."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from handlers.blocks.alerts import (
    ALERT_EXPORT,
    ALERT_SHOW_CUSTOMER,
    alerts_usage,
    rule_added,
    rules_list,
)
from handlers.blocks.common import Message, error_message, hide_emails, notice, refusal
from handlers.blocks.customers import customer_card
from handlers.blocks.exports import not_in_channel
from handlers.common import (
    UserError,
    answering,
    channel_of,
    claim_delivery,
    delivery_key,
    ephemeral,
    log_request,
    out_of_date,
    user_of,
)
from handlers.exports import CANNOT_POST
from handlers.revenue import with_revenue
from storage.alert_filters import FINANCE_KINDS, parse_rule
from storage.alert_outbox import batch_alerts
from storage.alerts import Rule, add_rule, live_rules, remove_rule, set_paused
from storage.bulk.csv_io import neutralise
from storage.customers import customer_detail
from storage.db import read_scope, session_scope
from storage.models import Customer
from storage.writes import record_audit

_BATCH = re.compile(r"^[0-9a-f]{32}$")
EXPORT_HEADER = ("organization", "external_id", "kind", "at", "seats_before", "seats_after", "status_before",
                 "status_after")


def _is_alert(body: dict[str, Any]) -> bool:
    """Only `/customers alert ...` reaches the alert handler."""
    words = str(body.get("text") or "").split(maxsplit=1)
    return bool(words) and words[0].lower() in ("alert", "alerts")


def _in_dm(body: dict[str, Any]) -> bool:
    """True when the command was typed in a DM (alerts post in a channel)."""
    channel = str(body.get("channel_id") or "")
    name = str(body.get("channel_name") or "")
    return not channel or channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


def create_rule(deps: Deps, *, user_id: str, channel_id: str, team_id: str | None, text: str) -> Rule:
    """Add a rule from `<kind> [filters] [quiet:HH:MM-HH:MM] [tz:Area/City]`, audited (the command and forms).

    Raises UserError (no access) or AlertRuleError (the filter language's specific message); nothing is stored then.
    """
    if not deps.settings.is_admin(user_id):
        raise UserError(f"Alert rules are managed by admins; ask {deps.settings.access_granters()}.")
    now = deps.clock()
    spec = parse_rule(text, now=now)
    if spec.kind in FINANCE_KINDS and not deps.settings.is_finance(user_id):
        raise UserError(f"{spec.kind.value} alerts carry finance figures: they need finance access; "
                        f"ask {deps.settings.access_granters()}.")
    if spec.conditions.uses_mrr and not deps.settings.is_finance(user_id):
        raise UserError(f"mrr: filters are finance figures: they need finance access; "
                        f"ask {deps.settings.access_granters()}.")
    with session_scope(deps.engine, write=True) as session:
        rule = add_rule(session=session, spec=spec, channel_id=channel_id, team_id=team_id, user_id=user_id,
                        show_mrr=deps.settings.is_finance(user_id), timezone=deps.settings.default_timezone, at=now)
        record_audit(session=session, actor=user_id, action="alert_add",
                     details={"rule": rule.id, "kind": rule.kind, "filters": rule.filters, "channel": channel_id,
                              "quiet": list(rule.quiet) if rule.quiet else None, "timezone": rule.timezone})
    return rule


def handle_command(deps: Deps, body: dict[str, Any]) -> Message:
    """Run one `/customers alert ...` command and return the ephemeral reply."""
    words = str(body.get("text") or "").split()[1:]
    action = words[0].lower() if words else ""
    user_id = user_of(body)
    if action == "list":
        with read_scope(deps.engine) as session:
            return rules_list(live_rules(session=session), tz=deps.settings.timezone)
    if action not in ("add", "remove", "pause", "resume"):
        return alerts_usage()
    if not deps.settings.is_admin(user_id):
        return refusal(needs="admin", granters=deps.settings.access_granters())
    if action == "add":
        if _in_dm(body):
            raise UserError("Alerts are posted in a channel; run `/customers alert add churn seats:>=20` there.")
        rule = create_rule(deps, user_id=user_id, channel_id=str(body["channel_id"]), team_id=body.get("team_id"),
                           text=" ".join(words[1:]))
        return rule_added(rule)
    return _change(deps, action, words[1:], user_id)


def _change(deps: Deps, action: str, args: list[str], user_id: str) -> Message:
    """remove, pause or resume one rule by id, audited."""
    raw = args[0].lstrip("#") if args else ""
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise UserError(f"alert {action} needs a rule id, like `/customers alert {action} 3` "
                        "(`/customers alert list` shows them)")
    rule_id = int(raw)
    with session_scope(deps.engine, write=True) as session:
        if action == "remove":
            rule = remove_rule(session=session, rule_id=rule_id, user_id=user_id, at=deps.clock())
        else:
            rule = set_paused(session=session, rule_id=rule_id, paused=action == "pause")
        if rule is not None:
            record_audit(session=session, actor=user_id, action=f"alert_{action}",
                         details={"rule": rule.id, "kind": rule.kind, "channel": rule.channel_id})
    if rule is None:
        return error_message(f"There is no alert rule #{rule_id}; `/customers alert list` shows them.")
    done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
    return notice(f"Alert rule #{rule.id} ({rule.kind} {rule.filters}".rstrip() + f") {done}.")


def show_customer(deps: Deps, value: str, user_id: str) -> Message | None:
    """The customer card for whoever clicked, with their own permissions; None for a value we did not make."""
    if not (value.isascii() and value.isdigit() and len(value) < 19):
        return None
    with read_scope(deps.engine) as session:
        customer = session.get(Customer, int(value))
        if customer is None:
            return notice("That customer is no longer in the store.")
        finance = deps.settings.is_finance(user_id)
        card = customer_card(customer_detail(session=session, customer=customer), show_finance=finance,
                             product_url=deps.settings.product_url, tz=deps.settings.timezone)
        return with_revenue(card, session=session, customer=customer, tz=deps.settings.timezone) if finance else card


def export_csv(deps: Deps, batch: str) -> tuple[str, int]:
    """The CSV of one grouped message's alerts (no emails), and how many rows it has."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    with read_scope(deps.engine) as session:
        rows = batch_alerts(session=session, batch=batch)
    for row in rows:
        p = row.payload
        seats, status = p.get("seats") or [None, None], p.get("status") or [None, None]
        cells = [hide_emails(str(p.get("organization") or "")), p.get("external_id") or "", row.kind,
                 row.created_at.isoformat(), seats[0], seats[1], status[0], status[1]]
        writer.writerow([neutralise(str(c)) if c is not None else "" for c in cells])
    return out.getvalue(), len(rows)


def register(app: App, deps: Deps) -> None:
    """Register `/customers alert ...` (before the customers handler) and the alert buttons."""

    @app.command("/customers", matchers=[_is_alert])
    def on_alert(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        log_request(user_of(body), "/customers alert", str(body.get("text") or "")[6:])
        with answering(respond, what="/customers alert"):  # a bad kind or filter: the filter language's message
            ephemeral(respond, handle_command(deps, body))

    @app.action(ALERT_SHOW_CUSTOMER)
    def on_show(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, ALERT_SHOW_CUSTOMER)
        with answering(respond, what="alert show customer"):
            card = show_customer(deps, str(action.get("value") or ""), user_id)
            if card is None:
                out_of_date(respond)
                return
            ephemeral(respond, card)

    @app.action(ALERT_EXPORT)
    def on_export(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                  client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, ALERT_EXPORT)
        if not deps.settings.is_admin(user_id):  # who clicks decides
            ephemeral(respond, refusal(needs="admin (exports)", granters=deps.settings.access_granters()))
            return
        batch = str(action.get("value") or "")
        if not _BATCH.match(batch):
            out_of_date(respond)
            return
        with answering(respond, what="alert export"):
            if not claim_delivery(deps, delivery_key(body)):
                return  # Slack retried this click: the first delivery already uploaded it
            content, rows = export_csv(deps, batch)
            container = body.get("container") or {}
            channel_id = channel_of(body) or str(container.get("channel_id") or "")
            thread_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
            try:
                client.files_upload_v2(channel=channel_id, thread_ts=thread_ts, content=content,
                                       filename=f"alerts-{deps.clock():%Y%m%d-%H%M}.csv", title="Alerts export")
            except SlackApiError as exc:
                if exc.response.get("error") not in CANNOT_POST:
                    raise
                ephemeral(respond, not_in_channel(channel_id))
                return
            with session_scope(deps.engine, write=True) as session:
                record_audit(session=session, actor=user_id, action="export",
                             details={"alerts_batch": batch, "rows": rows, "channel": channel_id})

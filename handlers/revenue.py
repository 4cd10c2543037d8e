"""/finance mrr: revenue per currency over a window, its Share in channel and Export CSV (movements) buttons."""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, tzinfo
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.deps import Deps
from handlers.blocks.common import Message, notice, refusal, section
from handlers.blocks.exports import not_in_channel
from handlers.blocks.revenue import (
    CURRENCIES_SHOWN,
    MRR_EXPORT,
    MRR_SHARE,
    Tops,
    customer_revenue_lines,
    home_revenue_blocks,
    mrr_message,
    read_mrr_value,
)
from handlers.common import answering, channel_of, ephemeral, log_request, out_of_date, user_of
from handlers.exports import CANNOT_POST, telling_not_in_channel
from storage.db import read_scope, session_scope
from storage.models import Customer
from storage.movements import recent_movements
from storage.movements_csv import export_movements
from storage.query import Domain, Query, QueryError, Window, parse_query, parse_window
from storage.revenue import Revenue, largest_movements, revenue
from storage.writes import record_audit

log = logging.getLogger("customers_bot.revenue")
DEFAULT_WINDOW = "30d"
Block = dict[str, Any]


def _window(deps: Deps, text: str) -> tuple[Window, str, str]:
    """The window `/finance mrr [window]` asks about, its text and how to say it (`last 30d`)."""
    words = text.split()
    if len(words) > 1:
        raise QueryError(f"/finance mrr takes one window, not {text!r}; try `/finance mrr 30d` or "
                         "`/finance mrr 2026-11-01..2026-11-30`")
    label = words[0] if words else DEFAULT_WINDOW
    window = parse_window(label, now=deps.clock())
    span = f"last {label}" if label[:1].isdigit() and ".." not in label and "-" not in label else label
    return window, label, span


def figures(deps: Deps, since: datetime, until: datetime, *, tops: bool) -> tuple[list[Revenue], Tops]:
    """Every currency's figures over [since, until) and, when asked, the largest expansions and churns of each."""
    with read_scope(deps.engine) as session:
        found = revenue(session=session, since=since, until=until)
        largest: Tops = {}
        if tops:
            for f in found[:CURRENCIES_SHOWN]:
                for kind in ("expansion", "churn"):
                    largest[(f.currency, kind)] = largest_movements(
                        session=session, currency=f.currency, kind=kind, since=since, until=until,
                        counted=f.counted(kind))
    return found, largest


def render_mrr(deps: Deps, text: str, user_id: str, *, shared_by: str | None = None) -> Message:
    """`/finance mrr [window]` (default 30d) for a finance user; the caller checks finance access."""
    window, label, span = _window(deps, text)
    now = deps.clock()
    since = window.since or now
    found, largest = figures(deps, since, window.until or now, tops=True)
    return mrr_message(found, largest, window=label, span=span, can_export=deps.settings.is_admin(user_id),
                       shared_by=shared_by)


def mrr_refusal(deps: Deps, query: Query, user_id: str) -> Message | None:
    """Lists filtered or sorted by MRR are for finance users: others get a refusal naming the filter."""
    if deps.settings.is_finance(user_id):
        return None
    used = [t for t in query.tokens if t.lower().startswith("mrr:")
            or (t.lower().startswith("sort:") and t.lower().partition(":")[2].lstrip("+-") == "mrr")]
    if not used:
        return None
    return refusal(needs=f"finance ({', '.join(used)} reads MRR)", granters=deps.settings.access_granters())


def home_revenue(deps: Deps) -> list[Block]:
    """The App Home's revenue blocks (finance users only: the caller checks)."""
    now = deps.clock()
    found, _ = figures(deps, parse_window("30d", now=now).since or now, now, tops=False)
    return home_revenue_blocks(found)


def with_revenue(card: Message, *, session: Session, customer: Customer, tz: tzinfo) -> Message:
    """A customer card with its MRR and last movements added above its buttons (finance users: the caller checks)."""
    assert customer.id is not None
    lines = customer_revenue_lines(mrr=customer.mrr, currency=customer.currency, tz=tz,
                                   movements=recent_movements(session=session, customer_id=customer.id))
    blocks = list(card["blocks"])
    at = next((i for i, b in enumerate(blocks) if b.get("type") == "actions"), len(blocks))
    blocks.insert(at, section("\n".join(lines)))
    return {**card, "blocks": blocks}


def export_movements_to_thread(deps: Deps, client: WebClient, *, window_text: str, channel_id: str,
                               user_id: str) -> int | None:
    """Post a parent message, upload the window's movements as CSV into its thread, audit it (None: cannot post)."""
    window, label, span = _window(deps, window_text)
    now = deps.clock()
    query = parse_query("", now=now, domain=Domain.payments)
    query = query.with_window(created=Window(since=window.since, until=window.until or now))
    try:
        parent = client.chat_postMessage(channel=channel_id, text=f"Exporting MRR movements · {span}, for <@{user_id}>")
        channel_id, thread_ts = str(parent.get("channel") or channel_id), str(parent["ts"])
        fd, path = tempfile.mkstemp(prefix="movements-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                rows = export_movements(engine=deps.engine, query=query, out=out)
            client.files_upload_v2(channel=channel_id, thread_ts=thread_ts, file=path,
                                   filename=f"mrr-movements-{now:%Y%m%d-%H%M}.csv", title="MRR movements",
                                   initial_comment=f"{rows:,} movements · {span}")
        finally:
            os.unlink(path)
    except SlackApiError as exc:
        if exc.response.get("error") in CANNOT_POST:
            return None
        raise
    with session_scope(deps.engine, write=True) as session:
        record_audit(session=session, actor=user_id, action="export_movements",
                     details={"window": label, "rows": rows, "channel": channel_id, "thread_ts": thread_ts})
    log.info("export movements user=%s rows=%d channel=%s", user_id, rows, channel_id)
    return rows


def register(app: App, deps: Deps) -> None:
    """Register the Share in channel and Export CSV buttons of `/finance mrr`."""

    def refuse(respond: Respond, needs: str) -> None:
        ephemeral(respond, refusal(needs=needs, granters=deps.settings.access_granters()))

    @app.action(MRR_SHARE)
    def share_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        user_id, channel_id = user_of(body), channel_of(body)
        log_request(user_id, MRR_SHARE)
        if not deps.settings.is_finance(user_id):  # buttons can be forwarded: the clicker decides
            refuse(respond, "finance")
            return
        window = read_mrr_value(action.get("value"))
        if window is None:
            out_of_date(respond)
            return
        with answering(respond, what="mrr share"):
            msg = render_mrr(deps, window, user_id, shared_by=user_id)
            with telling_not_in_channel(respond, channel_id):
                client.chat_postMessage(channel=channel_id, text=msg["text"], blocks=msg["blocks"])

    @app.action(MRR_EXPORT)
    def export_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                     client: WebClient) -> None:
        ack()
        user_id, channel_id = user_of(body), channel_of(body)
        log_request(user_id, MRR_EXPORT)
        if not deps.settings.is_admin(user_id):
            refuse(respond, "admin (exports)")
            return
        window = read_mrr_value(action.get("value"))
        if window is None:
            out_of_date(respond)
            return
        with answering(respond, what="mrr export"):
            if export_movements_to_thread(deps, client, window_text=window, channel_id=channel_id,
                                          user_id=user_id) is None:
                ephemeral(respond, not_in_channel(channel_id))
            else:
                ephemeral(respond, notice("The movements CSV is in the thread of the message I just posted."))

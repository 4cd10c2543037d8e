"""`/customers trend [window] [filters]`: signups and churn over time as charts, and its Share in channel button."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.blocks.charts import TREND_SHARE, trend_message
from handlers.blocks.common import Message
from handlers.blocks.limits import BUTTON_VALUE, slack_len
from handlers.charts_send import post_message, respond_message, team_of
from handlers.common import (
    UserError,
    answering,
    channel_of,
    claim_delivery,
    delivery_key,
    log_request,
    out_of_date,
    user_of,
)
from handlers.exports import telling_not_in_channel
from storage.db import read_scope
from storage.query import QueryError, parse_query, parse_window
from storage.trends import customer_trend

DEFAULT_WINDOW = "90d"
_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_WINDOW = re.compile(rf"^([0-9]{{1,4}}[dwmy]|{_DAY}\.\.({_DAY})?)$", re.I)


def split_window(text: str) -> tuple[str, str]:
    """`12m seats:>10` -> ('12m', 'seats:>10'); no window given -> the default, 90 days."""
    first, _, rest = text.strip().partition(" ")
    if re.fullmatch(r"[0-9]{1,4}h", first, re.I):
        raise UserError(f"{first} is shorter than a trend's smallest bar (a day); try 7d, 90d or 12m")
    return (first, rest.strip()) if first and _WINDOW.match(first) else (DEFAULT_WINDOW, text.strip())


def render_customers_trend(deps: Deps, text: str, user_id: str, *, shared_by: str | None = None) -> Message:
    """The trend message for `/customers trend [window] [filters]` (default 90 days)."""
    now = deps.clock()
    label, filters = split_window(text)
    window = parse_window(label, now=now, default=DEFAULT_WINDOW)
    query = parse_query(filters, now=now, tz=deps.settings.timezone)
    if query.mrr_min is not None or query.mrr_max is not None:  # the kept daily totals have no MRR
        raise QueryError("mrr: does not apply to trends; `/finance trend` shows MRR over time")
    with read_scope(deps.engine) as session:
        trend = customer_trend(session=session, query=query, since=window.since or now, until=window.until or now)
    span = f"last {label}" if ".." not in label else label
    value = f"{label} {filters}".strip()
    return trend_message(trend, title=f"Customers trend · {span}", filters=query.summary, shared_by=shared_by,
                         share_value=value if slack_len(value) <= BUTTON_VALUE else None)


def reply_trend(deps: Deps, respond: Respond, body: dict[str, Any], text: str) -> None:
    """Answer `/customers trend ...` ephemerally, without chart blocks where the workspace refuses them."""
    user_id = user_of(body)
    with answering(respond, what="/customers trend"):
        msg = render_customers_trend(deps, text, user_id)
        respond_message(deps, respond, team_id=team_of(body), msg=msg)


def register(app: App, deps: Deps) -> None:
    """Register the trend's Share in channel button."""

    @app.action(TREND_SHARE)
    def trend_share(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        user_id, channel_id = user_of(body), channel_of(body)
        log_request(user_id, TREND_SHARE)
        value = action.get("value")
        if not isinstance(value, str) or slack_len(value) > BUTTON_VALUE:
            out_of_date(respond)
            return
        with answering(respond, what="trend share"):
            msg = render_customers_trend(deps, value, user_id, shared_by=user_id)
            if not claim_delivery(deps, delivery_key(body)):
                return  # Slack retried this click: the first delivery already shared it
            with telling_not_in_channel(respond, channel_id):
                post_message(deps, client, team_id=team_of(body), channel=channel_id, msg=msg)

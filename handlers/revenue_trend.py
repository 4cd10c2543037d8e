"""`/finance trend [window] [currency:XXX]`: one currency's MRR, its movements and earnings over time, as charts."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Respond

from bot.deps import Deps
from handlers.blocks.common import Message
from handlers.blocks.revenue_trend import pick_currency, revenue_trend_message, revenue_trend_plain
from handlers.charts_send import respond_message, team_of
from handlers.common import UserError, answering
from storage.db import read_scope
from storage.query import parse_window
from storage.revenue_trend import revenue_trend

DEFAULT_WINDOW = "12m"
_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_WINDOW = re.compile(rf"^([0-9]{{1,4}}[dwmy]|{_DAY}\.\.({_DAY})?)$", re.I)
_CURRENCY = re.compile(r"^currency:(.*)$", re.I)
EXAMPLE = "try `/finance trend 12m` or `/finance trend 24m currency:eur`"


def read_arguments(text: str) -> tuple[str, str | None]:
    """`24m currency:eur` -> ('24m', 'EUR'); the window defaults to 12 months, the currency to the largest MRR."""
    label: str | None = None
    currency: str | None = None
    for word in text.split():
        found = _CURRENCY.match(word)
        if found:
            if currency is not None:
                raise UserError(f"a trend shows one currency at a time; {EXAMPLE}")
            if not re.fullmatch(r"[A-Za-z]{3}", found.group(1)):
                raise UserError(f"{word} is not an ISO 4217 code; try currency:usd or currency:eur")
            currency = found.group(1).upper()
        elif re.fullmatch(r"[0-9]{1,4}h", word, re.I):
            raise UserError(f"{word} is shorter than a trend's smallest bar (a day); try 30d, 90d or 12m")
        elif _WINDOW.match(word) and label is None:
            label = word
        else:
            raise UserError(f"/finance trend takes a window and currency:, not {word!r}; {EXAMPLE}")
    return label or DEFAULT_WINDOW, currency


def finance_trend(deps: Deps, text: str) -> tuple[Message, Message]:
    """The trend message with its charts, and the same answer without them (for workspaces that refuse charts)."""
    now = deps.clock()
    label, asked = read_arguments(text)
    window = parse_window(label, now=now, default=DEFAULT_WINDOW)
    with read_scope(deps.engine) as session:
        trend = revenue_trend(session=session, since=window.since or now, until=window.until or now)
    currency = asked or pick_currency(trend) or "USD"
    span = f"last {label}" if ".." not in label else label
    title = f"MRR trend · {currency} · {span}" if trend.of(currency) else f"MRR trend · {span}"
    return (revenue_trend_message(trend, currency, title=title, window=label),
            revenue_trend_plain(trend, currency, title=title, window=label))


def render_finance_trend(deps: Deps, text: str, user_id: str) -> Message:
    """`/finance trend [window] [currency:XXX]` for a finance user (the caller checks finance access)."""
    return finance_trend(deps, text)[0]


def reply_finance_trend(deps: Deps, respond: Respond, body: dict[str, Any], text: str) -> None:
    """Answer `/finance trend ...` ephemerally; where the workspace refuses chart blocks, with the table instead."""
    with answering(respond, what="/finance trend"):
        msg, plain = finance_trend(deps, text)
        respond_message(deps, respond, team_id=team_of(body), msg=msg, plain=plain)

"""Finance answers: the balance per currency, and the payment and payout pages."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from handlers.blocks.common import (
    Block,
    Message,
    actions,
    clip,
    context,
    date_cell,
    day,
    escape_fallback,
    fields,
    format_money,
    header,
    message,
    plural,
    raw_cell,
    section,
    table,
)
from handlers.blocks.limits import MESSAGE_BLOCKS
from handlers.blocks.nav import TOO_LONG, PageState, page_buttons, page_summary, state_value
from storage.finance import Balance, PaymentRow
from storage.models import Payout
from storage.paging import Page

PAYOUT_MARKERS = {"paid": "✅", "pending": "🕓", "in_transit": "🚚", "failed": "❌", "canceled": "⚫"}
ORG_CELL = 60
PAYOUT_ID_CELL = 40
# Header, the closing context and a "more currencies" line leave room for one section per currency.
CURRENCIES_SHOWN = MESSAGE_BLOCKS - 3
RIGHT = {"align": "right"}


def refund_window_words(days: int) -> str:
    """The refund window in words: `payments become payable 14 days after they are made`."""
    if days <= 0:
        return "payments become payable as soon as they are made"
    return f"payments become payable {plural(days, 'day')} after they are made"


def balance_message(balances: list[Balance], *, refund_window_days: int, tz: tzinfo) -> Message:
    """Per currency: available now, pending in the refund window, next clearing, in transit, paid out, lifetime."""
    blocks: list[Block | None] = [header("Balance")]
    if not balances:
        blocks.append(section("No payments or payouts yet."))
    blocks += [_currency(b, tz) for b in balances[:CURRENCIES_SHOWN]]
    if len(balances) > CURRENCIES_SHOWN:
        more = balances[CURRENCIES_SHOWN:]
        blocks.append(context(f"And {plural(len(more), 'more currency', 'more currencies')}: "
                              + ", ".join(b.currency for b in more)))
    blocks.append(context(f"Figures are net of fees and refunds; {refund_window_words(refund_window_days)}."))
    summary = "; ".join(f"{b.currency} {format_money(b.available, b.currency)} available" for b in balances)
    return message(f"Balance: {summary}" if balances else "Balance: no payments yet", blocks)


def _currency(b: Balance, tz: tzinfo) -> Block:
    """One currency's figures as a two-column section."""
    def money(amount: int) -> str:
        return format_money(amount, b.currency)

    available = money(b.available)
    if b.available < 0:
        available = f":warning: {available}\n_negative: refunds came after the money was paid out_"
    upcoming = "nothing pending"
    if b.next_clearing_at is not None:
        upcoming = f"{money(b.next_clearing_amount)} on {day(b.next_clearing_at, tz)}"
    return fields(
        f"*Available now*\n{available}",
        f"*Pending (refund window)*\n{money(b.pending)}",
        f"*Next clearing*\n{upcoming}",
        f"*In transit*\n{money(b.in_transit)}",
        f"*Paid out*\n{money(b.paid_out)}",
        f"*Lifetime earnings*\n{money(b.lifetime)}",
        text=f"*{clip(b.currency, 10)}*",
    )


def _page(title: str, page: Page[Any], *, state: PageState, filters: str, head: list[str], rows: list[list[Block]],
          settings: list[dict[str, Any] | None], noun: str) -> Message:
    """A titled table page with its total, filters and Previous/Next."""
    summary = page_summary(total=page.total, capped=page.total_capped, shown=len(page.items), state=state,
                           noun=noun, filters=filters)
    blocks: list[Block | None] = [header(title), context(summary)]
    if rows:
        blocks.append(table(head, rows, settings))
    else:
        blocks.append(section(f"No {noun}s match. Try fewer filters; `/finance help` lists them."))
    blocks.append(actions(*page_buttons(state, prev_cursor=page.prev_cursor, next_cursor=page.next_cursor)))
    if state_value(state) is None and (page.next_cursor or page.prev_cursor):
        blocks.append(context(TOO_LONG))
    count = f"{page.total:,}+ {noun}s" if page.total_capped else plural(page.total, noun)
    return message(escape_fallback(f"{title}: {count}" + (f" ({filters})" if filters else "")), blocks)


def payments_page(page: Page[PaymentRow], *, state: PageState, filters: str, tz: tzinfo) -> Message:
    """A page of payments: organization, amount, fee, refunded, net and date."""
    rows = []
    for r in page.items:
        p = r.payment
        net = p.amount - p.fee - p.refunded_amount
        rows.append([
            raw_cell(clip(r.organization, ORG_CELL)), raw_cell(format_money(p.amount, p.currency)),
            raw_cell(format_money(p.fee, p.currency)),
            raw_cell(format_money(p.refunded_amount, p.currency) if p.refunded_amount else "—"),
            raw_cell(format_money(net, p.currency)), date_cell(p.created_at, tz),
        ])
    settings: list[dict[str, Any] | None] = [{"is_wrapped": True}, RIGHT, RIGHT, RIGHT, RIGHT]
    return _page("Payments", page, state=state, filters=filters, rows=rows, settings=settings, noun="payment",
                 head=["Organization", "Amount", "Fee", "Refunded", "Net", "Date"])


def payouts_page(page: Page[Payout], *, state: PageState, filters: str, tz: tzinfo) -> Message:
    """A page of payouts: id, amount, status, created and arrival dates."""
    rows = [[raw_cell(clip(p.external_id, PAYOUT_ID_CELL)), raw_cell(format_money(p.amount, p.currency)),
             raw_cell(f"{PAYOUT_MARKERS.get(p.status, '•')} {p.status.replace('_', ' ')}"),
             date_cell(p.created_at, tz), date_cell(p.arrival_date, tz)] for p in page.items]
    return _page("Payouts", page, state=state, filters=filters, rows=rows, settings=[None, RIGHT], noun="payout",
                 head=["Payout", "Amount", "Status", "Created", "Arrival"])

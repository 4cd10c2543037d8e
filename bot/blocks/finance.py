"""Finance answers: the balance per currency, payment and payout pages."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bot.blocks.common import (
    Block,
    Message,
    actions,
    clip,
    context,
    day,
    escape,
    format_money,
    header,
    local_day,
    message,
    nav_button,
    raw_cell,
    section,
)
from bot.blocks.nav import PAGE_NEXT, PAGE_PREV, PageState
from storage.finance import Balance, PaymentRow
from storage.models import Payout
from storage.paging import Page

PAYOUT_MARKERS = {"paid": "✅", "pending": "🕓", "in_transit": "🚚", "failed": "❌", "canceled": "⚫"}


def refund_window_words(days: int) -> str:
    """The refund window in words."""
    return f"payments become payable {days} day{'s' if days != 1 else ''} after they are made"


def balance_message(balances: list[Balance], *, refund_window_days: int, tz: tzinfo) -> Message:
    """Available now, pending, next clearing, in transit, paid out and lifetime earnings, per currency."""
    blocks: list[Block | None] = [header("Balance")]
    if not balances:
        blocks.append(section("No payments or payouts yet."))
    for b in balances[:20]:
        def m(amount: int, cur: str = b.currency) -> str:
            return format_money(amount, cur)

        warn = " :warning: negative after late refunds" if b.available < 0 else ""
        nxt = "nothing pending"
        if b.next_clearing_at:
            nxt = f"{m(b.next_clearing_amount)} on {day(b.next_clearing_at, tz)}"
        fields = [f"*Available now*\n{m(b.available)}{warn}", f"*Pending (refund window)*\n{m(b.pending)}",
                  f"*Next clearing*\n{nxt}", f"*In transit*\n{m(b.in_transit)}", f"*Paid out*\n{m(b.paid_out)}",
                  f"*Lifetime earnings*\n{m(b.lifetime)}"]
        blocks.append(section(f"*{b.currency}*"))
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]})
    blocks.append(context(f"Earnings are net of platform fees and refunds; {refund_window_words(refund_window_days)}."))
    text = "Balance: " + "; ".join(f"{b.currency} available {format_money(b.available, b.currency)}" for b in balances)
    return message(text if balances else "Balance: no payments yet", blocks)



def _page(title: str, page: Page[Any], state: PageState, filters: str, head: list[str],
          rows: list[list[str]]) -> Message:
    """A titled table page with its total and Previous/Next."""
    summary = f"{page.total:,} {title.lower()}" + (f" · page {state.page_no}" if page.total > len(page.items) else "")
    if filters:
        summary += f" · `{escape(clip(filters, 500))}`"
    blocks: list[Block | None] = [header(title), context(summary)]
    if rows:
        cells = [[raw_cell(h) for h in head]] + [[raw_cell(c) for c in r] for r in rows[:99]]
        blocks.append({"type": "table", "rows": cells,
                       "column_settings": [None, {"align": "right"}]})
    else:
        blocks.append(section(f"No {title.lower()} match. Try fewer filters."))
    blocks.append(actions(
        nav_button(PAGE_PREV, "◀ Previous", state, before=page.prev_cursor, page_no=state.page_no - 1)
        if page.prev_cursor else None,
        nav_button(PAGE_NEXT, "Next ▶", state, after=page.next_cursor, page_no=state.page_no + 1)
        if page.next_cursor else None,
    ))
    return message(f"{title}: {page.total:,}" + (f" ({filters})" if filters else ""), blocks)


def payments_page(page: Page[PaymentRow], *, state: PageState, filters: str, tz: tzinfo) -> Message:
    """A page of payments: organization, amount, fee, refunded, date."""
    rows = [[clip(r.organization, 60), format_money(r.payment.amount, r.payment.currency),
             format_money(r.payment.fee, r.payment.currency),
             format_money(r.payment.refunded_amount, r.payment.currency) if r.payment.refunded_amount else "—",
             local_day(r.payment.created_at, tz)] for r in page.items]
    return _page("Payments", page, state, filters, ["Organization", "Amount", "Fee", "Refunded", "Date"], rows)


def payouts_page(page: Page[Payout], *, state: PageState, filters: str, tz: tzinfo) -> Message:
    """A page of payouts: id, amount, status, created and arrival dates."""
    rows = [[clip(p.external_id, 60), format_money(p.amount, p.currency),
             f"{PAYOUT_MARKERS.get(p.status, '•')} {p.status.replace('_', ' ')}", local_day(p.created_at, tz),
             local_day(p.arrival_date, tz)] for p in page.items]
    return _page("Payouts", page, state, filters, ["Payout", "Amount", "Status", "Created", "Arrival"], rows)
